"""A reference receiver for the gateway's callbacks: verify the signature, drop stale or duplicate events, keep order.

Run it with ``python docs/agency_callback_receiver.py 8081 whsec_…`` and register
``http://127.0.0.1:8081/callbacks`` as the client's callback URL. Standard library only, so an agency can
port it to any language: the rules are in ``verify`` and ``Receiver.accept``.

1. Read the raw body bytes; do not parse and re-serialise JSON before verifying.
2. ``Gateway-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]``: compute HMAC-SHA256 with your secret over
   ``<t>.<raw body>``; accept if any v1 matches (constant-time compare). Several v1 appear while the
   gateway rotates your secret.
3. Refuse a timestamp more than 5 minutes from your clock (a replayed old message).
4. Dedupe by ``event_id``; per bill, ignore a ``sequence`` lower than the highest you applied (the body
   carries the whole bill, so the highest sequence is the truth).
5. Answer 2xx quickly; anything else (or no answer in 10 s) is retried at 1 min, 5 min, 1 h, 1 d, 2 d.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 300


def verify(body: bytes, header: str, secrets: list[str], *, now: float | None = None,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """True if ``header`` signs ``body`` with one of ``secrets`` and is fresh."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for name, value in fields if name.strip() == "t"]
    signatures = [value for name, value in fields if name.strip() == "v1"]
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures:
        return False
    timestamp = int(timestamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    signed = timestamps[0].encode() + b"." + body
    expected = [hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest() for secret in secrets]
    return any(hmac.compare_digest(e, s) for e in expected for s in signatures)


class Receiver:
    """What an agency keeps: events seen, the highest sequence applied per bill, the bill as last known."""

    def __init__(self, secrets: list[str], now=time.time):
        self.secrets, self.now = secrets, now
        self.seen: set[str] = set()
        self.sequence: dict[str, int] = {}
        self.bills: dict[str, dict] = {}
        self.accepted: list[dict] = []

    def accept(self, body: bytes, signature: str) -> int:
        """Return the HTTP status to answer: 401 for a bad signature, 200 otherwise (duplicates included)."""
        if not verify(body, signature, self.secrets, now=self.now()):
            return 401
        event = json.loads(body)
        if event["event_id"] in self.seen:
            return 200
        self.seen.add(event["event_id"])
        bill_id = event["bill"]["id"]
        if event["sequence"] > self.sequence.get(bill_id, 0):
            self.sequence[bill_id] = event["sequence"]
            self.bills[bill_id] = event["bill"]
        self.accepted.append(event)
        return 200


def serve(port: int, secrets: list[str]) -> None:
    """Serve POST /callbacks on 127.0.0.1:``port`` until interrupted."""
    receiver = Receiver(secrets)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = receiver.accept(body, self.headers.get("Gateway-Signature", ""))
            self.send_response(status)
            self.end_headers()
            print(status, self.headers.get("Gateway-Event-Type"), self.headers.get("Gateway-Sequence"))

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2:])
