"""A real job worker for the crash test: its job writes a row, then (the first time) hangs until killed.

Run as ``python -m tests.web.crash_worker`` with GATEWAY_* variables and CRASH_MARKER set.
"""

import os
import time
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from core.outbox import job_handler

metadata = MetaData()
#: Each committed run of the job adds one row here.
crash_effects = Table("test_crash_effects", metadata, Column("id", Integer, primary_key=True),
                      Column("label", String(50)))


@job_handler("test.crash_once")
def crash_once(session, payload):
    session.execute(insert(crash_effects).values(label=payload["label"]))
    session.flush()
    marker = Path(os.environ["CRASH_MARKER"])
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(120)  # the test kills this process here, mid-job, with the row written but not committed


def main() -> None:
    from core.db import make_engine, make_session_factory
    from core.settings import Settings
    from web.jobs import build_queue, run_worker

    settings = Settings.from_env()
    queue = build_queue(settings, make_session_factory(make_engine(settings.database_url)),
                        name=os.environ["CRASH_QUEUE_NAME"])
    run_worker(queue, threads=1)


if __name__ == "__main__":
    main()
