"""A process that does one real piece of work and is killed at one of its recovery points.

Run as ``python -m tests.recovery_points POINT DATABASE_URL INSTANCE_PATH ARGUMENT``. The step named by POINT
is replaced by ``os._exit(137)``: the process is gone mid-work, with no rollback handler, no lock release and
no lease given back, as a worker killed with ``kill -9`` would be. ``tests/payments/test_recovery_points.py``
then checks that what was left is either nothing or something the gateway finishes by itself, once.

Points: ``bill_before_commit`` (the agency API's bill flushed, its transaction not committed),
``bill_after_commit`` (committed, the HTTP answer never sent), ``notification_applied`` (the refresh job has
moved the payment to succeeded and posted the capture, not committed), ``refund_paid_out`` (the provider
paid the refund out, nothing recorded).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from core.outbox import run_job

#: The exit status of a process killed by SIGKILL (128 + 9), told apart from an exception's 1.
KILLED = 137


def _die(*_args, **_kwargs):
    os._exit(KILLED)


def _app(database_url: str, instance: str):
    from gateway import create_app
    from tests.conftest import make_test_settings

    return create_app(make_test_settings(Path(instance), database_url))


def _create_bill(database_url: str, instance: str, argument: str) -> None:
    request = json.loads(argument)
    client = _app(database_url, instance).test_client()
    client.post("/api/v1/bills", json=request["body"], headers=request["headers"])


def bill_before_commit(database_url: str, instance: str, argument: str) -> None:
    from citizen.api import bills

    bills.idempotency.finish = _die
    _create_bill(database_url, instance, argument)


def bill_after_commit(database_url: str, instance: str, argument: str) -> None:
    from gateway import app as app_module

    committed = app_module.commit_request_session

    def commit_then_die() -> None:
        committed()
        _die()

    app_module.commit_request_session = commit_then_die
    _create_bill(database_url, instance, argument)


def _run_job_dying_in(target_module, name: str, database_url: str, instance: str, job_id: str) -> None:
    app = _app(database_url, instance)  # the worker's wiring: providers, keyring, handlers
    setattr(target_module, name, _die)
    run_job(app.extensions["gateway.db"].session_factory, int(job_id), lease_seconds=60)


def notification_applied(database_url: str, instance: str, job_id: str) -> None:
    from payments import settlement

    _run_job_dying_in(settlement, "issue_settlement_receipt", database_url, instance, job_id)


def refund_paid_out(database_url: str, instance: str, job_id: str) -> None:
    from payments import refunds

    _run_job_dying_in(refunds, "_book_paid_out", database_url, instance, job_id)


POINTS = {f.__name__: f for f in (bill_before_commit, bill_after_commit, notification_applied, refund_paid_out)}

if __name__ == "__main__":
    point, url, instance_path, value = sys.argv[1:5]
    POINTS[point](url, instance_path, value)
    sys.exit(f"{point}: the work finished but the process did not die")
