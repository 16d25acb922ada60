"""Gate events per second through ``POST /api/v1/parking/events`` on gunicorn with PostgreSQL, next to the bare
``POST /api/v1/quotes`` measured in the same run (issue 15's goal: a city's evening peak, 2,000 events/s on
2 cores; the ratio shows where it stands).

The real gateway (``wsgi:app``) runs under the same gunicorn as ``bench.payments`` (``WORKERS`` sync workers)
on a fresh database, seeded with the fee catalogue, the rules and the demo lots; an operator's API client
(``HN-PARKING``, ``parking`` scope) sends the events. The stream is made beforehand (``gate_events``): many
distinct vehicles at ``HK-HANG-KHAY`` (mostly motorbikes, every eighth a car), each with a unique plate and
unique event ids, an entry on an evening two days ago and an exit after a stay of minutes to hours, sent
``LAG`` vehicles after its entry, so every exit closes, prices and bills a session while ``LAG`` vehicles per
wrk thread are parked; one stay in fifty is within the lot's grace (priced 0, no bill). wrk replays the
stream with ``bench/parking_events.lua``, each request from a client address of its own behind one trusted
proxy, as a balancer in front of the gateway would pass the gates' addresses on (the per-address limits of
one person must not apply to a city's gates); the quotes run with the same concurrency and addresses.
Rounds of the two alternate. Afterwards SQL checks that every exit made a closed, priced session, every
charge a bill, and that nothing was flagged. Any non-2xx answer or socket error fails the run after the
table is printed. Set ``BENCH_PARKING_ROUNDS`` (default 3) and ``BENCH_PARKING_SECONDS`` (default 8);
GATEWAY_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/bench_parking; it is reset).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import tempfile
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from agencies.clients import ClientSpec, register_client
from bench.agency_api import QUOTE
from bench.database import fresh_database
from bench.deployed_load import _cpu_seconds
from bench.http import ROOT, gunicorn, wrk
from bench.payments import CONNECTIONS, WORKERS
from core.clock import SYSTEM_CLOCK, VIETNAM
from core.settings import Settings
from parking.lots import seed_lots
from subsidies.seed import seed_catalogue, seed_rules
from web.agency_runtime import keyring_for

ROUNDS = int(os.environ.get("BENCH_PARKING_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_PARKING_SECONDS", "8"))
WARM_UP_SECONDS = 2
THREADS = 2
GOAL = 2_000
#: The stream lasts this many events a second for a whole round (twice the goal); beyond it wrk's requests 404.
BUDGET = 2 * GOAL
#: Vehicles parked at a time per wrk thread: an exit is sent this many vehicles after its entry (with
#: CONNECTIONS / THREADS requests of a thread in flight, the entry has long been answered).
LAG = 16
OPERATOR, LOT = "HN-PARKING", "HK-HANG-KHAY"
EVENTS, QUOTES = "POST /api/v1/parking/events", "POST /api/v1/quotes (baseline)"
PATHS = {EVENTS: "/api/v1/parking/events", QUOTES: "/api/v1/quotes"}
LUA = str(ROOT / "bench" / "parking_events.lua")
#: Plate series letters (one per round) and Hà Nội's province codes (one per wrk thread).
SERIES = "ABCDEFGHKLMNPSTUVXYZ"
PROVINCES = ("29", "30", "31", "32", "33", "40")
SECRET_KEY = "bench-parking-secret-key-" + "k" * 32


def vehicle(series: str, thread: int, number: int) -> dict[str, str]:
    """Vehicle ``number`` of a (series, thread): a car ``29B-001.23`` every eighth, else a motorbike
    ``29B1-001.23``; distinct plates for distinct arguments (cars' plates are one character shorter)."""
    if not 0 <= number < 100_000 or len(series) != 1:
        raise ValueError("a vehicle number has at most five digits and a series one letter")
    digits = f"{number // 100:03d}.{number % 100:02d}"
    if number % 8 == 0:
        return {"plate": f"{PROVINCES[thread - 1]}{series}-{digits}", "class": "CAR"}
    return {"plate": f"{PROVINCES[thread - 1]}{series}1-{digits}", "class": "MOTORBIKE"}


def stay(number: int) -> timedelta:
    """How long vehicle ``number`` stays: 25 minutes to 4 hours, one in fifty within the 10 minutes' grace."""
    return timedelta(minutes=6) if number % 50 == 7 else timedelta(minutes=25 + number * 7919 % 215)


def gate_events(series: str, thread: int, count: int, *, evening: datetime, lag: int = LAG) -> Iterator[dict]:
    """``count`` gate events in the order they are sent: vehicles enter one after another from ``evening``
    (every 0.75 s at the lot's gates) and each leaves ``lag`` entries later, after its ``stay``."""
    entered = left = 0
    for _ in range(count):
        if entered - left >= lag:
            number, kind, at = left, "exit", evening + timedelta(seconds=left * 0.75) + stay(left)
            left += 1
        else:
            number, kind, at = entered, "entry", evening + timedelta(seconds=entered * 0.75)
            entered += 1
        car = vehicle(series, thread, number)
        credential = ({"kind": "rfid", "value": f"E20000{thread}{SERIES.index(series):02d}{number:06d}"}
                      if car["class"] == "CAR" else {"kind": "ticket_qr", "value": f"T-{series}{thread}-{number:05d}"})
        yield {"event_id": f"g{thread}-{series}-{number:05d}-{kind}", "lot": LOT, "type": kind,
               "at": at.isoformat(timespec="seconds"), "vehicle": car, "credential": credential}


def evening_before_last(now: datetime | None = None) -> datetime:
    """17:00 in Việt Nam two days ago: the evening peak, every stay of it over before today begins."""
    day = (now or SYSTEM_CLOCK.now()).astimezone(VIETNAM).date() - timedelta(days=2)
    return datetime.combine(day, time(17), tzinfo=VIETNAM)


def write_lines(prefix: Path, per_thread: dict[int, Iterator[dict]]) -> None:
    """Write each wrk thread's bodies to ``<prefix>-<thread>.jsonl``, one JSON body a line."""
    for thread, bodies in per_thread.items():
        with open(f"{prefix}-{thread}.jsonl", "w") as out:
            out.writelines(json.dumps(body, ensure_ascii=False) + "\n" for body in bodies)


def gateway_env(folder: str, url: str) -> dict[str, str]:
    """The gateway's settings: the bench database, a fixed key (the client is registered here, the API key
    checked in gunicorn's workers), one trusted proxy, warnings only in the log."""
    return {"GATEWAY_INSTANCE_PATH": folder, "GATEWAY_DATABASE_URL": url, "GATEWAY_SECRET_KEY": SECRET_KEY,
            "GATEWAY_TRUSTED_PROXIES": "1", "GATEWAY_LOG_LEVEL": "WARNING"}


def prepare(url: str, env: dict[str, str]) -> str:
    """Seed the catalogue, the rules and the demo lots; register the operator's client; return its API key."""
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        seed_catalogue(session)
        seed_rules(session)
        seed_lots(session, clock=SYSTEM_CLOCK)
        spec = ClientSpec(name="Hệ thống bãi xe Hàng Khay (bench)", agency_code=OPERATOR,
                          service_codes=("PARKING_HN",), scopes=("parking",), rate_limit_per_minute=100_000)
        key = register_client(session, spec, keyring=keyring_for(Settings.from_env(env)), actor="bench",
                              clock=SYSTEM_CLOCK).api_key
    engine.dispose()
    return key


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        if stat and int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def cpu_now(engine: Engine) -> dict[str, dict[int, float]]:
    """CPU seconds so far, by process: gunicorn's workers (children of the gunicorn this process started), the
    PostgreSQL backends connected to the bench database (not the machine's other clients'), and wrk
    (finished children of this process, as one)."""
    masters = [pid for pid in _children(os.getpid()) if Path(f"/proc/{pid}/comm").read_text().strip() == "gunicorn"]
    with engine.connect() as connection:
        backends = connection.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))
        backends = backends.all()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"web workers": {pid: _cpu_seconds(pid) for master in masters for pid in _children(master)},
            "PostgreSQL": {pid: _cpu_seconds(pid) for pid in backends},
            "wrk": {0: children.ru_utime + children.ru_stime}}


def _spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    return {part: sum(seconds - before[part].get(pid, 0.0) for pid, seconds in after[part].items())
            for part in after}


def load(base: str, engine: Engine, name: str, prefix: Path, seconds: int, octet: int, *, cycle: bool,
         key: str = "") -> dict:
    """One wrk run of ``name`` over the bodies at ``prefix``; return wrk's numbers, its exact counts and the
    CPU milliseconds per answered request by part."""
    before = cpu_now(engine)
    result = wrk(base + PATHS[name], seconds=seconds, connections=CONNECTIONS, threads=THREADS, script=LUA,
                 script_args=(str(prefix), str(octet), "1" if cycle else "0", key))
    spent = _spent(before, cpu_now(engine))
    counts = json.loads(Path(f"{prefix}-summary.json").read_text())
    answered = max(1, counts["responses"])
    errors = {kind: counts[kind] for kind in ("status", "connect", "read", "write", "timeout") if counts[kind]}
    return {**result, "responses": counts["responses"], "errors": errors, "exhausted": counts["exhausted"],
            "cpu_ms": {part: seconds * 1000 / answered for part, seconds in spent.items()}}


def measure(base: str, engine: Engine, key: str, folder: Path,
            evening: datetime) -> tuple[dict[str, list[dict]], int]:
    """A warm-up of each, then ``ROUNDS`` interleaved rounds of events and quotes; return the rounds' numbers
    and how many events were answered in all (warm-up included)."""
    quotes = folder / "quotes"
    write_lines(quotes, {thread: iter([QUOTE]) for thread in range(1, THREADS + 1)})
    results: dict[str, list[dict]] = {EVENTS: [], QUOTES: []}
    answered = 0
    for number in range(ROUNDS + 1):  # round 0 warms every worker up (rule set, pools) and is not counted
        seconds = SECONDS if number else WARM_UP_SECONDS
        series, prefix = SERIES[number], folder / f"events-{number}"
        per_thread = BUDGET * seconds // THREADS
        write_lines(prefix, {thread: gate_events(series, thread, per_thread, evening=evening)
                             for thread in range(1, THREADS + 1)})
        octet = number * 2 * THREADS
        rounds = {EVENTS: load(base, engine, EVENTS, prefix, seconds, octet, cycle=False, key=key),
                  QUOTES: load(base, engine, QUOTES, quotes, seconds, octet + THREADS, cycle=True)}
        answered += rounds[EVENTS]["responses"]
        if number:
            for name, result in rounds.items():
                results[name].append(result)
    return results, answered


def checks(url: str) -> dict[str, int]:
    """What the events wrote: events by type, sessions by status, flagged, priced, billed, and the bills."""
    queries = {
        "entries": "SELECT count(*) FROM parking_events WHERE type = 'entry'",
        "exits": "SELECT count(*) FROM parking_events WHERE type = 'exit'",
        "open": "SELECT count(*) FROM parking_sessions WHERE status = 'open'",
        "closed": "SELECT count(*) FROM parking_sessions WHERE status = 'closed'",
        "other sessions": "SELECT count(*) FROM parking_sessions WHERE status NOT IN ('open', 'closed')",
        "flagged": "SELECT count(*) FROM parking_sessions WHERE CAST(flags AS text) <> '[]'",
        "closed unpriced": "SELECT count(*) FROM parking_sessions WHERE status = 'closed' AND amount IS NULL",
        "to pay": "SELECT count(*) FROM parking_sessions WHERE status = 'closed' AND amount > 0",
        "free": "SELECT count(*) FROM parking_sessions WHERE status = 'closed' AND amount = 0",
        "billed": "SELECT count(*) FROM parking_sessions WHERE bill_id IS NOT NULL",
        "charged": "SELECT coalesce(sum(amount), 0) FROM parking_sessions WHERE status = 'closed'",
        "bills": "SELECT count(*) FROM bills WHERE agency_code = :operator",
        "billed amount": "SELECT coalesce(sum(amount_due), 0) FROM bills WHERE agency_code = :operator",
    }
    engine = create_engine(url)
    with engine.connect() as connection:
        counts = {name: int(connection.scalar(text(sql), {"operator": OPERATOR})) for name, sql in queries.items()}
    engine.dispose()
    return counts


def consistent(counts: dict[str, int]) -> bool:
    """Every exit closed its vehicle's session, every entry without one left it open, every charge is a bill."""
    return (counts["closed"] == counts["exits"] and counts["open"] == counts["entries"] - counts["exits"]
            and counts["other sessions"] == counts["flagged"] == counts["closed unpriced"] == 0
            and counts["to pay"] == counts["billed"] == counts["bills"]
            and counts["charged"] == counts["billed amount"])


def _mean(rounds: list[dict], field: str) -> float:
    return statistics.mean(r[field] for r in rounds)


def report(results: dict[str, list[dict]], counts: dict[str, int]) -> dict[str, float]:
    """Print the table, the ratio, the goal and where the CPU went; return the numbers."""
    rates = {name: _mean(rounds, "rps") for name, rounds in results.items()}
    errors = {name: sum(sum(r["errors"].values()) for r in rounds) for name, rounds in results.items()}
    print(f"the gateway (wsgi:app) on gunicorn, {WORKERS} sync workers; wrk {THREADS} threads x {CONNECTIONS} "
          f"connections, each request from its own address behind one trusted proxy; {ROUNDS} interleaved rounds "
          f"of {SECONDS} s after a {WARM_UP_SECONDS} s warm-up; PostgreSQL; {os.cpu_count()} cores")
    print(f"  {'':36} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7}   rounds")
    for name, rounds in results.items():
        listed = ", ".join(f"{r['rps']:,.0f}" for r in rounds)
        print(f"  {name:36} {rates[name]:8,.0f} {_mean(rounds, 'p50_ms'):7.1f} {_mean(rounds, 'p99_ms'):7.1f} "
              f"{errors[name]:7}   {listed}")
    events = rates[EVENTS]
    print(f"  ratio events / quotes: {events / rates[QUOTES]:.2f}")
    print(f"  goal {GOAL:,} events/s on 2 cores: {events:,.0f} events/s is {events / GOAL:.2f} of it "
          + (f"({GOAL - events:,.0f}/s short)" if events < GOAL else "(met)"))
    for name, rounds in results.items():
        cpu = {part: statistics.mean(r["cpu_ms"][part] for r in rounds) for part in rounds[0]["cpu_ms"]}
        print(f"  CPU ms per request, {name.split(' (')[0]}: " + ", ".join(f"{part} {ms:.2f}" for part, ms in
                                                                            cpu.items()))
    print(f"  afterwards: {counts['entries']:,} entries and {counts['exits']:,} exits recorded ({counts['answered']:,} "
          f"answered, warm-up included); sessions closed "
          f"{counts['closed']:,} ({counts['to pay']:,} to pay, {counts['free']:,} within the grace), open "
          f"{counts['open']:,}, flagged {counts['flagged']}, unpriced {counts['closed unpriced']}; bills "
          f"{counts['bills']:,} for {counts['billed amount']:,} ₫ (sessions' charges {counts['charged']:,} ₫)")
    return {"events_rps": events, "quotes_rps": rates[QUOTES], "ratio": events / rates[QUOTES],
            "goal_fraction": events / GOAL, "errors": sum(errors.values())}


def run() -> dict[str, float]:
    """Reset the database, serve the gateway, measure, check; print and return the numbers."""
    url = fresh_database("bench_parking")
    with tempfile.TemporaryDirectory() as folder:
        env = gateway_env(folder, url)
        key = prepare(url, env)
        engine = create_engine(url)
        with gunicorn("wsgi:app", workers=WORKERS, env=env) as base:
            results, answered = measure(base, engine, key, Path(folder), evening_before_last())
        engine.dispose()
    counts = checks(url) | {"answered": answered}  # after gunicorn's graceful stop: none is left in flight
    numbers = report(results, counts)
    exhausted = sum(r["exhausted"] for rounds in results.values() for r in rounds)
    problems = [f"{name}: {kinds}" for name, rounds in results.items() for r in rounds
                if (kinds := r["errors"])]
    if exhausted:
        problems.append(f"{exhausted} requests found the stream's {BUDGET:,} events/s used up (raise BUDGET)")
    recorded = counts["entries"] + counts["exits"]
    if not answered <= recorded <= answered + CONNECTIONS * (ROUNDS + 1):  # wrk leaves a request a connection
        problems.append(f"{answered:,} events answered but {recorded:,} recorded")
    if not consistent(counts):
        problems.append(f"the events did not make what they should: {counts}")
    if problems:
        raise SystemExit("parking events bench failed: " + "; ".join(problems))
    return numbers


if __name__ == "__main__":
    run()
