"""Break resolutions that move money: a closed list of movements, posted when a second officer approves.

Design overview
---------------
A proposed resolution may carry one movement from ``MOVEMENTS``, an account chosen from the few that fit
it, and a positive amount in whole dong. Nothing is posted at proposal: the movement becomes one ledger
transaction (external id ``break:{id}:resolution``, so at most once) in the same database transaction in
which a second officer approves it; the break and its ``approved`` event name that ledger transaction.

| movement                | debit                     | credit                    | chosen account          |
|-------------------------|---------------------------|---------------------------|-------------------------|
| ``write_off_fee``       | ``provider_fees:X``       | ``clearing:X``            | ``clearing:X``          |
| ``write_off_loss``      | ``write_offs:X``          | ``clearing:X``            | ``clearing:X``          |
| ``refund_payable``      | ``clearing:X``            | ``refunds_payable``       | ``clearing:X``          |
| ``adjust_clearing``     | ``clearing:X``            | ``suspense:unidentified`` | ``clearing:X``          |
| ``reclassify_suspense`` | ``suspense:unidentified`` | the chosen account        | ``clearing:X`` or       |
|                         |                           |                           | ``refunds_payable``     |

A movement that settles a bank credit parked in suspense names that suspense transaction
(``corrects_id``); one that resolves a ``payout_mismatch`` is tagged with the payout, so the payout's
clearing entries add up to 0 again. It lands today, or in the next open day if today is signed off.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.errors import Conflict, ValidationFailed
from core.money import Money
from payments import accounts, ledger, payout_tags
from payments.accounts import Account
from payments.ledger import Leg, credit, debit
from payments.models.ledger import LedgerAccount, LedgerTransaction
from payments.reconciliation.matching import PROVIDER_FORMATS
from payments.reconciliation.postings import SOURCE, bank_key, suspense_left
from payments.reconciliation.runs import ReconBreak

MOVEMENTS = ("write_off_fee", "write_off_loss", "refund_payable", "adjust_clearing", "reclassify_suspense")
#: Providers offered even before anything was posted to their clearing account.
_KNOWN_PROVIDERS = (*PROVIDER_FORMATS, "vietqr")
_CLEARING = "clearing:"


@dataclass(frozen=True)
class Movement:
    """The money a proposed resolution moves: which movement, on which chosen account, how much (whole dong)."""

    kind: str
    account: str
    amount: int


def account_choices(session: Session, found: ReconBreak) -> dict[str, list[str]]:
    """For each movement, the accounts an officer may choose for ``found``; its own provider first."""
    clearing = [f"{_CLEARING}{provider}" for provider in _providers(session, found)]
    return {kind: [*clearing, accounts.refunds_payable().code] if kind == "reclassify_suspense" else clearing
            for kind in MOVEMENTS}


def _providers(session: Session, found: ReconBreak) -> list[str]:
    posted = session.scalars(select(LedgerAccount.code).where(LedgerAccount.code.startswith(_CLEARING)))
    known = sorted({*_KNOWN_PROVIDERS, *(code[len(_CLEARING):] for code in posted)})
    own = found.scope.split(":", 1)[1] if found.scope.startswith("provider:") else None
    return [own, *(p for p in known if p != own)] if own else known


def check(session: Session, found: ReconBreak, movement: Movement) -> None:
    """Refuse a movement outside the closed list, on an account that does not fit it, or of no money."""
    if movement.kind not in MOVEMENTS:
        raise ValidationFailed(f"no movement {movement.kind!r}", code="movement_unknown")
    if movement.account not in account_choices(session, found)[movement.kind]:
        raise ValidationFailed(f"{movement.kind} cannot use account {movement.account!r}",
                               code="movement_account_invalid")
    if not isinstance(movement.amount, int) or movement.amount <= 0:
        raise ValidationFailed("a movement needs a whole, positive amount of dong", code="movement_amount_invalid")


def legs(movement: Movement) -> list[Leg]:
    """The two legs of ``movement`` (see the table above)."""
    amount = Money(movement.amount, "VND")
    provider = movement.account.removeprefix(_CLEARING)
    chosen = Account(movement.account, accounts.LIABILITY if movement.account == accounts.refunds_payable().code
                     else accounts.ASSET)
    debited, credited = {
        "write_off_fee": lambda: (accounts.provider_fees(provider), chosen),
        "write_off_loss": lambda: (accounts.write_offs(provider), chosen),
        "refund_payable": lambda: (chosen, accounts.refunds_payable()),
        "adjust_clearing": lambda: (chosen, accounts.suspense()),
        "reclassify_suspense": lambda: (accounts.suspense(), chosen),
    }[movement.kind]()
    return [debit(debited, amount), credit(credited, amount)]


def post_movement(session: Session, found: ReconBreak, *, approver: str, clock: Clock) -> LedgerTransaction:
    """Post the approved movement of ``found`` once; a replay returns the transaction posted before."""
    movement = Movement(found.movement, found.movement_account, found.movement_amount)
    check(session, found, movement)
    external_id = f"break:{found.id}:resolution"
    replay = session.scalar(select(LedgerTransaction).where(LedgerTransaction.source == SOURCE,
                                                            LedgerTransaction.external_id == external_id))
    if replay is not None:
        return replay
    parked = _parked_credit(session, found)
    if parked is not None and movement.kind == "reclassify_suspense":
        left = suspense_left(session, session.get(LedgerTransaction, parked))
        if movement.amount > left:
            raise Conflict(f"only {left} đ of this bank credit is still in suspense (a run or another resolution "
                           "moved the rest); propose the movement again", code="suspense_already_moved",
                           details={"left": left})
    posted = ledger.post(session, source=SOURCE, external_id=external_id, kind="break_resolution",
                         legs=legs(movement), clock=clock, corrects_id=parked,
                         description=f"break #{found.id} ({found.kind}), approved by {approver}: {found.resolution}")
    if found.key.startswith("payout:") and movement.account.startswith(_CLEARING):
        payout_tags.tag(session, movement.account.removeprefix(_CLEARING), found.key.removeprefix("payout:"),
                        [posted.transaction.id], clock)
    return posted.transaction


def _parked_credit(session: Session, found: ReconBreak) -> int | None:
    """The suspense transaction of the bank line a ``missing_internally`` break is about, if it was posted."""
    if found.kind != "missing_internally" or not found.scope.startswith("bank:"):
        return None
    key = bank_key(found.scope.split(":", 1)[1], found.key.removeprefix("line:"))
    return session.scalar(select(LedgerTransaction.id).where(LedgerTransaction.source == SOURCE,
                                                             LedgerTransaction.external_id == key))
