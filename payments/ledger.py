"""Posting to the double-entry ledger: balanced, append-only, exactly once per external id.

Design overview
---------------
* ``post`` is the only way money enters the ledger. It refuses, in Python and before any SQL, a
  transaction with fewer than two legs, a non-positive amount, mixed currencies, a currency other than
  the account's, or debits that differ from credits. PostgreSQL checks balance again at commit
  (deferred constraint trigger, migration 0004), so raw SQL cannot get round it either.
* Exactly once: the header is claimed with ``INSERT … ON CONFLICT DO NOTHING`` on
  ``(source, external_id)``. A replayed notification, a retried job or ten concurrent copies of one
  webhook find the existing transaction and post nothing (``Posted.created`` is False).
* Append-only: an ORM flush that would update or delete a ledger row raises ``LedgerImmutable`` (both
  backends); database triggers refuse direct SQL. Corrections are ``reverse``: a new transaction with
  every leg on the other side, linked by a unique ``reverses_id`` so it happens at most once.
* Balances are debit-positive sums (``debits - credits``); over the whole ledger they always sum to 0.
* Periods (``payments.periods``): a posting never lands in a day whose reconciliation was signed off.
  Undated postings (dated today) land in the next open day, resolved inside the header INSERT itself;
  a posting dated explicitly in a closed day is refused with ``LedgerPeriodClosed``. ``correct`` posts an
  adjustment of an earlier transaction that names it (``corrects_id``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import Date, bindparam, case, event, func, select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.money import Money
from payments import periods
from payments.accounts import Account
from payments.errors import LedgerError, LedgerImmutable, LedgerPeriodClosed, LedgerUnbalanced
from payments.models.ledger import LedgerAccount, LedgerPosting, LedgerTransaction
from payments.sql import dialect_insert, execute_entity_insert, insert_if_absent

DEBIT, CREDIT = "debit", "credit"
#: What ``post`` does with a date in a signed-off day: book into the next open day, or refuse.
NEXT_OPEN_DAY, REFUSE = "next_open_day", "refuse"


@dataclass(frozen=True)
class Leg:
    """One side of a movement: ``amount`` on the ``side`` of ``account``."""

    account: Account
    side: str
    amount: Money


def debit(account: Account, amount: Money) -> Leg:
    """A debit leg (increases an asset or expense)."""
    return Leg(account, DEBIT, amount)


def credit(account: Account, amount: Money) -> Leg:
    """A credit leg (increases a liability or revenue)."""
    return Leg(account, CREDIT, amount)


@dataclass(frozen=True)
class Posted:
    """The transaction for an external id, and whether this call created it (False on a replay)."""

    transaction: LedgerTransaction
    created: bool


def without_zero_legs(legs: Iterable[Leg]) -> list[Leg]:
    """Drop legs of 0 (a fully subsidised bill has no clearing leg); negative amounts stay to be refused."""
    return [leg for leg in legs if leg.amount.amount != 0]


def check_balanced(legs: Sequence[Leg]) -> None:
    """Raise ``LedgerUnbalanced`` unless ``legs`` form a valid double-entry transaction."""
    if len(legs) < 2:
        raise LedgerUnbalanced(f"a ledger transaction needs at least two legs, got {len(legs)}")
    if len({leg.amount.currency for leg in legs}) != 1:
        raise LedgerUnbalanced("a ledger transaction must be in one currency")
    for leg in legs:
        if leg.side not in (DEBIT, CREDIT) or leg.amount.amount <= 0:
            raise LedgerUnbalanced(f"leg on {leg.account.code} must be a positive debit or credit")
    debits = sum(leg.amount.amount for leg in legs if leg.side == DEBIT)
    credits = sum(leg.amount.amount for leg in legs if leg.side == CREDIT)
    if debits != credits:
        raise LedgerUnbalanced(f"debits {debits} differ from credits {credits}")


def post(session: Session, *, source: str, external_id: str, kind: str, legs: Sequence[Leg], clock: Clock,
         description: str = "", bill_id: int | None = None, payment_id: int | None = None,
         reverses_id: int | None = None, corrects_id: int | None = None, effective_date: date | None = None,
         if_closed: str | None = None) -> Posted:
    """Post one balanced transaction for ``(source, external_id)``, or return the one already posted.

    ``effective_date`` defaults to today in Vietnam. If that day is signed off, ``if_closed`` decides:
    ``NEXT_OPEN_DAY`` (the default for undated postings) books into the first open day after it,
    ``REFUSE`` (the default for an explicit date) raises ``LedgerPeriodClosed``.
    """
    check_balanced(legs)
    now = clock.now()
    day = effective_date or clock.today_in_vietnam()
    if (if_closed or (REFUSE if effective_date else NEXT_OPEN_DAY)) == REFUSE and periods.is_closed(session, day):
        return _replay_or_refuse(session, day, source, external_id)
    # The header's INSERT books it on ``day`` or, if that day is closed, the next open day: no extra round trip.
    header = {"source": source, "external_id": external_id, "kind": kind, "description": description[:500],
              "posted_at": now, "bill_id": bill_id, "payment_id": payment_id, "reverses_id": reverses_id,
              "corrects_id": corrects_id, "requested_day": day}
    transaction = execute_entity_insert(session, LedgerTransaction, _header_insert(session), header)
    if transaction is None:
        return Posted(find(session, source, external_id), created=False)
    accounts = _accounts_for(session, legs, clock)
    # One multi-row INSERT; the postings are not loaded as objects (``transaction.postings`` loads them).
    # One statement, not an executemany: the driver runs those in pipeline mode, at more CPU than the rows.
    values = {"transaction_id": transaction.id}
    for number, leg in enumerate(legs):
        values |= {f"account_id_{number}": accounts[leg.account.code].id, f"side_{number}": leg.side,
                   f"amount_{number}": leg.amount.amount, f"currency_{number}": leg.amount.currency}
    session.execute(_postings_insert(len(legs)), values)
    return Posted(transaction, created=True)


@cache
def _postings_insert(legs: int):
    """``INSERT INTO ledger_postings … VALUES (…), (…)`` for ``legs`` rows, built once per count."""
    columns = ("account_id", "side", "amount", "currency")
    return LedgerPosting.__table__.insert().values([
        {"transaction_id": bindparam("transaction_id"), **{name: bindparam(f"{name}_{number}") for name in columns}}
        for number in range(legs)])


def _header_insert(session: Session):
    """The header's INSERT … ON CONFLICT DO NOTHING RETURNING *, its effective date resolved in SQL from
    ``:requested_day`` (built once per dialect)."""
    dialect = session.get_bind().dialect.name
    if dialect not in _HEADER_INSERTS:
        table = LedgerTransaction.__table__
        _HEADER_INSERTS[dialect] = (
            dialect_insert(session, table)
            .values(effective_date=periods.open_day_on_or_after(bindparam("requested_day", type_=Date)))
            .on_conflict_do_nothing(index_elements=["source", "external_id"]).returning(*table.columns))
    return _HEADER_INSERTS[dialect]


_HEADER_INSERTS: dict[str, object] = {}


def _replay_or_refuse(session: Session, day: date, source: str, external_id: str) -> Posted:
    """A posting dated in closed ``day``: the transaction posted for its key before the close, else refused."""
    existing = session.scalars(select(LedgerTransaction).where(LedgerTransaction.source == source,
                                                               LedgerTransaction.external_id == external_id)).first()
    if existing is not None:
        return Posted(existing, created=False)
    raise LedgerPeriodClosed(f"{day:%d/%m/%Y} is signed off; post a correction into the next open day",
                             details={"day": day.isoformat(),
                                      "next_open_day": periods.first_open_day(session, day).isoformat()})


def reverse(session: Session, transaction_id: int, *, source: str, kind: str, clock: Clock,
            description: str = "", external_id: str | None = None) -> Posted:
    """Post the reversal of transaction ``transaction_id`` (at most once; a replay returns it).

    ``external_id`` names what caused it when that has an id of its own (say, a bank line), so a replay of
    that cause finds it; by default it is ``reversal:{transaction_id}``.
    """
    original = session.get(LedgerTransaction, transaction_id)
    if original is None:
        raise LedgerError(f"ledger transaction {transaction_id} does not exist")
    if original.reverses_id is not None:
        raise LedgerError(f"ledger transaction {transaction_id} is itself a reversal; post a new transaction")
    legs = [Leg(Account(p.account.code, p.account.kind), CREDIT if p.side == DEBIT else DEBIT,
                Money(p.amount, p.currency)) for p in original.postings]
    return post(session, source=source, external_id=external_id or f"reversal:{transaction_id}", kind=kind, legs=legs,
                clock=clock, description=description, bill_id=original.bill_id, payment_id=original.payment_id,
                reverses_id=transaction_id)


def correct(session: Session, transaction_id: int, *, legs: Sequence[Leg], source: str, kind: str, clock: Clock,
            key: str = "1", description: str = "") -> Posted:
    """Post an adjustment of transaction ``transaction_id`` today (or the next open day), naming the original.

    The original stays as it was (its period may be signed off); ``key`` tells several corrections of one
    transaction apart and makes each happen at most once.
    """
    original = session.get(LedgerTransaction, transaction_id)
    if original is None:
        raise LedgerError(f"ledger transaction {transaction_id} does not exist")
    return post(session, source=source, external_id=f"correction:{transaction_id}:{key}", kind=kind, legs=legs,
                clock=clock, description=description, bill_id=original.bill_id, payment_id=original.payment_id,
                corrects_id=transaction_id)


def _accounts_for(session: Session, legs: Sequence[Leg], clock: Clock) -> dict[str, LedgerAccount]:
    """The legs' accounts in one look-up; only an account used for the first time costs more statements."""
    wanted = {leg.account.code: leg for leg in legs}
    found = {row.code: row for row in session.scalars(_ACCOUNTS_BY_CODE, {"codes": list(wanted)})}
    for code, leg in wanted.items():
        if code not in found:
            found[code] = account_for(session, leg.account, leg.amount.currency, clock)
        _check_account(found[code], leg.account, leg.amount.currency)
    return found


#: Built once: the look-up runs with every posting (the codes come as an expanding parameter).
_ACCOUNTS_BY_CODE = select(LedgerAccount).where(LedgerAccount.code.in_(bindparam("codes", expanding=True)))


def _check_account(row: LedgerAccount, account: Account, currency: str) -> None:
    if row.kind != account.kind or row.currency != currency:
        raise LedgerError(f"account {account.code} is {row.kind} in {row.currency}, not {account.kind} in {currency}")


def account_for(session: Session, account: Account, currency: str, clock: Clock) -> LedgerAccount:
    """Return the ledger account ``account``, creating it (race-free) on first use."""
    values = {"code": account.code, "kind": account.kind, "currency": currency, "created_at": clock.now()}
    insert_if_absent(session, LedgerAccount.__table__, values, ["code"])
    row = session.scalars(select(LedgerAccount).where(LedgerAccount.code == account.code)).one()
    _check_account(row, account, currency)
    return row


def find(session: Session, source: str, external_id: str) -> LedgerTransaction:
    """Return the transaction posted for ``(source, external_id)``."""
    query = select(LedgerTransaction).where(LedgerTransaction.source == source,
                                            LedgerTransaction.external_id == external_id)
    return session.scalars(query).one()


#: A posting's amount signed debit-positive (a balance is its sum); negate it for credit-positive sums.
DEBIT_POSITIVE = case((LedgerPosting.side == DEBIT, LedgerPosting.amount), else_=-LedgerPosting.amount)


def balance(session: Session, account_code: str, currency: str = "VND") -> Money:
    """Return the debit-positive balance of one account (0 if it was never posted to)."""
    query = (select(func.coalesce(func.sum(DEBIT_POSITIVE), 0)).join(LedgerAccount)
             .where(LedgerAccount.code == account_code, LedgerPosting.currency == currency))
    return Money(int(session.scalar(query)), currency)


def trial_balance(session: Session, currency: str = "VND") -> dict[str, int]:
    """Return every account's debit-positive balance; the values always sum to zero."""
    query = (select(LedgerAccount.code, func.sum(DEBIT_POSITIVE)).join(LedgerPosting)
             .where(LedgerPosting.currency == currency).group_by(LedgerAccount.code))
    return {code: int(total) for code, total in session.execute(query)}


def transactions_for_payment(session: Session, payment_id: int) -> list[LedgerTransaction]:
    """Return the ledger transactions of one payment, oldest first."""
    query = select(LedgerTransaction).where(LedgerTransaction.payment_id == payment_id).order_by(LedgerTransaction.id)
    return list(session.scalars(query))


@event.listens_for(Session, "before_flush")
def _refuse_ledger_changes(session: Session, _context, _instances) -> None:
    # The ORM path to an UPDATE/DELETE is refused on every backend, before it reaches the database.
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, LedgerPosting | LedgerTransaction) and (
                instance in session.deleted or session.is_modified(instance, include_collections=False)):
            raise LedgerImmutable(f"{type(instance).__name__} {instance.id} is append-only; post a reversal")
