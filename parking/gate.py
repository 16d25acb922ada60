"""Gate events in, sessions out: record an operator's event once, then rebuild its vehicle's sessions.

Design overview
---------------
* An event is recorded once per ``(operator, event_id)`` (``ON CONFLICT DO NOTHING``): a retry, or ten
  copies at once, find the first and answer what it made; the same id with other content is refused
  (``EventIdReused``), never taken for a retry.
* Then the vehicle's sessions at the lot are rebuilt from *all* its events (``parking.pairing``) under a
  lock on that vehicle, so the order events arrive in does not matter: a late entry turns an
  ``exit_without_entry`` session into an ordinary one, an entry arriving between two others supersedes
  the one before. Sessions keep their ids: each is matched to its pair by its entry, else its exit.
* A session is priced once, when it closes, from the tariff in force (``parking.pricing``), and keeps
  that price and its rule set; a stay within the plate's paid monthly passes at the lot is 0 đ
  (``parking.passes``). An exit without an entry is priced as the lot's rule says (a stay of
  ``unmatched_exit_hours`` ending at the exit) and flagged.
* Each session's charge follows its price (``parking.charges``): a bill when it closes with something to pay,
  requoted or cancelled while unpaid when late events change it, flagged when it is already being paid.
* Gate clocks drift: an event more than an hour ahead of ours is refused; one more than five minutes
  ahead is taken and its session flagged ``clock_skew`` for staff.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.clock import Clock, ensure_utc
from identity.personal_data import PersonalIdVault
from parking import pairing, passes
from parking.charges import keep_charge_in_step
from parking.errors import EventIdReused, EventInvalid
from parking.lots import lot_of
from parking.models import CREDENTIAL_KINDS, EVENT_TYPES, GateEvent, ParkingLot, ParkingOperator, ParkingSession
from parking.plates import normalise_plate, plate_problem
from parking.pricing import StayRequest, price_stay
from payments.sql import insert_entity_if_absent
from subsidies.compiler import CompiledRuleSet

log = logging.getLogger(__name__)

SKEW_FLAG = timedelta(minutes=5)
SKEW_REFUSED = timedelta(hours=1)
CLOCK_SKEW = "clock_skew"


@dataclass(frozen=True)
class GateEventIn:
    """An event as an operator's system sends it."""

    event_id: str
    lot: str
    type: str
    at: datetime
    plate: str
    vehicle_class: str
    credential_kind: str
    credential: str

    def digest(self) -> str:
        """SHA-256 of the event's content: a retry must send exactly this again."""
        body = {**vars(self), "at": ensure_utc(self.at).isoformat()}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Taken:
    """What an event made: the session it belongs to now, and whether it had been sent before."""

    event: GateEvent
    session: ParkingSession
    repeated: bool


def take_event(session: Session, operator: ParkingOperator, sent: GateEventIn, *, rule_set: CompiledRuleSet,
               vault: PersonalIdVault, clock: Clock) -> Taken:
    """Record ``sent`` once and rebuild its vehicle's sessions and their charges; return the event's session."""
    lot = lot_of(session, operator, sent.lot)
    values = _values(operator, lot, sent, clock)
    event = insert_entity_if_absent(session, GateEvent, values, ["operator_id", "event_id"])
    if event is None:  # sent before (or by a copy a moment ago, which we waited for)
        first = session.scalars(select(GateEvent).where(GateEvent.operator_id == operator.id,
                                                        GateEvent.event_id == sent.event_id)).one()
        if first.digest != values["digest"]:
            raise EventIdReused(f"event id {sent.event_id!r} was used for another event",
                                details={"event_id": sent.event_id})
        return Taken(first, session_of(session, first), repeated=True)
    rebuild(session, operator, lot, event.plate, rule_set=rule_set, vault=vault, clock=clock)
    return Taken(event, session_of(session, event), repeated=False)


def _values(operator: ParkingOperator, lot: ParkingLot, sent: GateEventIn, clock: Clock) -> dict:
    now, at, plate = clock.now(), ensure_utc(sent.at), normalise_plate(sent.plate)
    problems = []
    if sent.type not in EVENT_TYPES:
        problems.append(f"type must be one of {', '.join(EVENT_TYPES)}")
    if sent.vehicle_class not in lot.vehicle_classes:
        problems.append(f"lot {lot.code} takes {', '.join(lot.vehicle_classes)}, not {sent.vehicle_class}")
    if sent.credential_kind not in CREDENTIAL_KINDS:
        problems.append(f"credential kind must be one of {', '.join(CREDENTIAL_KINDS)}")
    if plate_problem(plate):
        problems.append(plate_problem(plate))
    if at - now > SKEW_REFUSED:
        problems.append(f"the event's time is more than {SKEW_REFUSED} ahead of the gateway's clock")
    if problems:
        raise EventInvalid("; ".join(problems), details={"event_id": sent.event_id, "problems": problems})
    return {"operator_id": operator.id, "event_id": sent.event_id, "digest": sent.digest(), "lot_id": lot.id,
            "type": sent.type, "occurred_at": at, "plate": plate, "vehicle_class": sent.vehicle_class,
            "credential_kind": sent.credential_kind, "credential": sent.credential, "received_at": now,
            "skew_seconds": int((at - now).total_seconds())}


def rebuild(session: Session, operator: ParkingOperator, lot: ParkingLot, plate: str, *, rule_set: CompiledRuleSet,
            vault: PersonalIdVault, clock: Clock) -> None:
    """Make the vehicle's sessions at ``lot`` (and their charges) what its events say (see the docstring)."""
    _lock_vehicle(session, lot.id, plate)
    events = {e.id: e for e in session.scalars(select(GateEvent).where(GateEvent.lot_id == lot.id,
                                                                       GateEvent.plate == plate))}
    pairs = pairing.pair(pairing.Event(e.id, e.type, e.occurred_at) for e in events.values())
    existing = list(session.scalars(select(ParkingSession).where(ParkingSession.lot_id == lot.id,
                                                                 ParkingSession.plate == plate)))
    matched = _match(pairs, existing)
    for row in matched.values():  # let go of every event first: one may move to another session
        row.entry_event_id = row.exit_event_id = None
    session.flush()
    now = clock.now()
    for index, found in enumerate(pairs):
        row = matched.get(index) or _new_session(session, lot, events, found, now)
        _apply(session, row, lot, events, found, rule_set, now)
        session.flush()  # a new session has its id before its bill names it
        keep_charge_in_step(session, operator, lot, row, vault=vault, clock=clock)
    for row in existing:
        if row not in matched.values():  # cannot happen while events are never deleted; kept honest
            log.error("a parking session lost its events", extra={"session": row.public_id})
    session.flush()


def _lock_vehicle(session: Session, lot_id: int, plate: str) -> None:
    # Two events of one vehicle at once must not rebuild from two different views. SQLite's one writer
    # already serialises them; PostgreSQL takes a transaction-scoped advisory lock on the vehicle.
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"parking:{lot_id}:{plate}".encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _match(pairs: list[pairing.Pair], existing: list[ParkingSession]) -> dict[int, ParkingSession]:
    """Each pair's existing session: the one with its entry, else the one with its exit (not taken yet)."""
    by_entry = {row.entry_event_id: row for row in existing if row.entry_event_id is not None}
    by_exit = {row.exit_event_id: row for row in existing if row.exit_event_id is not None}
    matched: dict[int, ParkingSession] = {}
    taken: set[int] = set()
    for index, found in enumerate(pairs):
        row = by_entry.get(found.entry.id) if found.entry else None
        if row is None and found.exit is not None:
            row = by_exit.get(found.exit.id)
        if row is not None and row.id not in taken:
            matched[index] = row
            taken.add(row.id)
    return matched


def _new_session(session: Session, lot: ParkingLot, events: dict, found: pairing.Pair, now) -> ParkingSession:
    first = found.entry or found.exit
    row = ParkingSession(public_id="PK" + secrets.token_hex(8).upper(), lot_id=lot.id, plate=events[first.id].plate,
                         vehicle_class=events[first.id].vehicle_class, status=found.status, flags=[],
                         currency="VND", created_at=now, updated_at=now)
    session.add(row)
    return row


def _apply(session: Session, row: ParkingSession, lot: ParkingLot, events: dict, found: pairing.Pair,
           rule_set: CompiledRuleSet, now) -> None:
    entry, exit_ = (events[found.entry.id] if found.entry else None), (events[found.exit.id] if found.exit else None)
    moved = (row.entered_at, row.exited_at) != (entry and entry.occurred_at, exit_ and exit_.occurred_at)
    row.entry_event_id, row.exit_event_id = entry and entry.id, exit_ and exit_.id
    row.entered_at, row.exited_at = entry and entry.occurred_at, exit_ and exit_.occurred_at
    row.status = found.status
    skewed = any(e is not None and e.skew_seconds > SKEW_FLAG.total_seconds() for e in (entry, exit_))
    row.flags = [*found.flags, *([CLOCK_SKEW] if skewed else [])]
    if found.status != pairing.CLOSED:
        row.amount, row.pricing = None, None
    elif moved or row.pricing is None:
        priced = price_stay(rule_set, _stay(session, lot, row, exit_))
        row.amount, row.pricing = priced.amount.amount, priced.to_dict()
    row.updated_at = now


def _stay(session: Session, lot: ParkingLot, row: ParkingSession, exit_: GateEvent) -> StayRequest:
    entered = row.entered_at or exit_.occurred_at - timedelta(hours=lot.unmatched_exit_hours)
    right = passes.right_for(session, lot.id, row.plate, entered, exit_.occurred_at) if lot.pass_service else None
    return StayRequest(lot.tariff_service, row.vehicle_class, entered, exit_.occurred_at, zone=lot.zone,
                       grace=timedelta(minutes=lot.grace_minutes), right=right)


def session_of(session: Session, event: GateEvent) -> ParkingSession:
    """The session an event belongs to."""
    return session.scalars(select(ParkingSession).where(
        (ParkingSession.entry_event_id == event.id) | (ParkingSession.exit_event_id == event.id))).one()
