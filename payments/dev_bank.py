"""The built-in bank stand-in (embedded default only): it "transfers" as a citizen's bank app would, and its
feed reports the transfer to the gateway as a bank feed does (SePay-shaped JSON through ``bank_intake``).

Scenarios are the cases a finance officer meets: the exact amount, less, more, the same notification
delivered twice, and a transfer booked after the attempt expired. Each notification is an outbox job the
worker delivers, so the browser never confirms anything itself, as with a real bank.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from core.outbox import job_handler, stage_job
from payments import bank_transfers
from payments.bank_intake import receive
from payments.bank_transfers import VIETNAM
from payments.vietqr_payments import TransferInstructions

CONNECTION = "dev-bank"
DELIVER_JOB = "dev_bank.deliver"
SCENARIOS = ("exact", "short", "over", "twice", "late")


def transfer(session: Session, found: TransferInstructions, scenario: str, *, clock: Clock = SYSTEM_CLOCK) -> None:
    """Stage the feed's notification(s) of a transfer paying ``found`` as ``scenario`` says."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}")
    amount = {"short": found.amount.amount - 10_000, "over": found.amount.amount + 10_000}.get(
        scenario, found.amount.amount)
    booked = found.expires_at + timedelta(minutes=1) if scenario == "late" else clock.now()
    body = notification(found, max(amount, 1_000), booked)
    for _ in range(2 if scenario == "twice" else 1):
        stage_job(session, DELIVER_JOB, {"body": body}, clock=clock)


def notification(found: TransferInstructions, amount: int, booked: datetime) -> str:
    """A SePay-shaped notification of a credit to the agency's account, memo rewritten as banks do."""
    number = secrets.randbelow(10**10)
    return json.dumps({
        "id": number, "gateway": found.bank_name, "accountNumber": found.account_number,
        "transactionDate": booked.astimezone(VIETNAM).strftime("%Y-%m-%d %H:%M:%S"), "code": None,
        "content": f"MBVCB.{number}.{found.code}.CT tu 0123456789 NGUYEN VAN AN toi {found.account_number}",
        "transferType": "in", "transferAmount": amount, "accumulated": 0, "subAccount": None,
        "referenceCode": f"DEVBANK.{number}", "description": "dev-bank stand-in"})


@job_handler(DELIVER_JOB)
def deliver(session: Session, payload: dict[str, Any]) -> None:
    """Deliver one notification through the webhook's own path, authenticated with the feed's key."""
    key = bank_transfers.get_connection(CONNECTION).api_key or ""
    receive(session, CONNECTION, {"Authorization": f"Apikey {key}"}, payload["body"].encode(), clock=SYSTEM_CLOCK)
