"""Which ledger transactions a provider payout settled, and what its clearing entries add up to.

A payout P of provider X settles the captures (and netted refunds) its report lines name, less X's fees.
When P reaches the bank, reconciliation tags P's transactions: the captures (Dr ``clearing:X``), the fee
transaction (Cr ``clearing:X``) and the payout itself (Cr ``clearing:X``). For a payout that matched to
the dong, the ``clearing:X`` entries tagged P add up to 0 (research/reconciliation.md §9, criterion 4);
anything else is a ``payout_mismatch``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.clock import Clock
from payments import accounts, ledger
from payments.models.billing import Payment
from payments.models.ledger import LedgerAccount, LedgerPayoutTag, LedgerPosting, LedgerTransaction


def tag(session: Session, provider: str, payout_ref: str, transaction_ids: Iterable[int], clock: Clock) -> None:
    """Tag transactions with payout ``payout_ref``; a transaction already tagged (with any payout) stays as it was."""
    rows = [{"provider": provider, "payout_ref": payout_ref, "transaction_id": i, "tagged_at": clock.now()}
            for i in sorted(set(transaction_ids))]
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(LedgerPayoutTag).values(rows).on_conflict_do_nothing(
        index_elements=["transaction_id"]))


def capture_transactions(session: Session, provider: str, lines: Iterable[tuple[str, int]],
                         payout_ref: str | None = None) -> list[int]:
    """Our transactions behind report lines ``(payment code, signed gross)`` on ``clearing:{provider}``.

    A positive line is money the provider collected (our capture debited clearing); a negative one is money
    it paid back (our refund credited clearing). Each line claims one transaction of its payment and side,
    of its amount where there is one, so a capture and a refund of one payment in one payout are both found,
    and partial refunds in different payouts each find their own; a transaction another payout already
    tagged is not claimed again.
    """
    wanted = Counter((code, "debit" if amount >= 0 else "credit", abs(amount)) for code, amount in lines if code)
    if not wanted:
        return []
    elsewhere = exists().where(LedgerPayoutTag.transaction_id == LedgerTransaction.id,
                               LedgerPayoutTag.payout_ref != (payout_ref or ""))
    rows = session.execute(
        select(Payment.public_id, LedgerTransaction.id, LedgerPosting.side, LedgerPosting.amount)
        .join(LedgerTransaction, LedgerTransaction.payment_id == Payment.id)
        .join(LedgerPosting, LedgerPosting.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .where(Payment.public_id.in_(sorted({code for code, _, _ in wanted})),
               LedgerAccount.code == accounts.provider_clearing(provider).code, ~elsewhere)
        .order_by(LedgerTransaction.id)).all()
    claimed: list[int] = []
    # Exact amounts first; a line left over then takes any transaction of its payment and side, so a capture
    # recorded at another amount than the provider's is still tagged and its difference shows in the balance.
    for exact in (True, False):
        for code, transaction_id, side, amount in rows:
            key = next((k for k in wanted if wanted[k] > 0 and k[:2] == (code, side)
                        and (not exact or k[2] == amount)), None)
            if key is not None and transaction_id not in claimed:
                wanted[key] -= 1
                claimed.append(transaction_id)
    return sorted(claimed)


def clearing_balance(session: Session, provider: str, payout_ref: str) -> int:
    """The debit-positive sum of ``clearing:{provider}`` entries tagged with the payout (0 when it balances)."""
    query = (select(func.coalesce(func.sum(ledger.DEBIT_POSITIVE), 0))
             .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
             .join(LedgerPayoutTag, LedgerPayoutTag.transaction_id == LedgerPosting.transaction_id)
             .where(LedgerPayoutTag.provider == provider, LedgerPayoutTag.payout_ref == payout_ref,
                    LedgerAccount.code == accounts.provider_clearing(provider).code))
    return int(session.scalar(query))


def tagged(session: Session, provider: str, payout_ref: str) -> list[LedgerTransaction]:
    """The transactions tagged with the payout, oldest first."""
    return list(session.scalars(select(LedgerTransaction).join(LedgerPayoutTag)
                                .where(LedgerPayoutTag.provider == provider, LedgerPayoutTag.payout_ref == payout_ref)
                                .order_by(LedgerTransaction.id)))
