"""`gateway serve` keeps answering while clients hold connections open without sending a request.

Browsers open connections ahead of need (Chromium's preconnect) and may send nothing on them for a while.
gunicorn's sync worker accepts such a connection and then blocks reading it: with the two workers of
`make run`, two idle connections left the node answering no one until the client gave up or gunicorn
killed the worker after its 30 s timeout (found by the deployed-shape journeys in Chromium, where one
worker served nothing during a burst of the citizen's requests).
"""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.deployment import deployed

pytestmark = pytest.mark.slow


def _healthz(url: str) -> int:
    import urllib.request

    with urllib.request.urlopen(url + "/healthz", timeout=3) as answer:
        return answer.status


def test_idle_connections_leave_every_worker_free_to_answer(tmp_path):
    with deployed(tmp_path, start=False) as deployment:
        url = deployment.start_node(workers=2, job_worker=False)
        host, port = url.removeprefix("http://").split(":")
        idle = [socket.create_connection((host, int(port))) for _ in range(3)]  # more than there are workers
        try:
            time.sleep(0.3)  # accepted by the workers meanwhile
            with ThreadPoolExecutor(4) as pool:  # each waits 3 s at most: a blocked worker fails the test
                statuses = list(pool.map(lambda _: _healthz(url), range(12)))
        finally:
            for connection in idle:
                connection.close()
        assert statuses == [200] * 12
        served_by = {r["pid"] for r in deployment.records("web") if r.get("logger") == "gateway.access"
                     and r.get("path") == "/healthz"}
        assert len(served_by) == 2, f"/healthz was served by {served_by}"
        assert not [r for r in deployment.records("web") if "WORKER TIMEOUT" in r.get("message", "")]
