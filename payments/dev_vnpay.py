"""Delivering the built-in VNPay simulator's IPNs (embedded default only), as VNPay's servers would.

Each IPN is an outbox job the worker delivers through the IPN endpoint's own path (``vnpay_ipn``), so the
browser never confirms anything itself. VNPay sends an IPN again when the answer says something failed on
the merchant's side; so does the job (``99`` raises and the outbox tries again later). ``01``, ``04`` and
``97`` would be the same on every try, so they are not retried.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from core.outbox import job_handler, stage_job
from payments import vnpay_protocol as protocol
from payments.vnpay_ipn import receive_ipn

DELIVER_JOB = "dev_vnpay.deliver_ipn"


class IpnNotAccepted(RuntimeError):
    """The gateway answered an IPN with a code after which VNPay sends it again."""


def stage_ipns(session: Session, ipns: Iterable[dict[str, str]], *, clock: Clock = SYSTEM_CLOCK) -> int:
    """Stage one delivery per IPN; return how many."""
    count = 0
    for params in ipns:
        stage_job(session, DELIVER_JOB, {"params": dict(params)}, clock=clock)
        count += 1
    return count


@job_handler(DELIVER_JOB)
def deliver(session: Session, payload: dict[str, Any]) -> None:
    """Deliver one IPN; an answer of ``99`` is retried."""
    answer = receive_ipn(session, payload["params"], clock=SYSTEM_CLOCK)
    if answer["RspCode"] == protocol.IPN_OTHER:
        raise IpnNotAccepted(f"IPN answered {answer['RspCode']} {answer['Message']}")
