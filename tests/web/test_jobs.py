"""The job queue wiring: every scheduled job exists, and a time slot is staged once across schedulers."""

from sqlalchemy import func, select

from core.outbox import OutboxJob, registered_jobs
from tests.conftest import empty_all_tables, make_test_settings
from web.jobs import JOB_MODULES, PERIODIC_JOBS, build_queue


def test_every_periodic_job_has_a_registered_handler(app):
    assert JOB_MODULES and set(PERIODIC_JOBS) <= set(registered_jobs())


def test_two_schedulers_stage_one_slot_once(tmp_path, database_url, session_factory, fresh_engine):
    queue = build_queue(make_test_settings(tmp_path, database_url), session_factory)
    try:
        assert queue.stage_periodic("subsidies.expire_quotes") is True
        other_node = build_queue(make_test_settings(tmp_path, database_url), session_factory)
        staged_again = other_node.stage_periodic("subsidies.expire_quotes")
        with session_factory() as session:
            count = session.scalar(select(func.count()).select_from(OutboxJob))
        # Unless the minute turned between the two calls, the second scheduler finds the slot taken.
        assert (staged_again, count) in ((False, 1), (True, 2))
    finally:
        empty_all_tables(fresh_engine)
