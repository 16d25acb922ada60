"""Two gateway nodes on two hosts behind a load balancer, sharing one PostgreSQL and one Redis.

Each node is a network namespace made by this test, with an address of its own, running `gateway serve`
(two gunicorn workers) and `gateway worker`. They reach the shared PostgreSQL and Redis through Unix
sockets (the namespaces share the file system, not the network). The test plays the load balancer: a
TCP proxy on loopback that sends each connection to the node the test names, so a journey can be split
across the nodes at exactly the step that matters.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from core.outbox import OutboxJob
from payments.models.billing import Bill
from tests.deployed.conftest import require_production_parts
from tests.deployed.forms import form_with_button, forms
from tests.deployment import deployed

pytestmark = pytest.mark.slow
HOSTS = {"a": ("gwtest-a", "10.231.1.1", "10.231.1.2"), "b": ("gwtest-b", "10.231.2.1", "10.231.2.2")}
NODE_PORT = 8000
DEMO_KEY = "gwk_demo_agency_key_for_local_development_only"
CHAU = ("Lê Minh Châu", "079090045678")


def _sh(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


@contextmanager
def network_hosts():
    """Two network namespaces, each reachable from here at its own address over a veth pair."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the two-node test needs root and iproute2 (ip netns)", pytrace=False)
        pytest.skip("the two-node test needs root and iproute2 (ip netns)")
    for name, (namespace, outer, inner) in HOSTS.items():
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        _sh("ip", "netns", "add", namespace)
        _sh("ip", "link", "add", f"gwv{name}0", "type", "veth", "peer", "name", f"gwv{name}1")
        _sh("ip", "link", "set", f"gwv{name}1", "netns", namespace)
        _sh("ip", "addr", "add", f"{outer}/24", "dev", f"gwv{name}0")
        _sh("ip", "link", "set", f"gwv{name}0", "up")
        _sh("ip", "netns", "exec", namespace, "ip", "addr", "add", f"{inner}/24", "dev", f"gwv{name}1")
        _sh("ip", "netns", "exec", namespace, "ip", "link", "set", f"gwv{name}1", "up")
        _sh("ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up")
        # Everything else (the balancer's public address) is reached through this side's end of the pair.
        _sh("ip", "netns", "exec", namespace, "ip", "route", "add", "default", "via", outer)
    try:
        yield
    finally:
        for name, (namespace, _, _) in HOSTS.items():
            subprocess.run(["ip", "link", "del", f"gwv{name}0"], capture_output=True)
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


@contextmanager
def redis_on_socket(folder: Path):
    """A Redis of the test's own, listening only on a Unix socket the namespaces can reach."""
    path = folder / "redis.sock"
    server = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", str(path), "--unixsocketperm", "777",
                               "--save", "", "--appendonly", "no", "--dir", str(folder)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not path.exists():
        assert time.monotonic() < deadline and server.poll() is None, "redis-server did not start"
        time.sleep(0.05)
    try:
        yield path
    finally:
        server.terminate()
        server.wait(timeout=10)


class Balancer:
    """A TCP proxy on loopback sending each new connection to ``target`` (a node name), or alternating."""

    def __init__(self, address: str, backends: dict[str, tuple[str, int]]):
        self.backends = backends
        self.target: str | None = None  # None: alternate between the nodes
        self._turn = 0
        self._listener = socket.create_server((address, 0))
        self.url = f"http://{address}:{self._listener.getsockname()[1]}"
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _pick(self) -> tuple[str, int]:
        if self.target is not None:
            return self.backends[self.target]
        self._turn += 1
        return list(self.backends.values())[self._turn % len(self.backends)]

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._pick(), timeout=10)
            except OSError:
                client.close()
                continue
            done = threading.Barrier(2, action=lambda c=client, u=upstream: (c.close(), u.close()))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink, done), daemon=True).start()

    def close(self) -> None:
        self._listener.close()


def _pump(source: socket.socket, sink: socket.socket, done: threading.Barrier) -> None:
    """Copy one direction; when both directions have ended, the barrier closes both sockets."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    try:
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    try:
        done.wait(timeout=60)
    except threading.BrokenBarrierError:
        source.close()
        sink.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two nodes (web + job worker each) behind the balancer, on PostgreSQL and Redis; yields it."""
    require_production_parts()
    from tests.deployed.conftest import deployed_postgres_url

    folder = tmp_path_factory.mktemp("two-nodes")
    over_socket = make_url(deployed_postgres_url()).set(host=None, query={"host": "/var/run/postgresql"})
    with network_hosts(), redis_on_socket(folder) as redis_socket:
        # The public address: node a's side of its pair; node b reaches it by its default route.
        balancer = Balancer(HOSTS["a"][1], {name: (inner, NODE_PORT) for name, (_, _, inner) in HOSTS.items()})
        queue = f"unix://{redis_socket}?db=0"
        with deployed(folder, backend="postgresql", seed="demo", start=False, host="127.0.0.1",
                      postgres_url=over_socket.render_as_string(hide_password=False),
                      GATEWAY_BASE_URL=balancer.url, GATEWAY_QUEUE_URL=queue,
                      GATEWAY_RATELIMIT_STORAGE_URL=f"redis+unix://{redis_socket}",
                      GATEWAY_TRUSTED_PROXIES="0",
                      # The stand-in's authlib accepts plain http on loopback only; production is https.
                      AUTHLIB_INSECURE_TRANSPORT="1") as deployment:
            for namespace, _, inner in HOSTS.values():
                deployment.start_node(inner, port=NODE_PORT, prefix=("ip", "netns", "exec", namespace))
            deployment.balancer = balancer
            yield deployment
            failures = deployment.failures()
        balancer.close()
    assert not failures, f"failed requests or jobs: {failures}"


def _node_url(name: str) -> str:
    return f"http://{HOSTS[name][2]}:{NODE_PORT}"


def _served(cluster, node: int, path_start: str) -> bool:
    return any(r.get("logger") == "gateway.access" and str(r.get("path", "")).startswith(path_start)
               for r in cluster.records(f"web{node}"))


def _follow(browser: requests.Session, response: requests.Response) -> requests.Response:
    while response.is_redirect:
        response = browser.get(requests.compat.urljoin(response.url, response.headers["Location"]),
                               allow_redirects=False)
    return response


def _browser() -> requests.Session:
    """A client that opens a new connection per request: the balancer chooses a node per connection, and
    the threaded workers keep connections alive, so a reused one would stay on the node it first reached."""
    browser = requests.Session()
    browser.headers["Connection"] = "close"
    return browser


def _log_in(cluster, browser: requests.Session, *, finish_on: str) -> requests.Response:
    """Log Lê Minh Châu in through the balancer; the stand-in's answer and the callback go to ``finish_on``."""
    lb = cluster.balancer.url
    cluster.balancer.target = "a" if finish_on == "b" else "b"
    page = browser.get(lb + "/bills/")  # to the stand-in's page through the login redirect
    assert page.status_code == 200, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))[-700:]
    form, sent = form_with_button(page.text, CHAU[0])
    cluster.balancer.target = finish_on
    page = _follow(browser, browser.post(requests.compat.urljoin(page.url, form.action), data=sent,
                                         allow_redirects=False))
    consent = [f for f in forms(page.text) if "consent" in f.action]
    if consent:
        page = _follow(browser, browser.post(requests.compat.urljoin(page.url, consent[0].action),
                                             data=consent[0].submit_with("Tôi đồng ý"), allow_redirects=False))
    return page


def test_a_login_started_on_one_node_finishes_on_the_other(cluster):
    browser = _browser()
    page = _log_in(cluster, browser, finish_on="b")
    assert page.status_code == 200 and "Khoản phải nộp của tôi" in page.text
    assert _served(cluster, 1, "/auth/login") and not _served(cluster, 1, "/auth/callback")  # web1 is node a
    assert _served(cluster, 2, "/auth/callback")


def test_one_idempotency_key_sent_to_both_nodes_creates_one_bill(cluster):
    key, reference = str(uuid.uuid4()), f"TWO-NODES-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"service_code": "LLTP", "personal_id_number": CHAU[1], "agency_reference": reference,
                       "return_url": "http://127.0.0.1/demo/agency"})
    headers = {"Authorization": f"Bearer {DEMO_KEY}", "Idempotency-Key": key, "Content-Type": "application/json"}

    def create(node: str) -> requests.Response:
        return requests.post(_node_url(node) + "/api/v1/bills", data=body, headers=headers, timeout=30)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(create, ["a", "b", "a", "b"]))
    finished = [a for a in answers if a.status_code == 201]
    assert finished and {a.json()["id"] for a in finished} == {finished[0].json()["id"]}
    # A request that met the other node's claim in flight is told to retry, never given a second bill.
    assert all(a.status_code in (201, 409) for a in answers), [a.status_code for a in answers]
    with cluster.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Bill).where(Bill.agency_reference == reference)) == 1


def test_a_sandbox_session_opened_on_one_node_is_paid_on_the_other_and_no_job_runs_twice(cluster):
    browser = _browser()
    _log_in(cluster, browser, finish_on="a")
    lb = cluster.balancer.url
    with cluster.session_factory() as session:
        bill_id = session.scalar(select(Bill.public_id).where(Bill.payer_masked_id == "0790******78",
                                                              Bill.status == "open").order_by(Bill.id).limit(1))
    cluster.balancer.target = "a"
    bill_page = browser.get(f"{lb}/bills/{bill_id}")
    form, sent = form_with_button(bill_page.text, "Thanh toán")
    started = browser.post(requests.compat.urljoin(bill_page.url, form.action), data=sent, allow_redirects=False)
    assert started.status_code == 303 and "/sandbox/pay/sbx_" in started.headers["Location"]
    cluster.balancer.target = "b"
    sandbox = browser.get(started.headers["Location"])
    assert sandbox.status_code == 200
    form, sent = form_with_button(sandbox.text, "Thanh toán")
    paid = browser.post(requests.compat.urljoin(sandbox.url, form.action), allow_redirects=False,
                        data={**sent, "card_number": "4242 4242 4242 4242", "expiry": "12/39", "cvc": "123"})
    assert paid.status_code == 303
    path = started.headers["Location"].split("://", 1)[1].split("/", 1)[1]
    assert _served(cluster, 2, "/" + path) and not _served(cluster, 1, "/" + path)
    cluster.wait_for("the bill paid", lambda s: s.scalar(select(Bill.status).where(Bill.public_id == bill_id))
                     == "paid")
    cluster.balancer.target = None
    cluster.wait_for_jobs()
    done = [r["job_id"] for r in cluster.records("worker") if r.get("message") == "job done"]
    assert done and len(done) == len(set(done)), "a job ran twice"
    with cluster.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxJob).where(OutboxJob.attempts > 1)) == 0
