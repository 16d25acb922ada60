"""A small stateful fake of the Stripe endpoints the gateway uses, served on 127.0.0.1 for the SDK.

It keeps Checkout Sessions, refunds and payouts (with their balance transactions, listed in pages) in
memory, honours ``Idempotency-Key`` like Stripe (same key and
parameters: same response; other parameters: 400 ``idempotency_error``), and records every request so
tests can assert what was sent. Never the internet.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


class FakeStripe:
    """The fake's state and its HTTP server."""

    def __init__(self):
        self.sessions: dict[str, dict] = {}
        self.payouts: list[dict] = []
        self.balance_transactions: dict[str, list[dict]] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self.fail_next: list[int] = []
        self._by_key: dict[str, tuple[dict, tuple[int, dict]]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # A short poll interval: shutdown() waits for the next poll, and tests stop a server each.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def complete(self, session_id: str) -> None:
        """The payer paid on Stripe's page."""
        self.sessions[session_id].update(status="complete", payment_status="paid",
                                         payment_intent=f"pi_{session_id[3:]}")

    def handle(self, method: str, path: str, params: dict, key: str | None) -> tuple[int, dict]:
        with self._lock:
            self.requests.append((method, path, params))
            if self.fail_next:
                status = self.fail_next.pop(0)
                return status, {"error": {"type": "api_error", "message": "fake failure"}}
            if key is not None and key in self._by_key:
                seen_params, response = self._by_key[key]
                if seen_params != params:
                    return 400, {"error": {"type": "idempotency_error", "message": "different parameters"}}
                return response
            response = self._route(method, path, params)
            if key is not None and method == "POST":
                self._by_key[key] = (params, response)
            return response

    def _route(self, method, path, params):
        parts = path.strip("/").split("/")
        if method == "POST" and parts == ["v1", "checkout", "sessions"]:
            return 200, self._create_session(params)
        if parts[:3] == ["v1", "checkout", "sessions"] and parts[3] in self.sessions:
            session = self.sessions[parts[3]]
            if method == "GET" and len(parts) == 4:
                return 200, session
            if method == "POST" and parts[4:] == ["expire"]:
                if session["status"] != "open":
                    return 400, {"error": {"type": "invalid_request_error", "code": "checkout_session_not_open"}}
                session["status"] = "expired"
                return 200, session
        if method == "POST" and parts == ["v1", "refunds"]:
            return 200, {"id": f"re_{next(self._ids)}", "object": "refund", "status": "succeeded",
                         "amount": int(params["amount"]), "payment_intent": params["payment_intent"]}
        if method == "GET" and parts == ["v1", "payouts"]:
            low, high = int(params["arrival_date[gte]"]), int(params["arrival_date[lt]"])
            return 200, self._page([p for p in self.payouts if low <= p["arrival_date"] < high
                                    and p["status"] == params.get("status", p["status"])], params)
        if method == "GET" and parts == ["v1", "balance_transactions"]:
            return 200, self._page(self.balance_transactions.get(params["payout"], []), params)
        return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing"}}

    def add_payout(self, payout_id: str, arrival_date: int, items: list[dict], status: str = "paid") -> None:
        """A payout of ``items`` (balance transactions); Stripe also lists the payout's own entry."""
        amount = sum(item["net"] for item in items)
        self.payouts.append({"id": payout_id, "object": "payout", "amount": amount, "currency": "vnd",
                             "arrival_date": arrival_date, "status": status})
        own = {"id": f"txn_{payout_id}", "object": "balance_transaction", "type": "payout", "amount": -amount,
               "fee": 0, "net": -amount, "currency": "vnd", "created": arrival_date, "available_on": arrival_date,
               "reporting_category": "payout", "source": payout_id}
        self.balance_transactions[payout_id] = [*items, own]

    @staticmethod
    def _page(rows: list[dict], params: dict) -> dict:
        limit, after = int(params.get("limit", 10)), params.get("starting_after")
        start = next((i + 1 for i, row in enumerate(rows) if row["id"] == after), 0) if after else 0
        return {"object": "list", "data": rows[start:start + limit], "has_more": start + limit < len(rows),
                "url": "/v1/list"}

    def _create_session(self, params):
        session_id = f"cs_test_{next(self._ids)}"
        self.sessions[session_id] = {
            "id": session_id, "object": "checkout.session", "url": f"https://checkout.stripe.test/{session_id}",
            "status": "open", "payment_status": "unpaid", "payment_intent": None,
            "client_reference_id": params.get("client_reference_id"),
            "amount_total": int(params["line_items[0][price_data][unit_amount]"]),
            "currency": params["line_items[0][price_data][currency]"], "expires_at": int(params["expires_at"]),
            "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")}}
        return self.sessions[session_id]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                query = self.path.split("?", 1)[1] if "?" in self.path else ""
                self._answer("GET", dict(parse_qsl(query, keep_blank_values=True)))

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self._answer("POST", dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True)))

            def _answer(self, method, params):
                status, body = fake.handle(method, self.path.split("?")[0], params, self.headers.get("Idempotency-Key"))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_args):
                pass

        return Handler


@contextmanager
def serving() -> Iterator[FakeStripe]:
    """A fake Stripe serving on a free local port until the block ends."""
    fake = FakeStripe()
    fake.thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
