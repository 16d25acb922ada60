"""The deployed-shape tier: the gateway started exactly as `make run` and production start it.

Every test here talks to real processes (`gateway serve` with two gunicorn workers, `gateway worker`) over
loopback, on SQLite with the SQLite queue (the embedded default) and on PostgreSQL with Redis (production).
"""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests.conftest import postgres_url
from tests.deployment import REDIS_URL, deployed

pytestmark = pytest.mark.slow


def deployed_postgres_url() -> str:
    """A database of its own on the tests' PostgreSQL server (created when missing)."""
    url = make_url(postgres_url()).set(database=make_url(postgres_url()).database + "_deployed")
    server = create_engine(make_url(postgres_url()).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": url.database})
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        server.dispose()
    return url.render_as_string(hide_password=False)


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def require_production_parts() -> str:
    """The PostgreSQL URL for the production shape; under CI a missing PostgreSQL or Redis fails the run."""
    try:
        url = deployed_postgres_url()
    except OperationalError as exc:
        reason = f"PostgreSQL unreachable: {str(exc).splitlines()[0]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    if not _redis_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis unreachable at {REDIS_URL}", pytrace=False)
        pytest.skip(f"Redis unreachable at {REDIS_URL}")
    return url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shape(request, tmp_path_factory):
    """The demo data of `make run`, served by one node of two gunicorn workers and one job worker.

    Refunds above 100,000 đ need a second person here, so the demo bills' refunds go through approval.
    """
    postgres = require_production_parts() if request.param == "postgresql" else None
    with deployed(tmp_path_factory.mktemp(f"deployed-{request.param}"), backend=request.param, seed="demo",
                  postgres_url=postgres, GATEWAY_REFUND_APPROVAL_THRESHOLD="100000") as deployment:
        yield deployment
        failures = deployment.failures()
    assert not failures, f"failed requests or jobs: {failures}"


# -- steps the journey files share ------------------------------------------------------------------------

def log_in_citizen(page, name: str) -> None:
    """On the stand-in's page choose the citizen ``name`` and consent when asked."""
    page.get_by_role("button", name=name).click()
    page.wait_for_load_state()
    consent = page.get_by_role("button", name="Tôi đồng ý và tiếp tục")
    if consent.count():
        consent.click()
        page.wait_for_load_state()


def staff_page(chromium, base_url: str, path: str, name: str):
    """A browser of its own for one staff member, logged in at the stand-in, on ``path``."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    tab = context.new_page()
    tab.goto(base_url + path)
    tab.get_by_role("button", name=name).click()
    tab.wait_for_url(re.compile(re.escape(base_url + path)))
    return context, tab


def record_answers(page, answers: list) -> None:
    """Append ``(status, url)`` of every response the page gets to ``answers`` (to check none is a 5xx)."""
    page.on("response", lambda response: answers.append((response.status, response.url)))


def get(url: str, cookies: dict[str, str] | None = None) -> tuple[int, str]:
    """GET ``url`` outside the browser (with the browser's ``cookies``); return the status and the body."""
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=20) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def get_concurrently(url: str | list[str], count: int = 24, cookies: dict[str, str] | None = None
                     ) -> list[tuple[int, str]]:
    """``count`` concurrent GETs of ``url`` (or of each URL of a list, in turn): the kernel hands them to
    every gunicorn worker. Returns ``(status, body)`` in order."""
    urls = [url] if isinstance(url, str) else url
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda i: get(urls[i % len(urls)], cookies), range(count)))


def browser_cookies(page) -> dict[str, str]:
    """The cookies of the page's browser, to send the same session from outside it."""
    return {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}


def workers_serving(deployment, path: str) -> set[int]:
    """The pids of the web workers whose access log shows a request for ``path``."""
    return {r["pid"] for r in deployment.records("web") if r.get("logger") == "gateway.access"
            and r.get("path") == path}
