"""What a bank run establishes, booked in the ledger: payouts, their provider fees, transfers, suspense.

Design overview
---------------
For each bank credit of the run (research/reconciliation.md §8):

* a matched provider payout P of provider X:   Dr ``provider_fees:X``  Cr ``clearing:X``   (P's fees)
                                               Dr bank               Cr ``clearing:X``   (P's net)
  and P's captures, fees and payout are tagged P (``payments.payout_tags``); if their ``clearing:X``
  entries do not add up to 0, a ``payout_mismatch`` break opens;
  A payout credit of another amount than expected (``bank_mismatch``, say a bank charge taken off) is
  booked at what arrived: the difference stays in P's clearing entries, so a ``payout_mismatch`` says how
  much, and an approved resolution (a fee write-off) brings it back to 0;
* a citizen's transfer that names one of our payments (VietQR):  Dr bank  Cr ``clearing:X`` (X the payment's
  provider), which the payment's capture debited, so a transfer that arrived as owed leaves clearing at 0.
  Whatever its break (another amount, a second transfer, a payment we recorded as failed, a late one), the
  money is in the account and is booked at what arrived: what clearing is left with is what the break's
  resolution moves (a refund payable, a write-off);
* a credit nobody claims (``missing_internally``): Dr bank  Cr ``suspense:unidentified``.
  When a later run identifies it (a payout, or a citizen's VietQR transfer), the money moves out of
  suspense by a new transaction that names the suspense one (``corrects_id``), never by editing it.

"Bank" is the agency's ``bank:{agency}`` (or ``treasury_awaiting:{agency}``) when the remittance rules give
the statement's account to an agency, so Treasury transfers out of it meet the payouts in; otherwise
``bank:{account number}`` (``remittance_rules.statement_ledger_account``).

Each transfer is one ledger transaction, posted line by line like the rest (about five statements each;
what was booked before and each payment's provider are looked up a thousand lines at a time).

Every posting has an external id made of the provider's or the bank's ids (``payout:X:P:fees``,
``bank:{account}:{line key}``), so re-running a run, or a later run of an overlapping period, posts
nothing new. Postings are dated on the bank's booking day, or the next open day if that day is signed off.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from core.clock import Clock
from core.money import Money
from payments import accounts, ledger, payout_tags
from payments.accounts import Account
from payments.ledger import Leg, credit, debit
from payments.models.billing import Payment
from payments.models.ledger import LedgerAccount, LedgerPosting, LedgerTransaction
from payments.reconciliation import break_states
from payments.reconciliation.matching import PROVIDER_FORMATS
from payments.reconciliation.models import ReportFile, ReportLine
from payments.reconciliation.runs import PRIORITY, ReconBreak, ReconItem, ReconResult, ReconRun
from payments.remittance_rules import statement_ledger_account

SOURCE = "reconciliation"
#: Outcomes of a bank credit that put money in the account: payouts (matched or at another amount), our
#: payment codes whatever their break, and credits nobody claims. Suggested pairs wait for an officer.
_CREDIT_OUTCOMES = ("matched", "bank_mismatch", "amount_mismatch", "duplicate_at_provider", "status_mismatch",
                    "date_out_of_window", "missing_internally")
_PROVIDER_OF_FORMAT = {fmt: provider for provider, formats in PROVIDER_FORMATS.items() for fmt in formats}


@dataclass(frozen=True)
class BankCredit:
    """One bank line a run classified: its key, day and amount, and what it paired with."""

    outcome: str
    line_key: str
    booked_on: date
    amount: int
    item_kind: str | None
    reference: str | None
    #: The line's own currency: a posting is in it, so a line in another currency than dong can never be
    #: booked as dong (``Money`` refuses it; imports and runs refuse such lines before they get here).
    currency: str = "VND"


def post_bank_run(session: Session, run: ReconRun, account: str, clock: Clock) -> int:
    """Book the run's matched payouts, its unidentified credits, and parked credits it identified.

    Returns how many transactions were new. Lines already booked are found in one look-up per thousand
    lines, so a re-run costs no round trip per line.
    """
    credits = _credits(session, run.id)
    booked = _booked(session, [bank_key(account, line.line_key) for line in credits])
    providers = _providers(session, [line.reference for line in credits if line.item_kind == "payment"])
    created = 0
    for line in credits:
        first = booked.get(bank_key(account, line.line_key))
        if line.outcome == "missing_internally":
            if first is None:
                created += _book_unidentified(session, account, line, clock)
        elif line.item_kind == "payout":  # matched, or arrived at another amount (say, less a bank charge)
            created += _book_payout(session, run, account, line, first, clock)
        elif first is None or (line.outcome == "matched" and first.kind == "unidentified_credit"):
            # a citizen's transfer naming our payment: booked at once, or moved out of suspense once paired
            created += _book_transfer(session, account, line, first, providers.get(line.reference), clock)
    return created


def _by_thousands(keys: list[str], look_up) -> dict:
    """``look_up`` (a chunk of keys -> dict) over ``keys`` a thousand at a time: a round trip per thousand lines."""
    found: dict = {}
    for start in range(0, len(keys), 1_000):
        found |= look_up(keys[start:start + 1_000])
    return found


def _booked(session: Session, keys: list[str]) -> dict[str, LedgerTransaction]:
    """The first booking of each bank line key that has one."""
    return _by_thousands(keys, lambda chunk: {t.external_id: t for t in session.scalars(select(LedgerTransaction).where(
        LedgerTransaction.source == SOURCE, LedgerTransaction.external_id.in_(chunk)))})


def _credits(session: Session, run_id: int) -> list[BankCredit]:
    item = aliased(ReconItem)
    rows = session.execute(
        select(ReconResult.outcome, ReconResult.provider_reference, ReportLine.booked_on, ReportLine.amount,
               item.kind, ReconResult.reference, ReportLine.currency)
        .join(ReportLine, ReportLine.id == ReconResult.line_id).outerjoin(item, item.id == ReconResult.item_id)
        .where(ReconResult.run_id == run_id,
               ReconResult.outcome.in_(_CREDIT_OUTCOMES),
               ReportLine.amount > 0)
        .order_by(ReconResult.id))
    return [BankCredit(*row) for row in rows]


def line_key(bank_reference: str | None, booked_on: date, amount: int) -> str:
    """A bank line's identity, ``reference|day|amount``: the same text ``bank._LINES`` builds in SQL."""
    return f"{bank_reference or ''}|{booked_on.isoformat()}|{amount}"


def bank_key(account: str, line_key: str) -> str:
    """The external id of a bank line's first booking (a long key is hashed to fit)."""
    key = f"bank:{account}:{line_key}"
    return key if len(key) <= 180 else f"bank:{account}:sha256:{hashlib.sha256(line_key.encode()).hexdigest()}"


def _book_unidentified(session: Session, account: str, line: BankCredit, clock: Clock) -> int:
    amount = Money(line.amount, line.currency)
    return _post(session, bank_key(account, line.line_key), "unidentified_credit", line.booked_on, clock,
                 [debit(statement_ledger_account(account), amount), credit(accounts.suspense(), amount)],
                 f"bank credit nobody claims yet ({line.line_key})").created


def _providers(session: Session, codes: list[str]) -> dict[str, str]:
    """The provider of each of our payments named by ``codes``."""
    return _by_thousands(codes, lambda chunk: dict(session.execute(
        select(Payment.public_id, Payment.provider).where(Payment.public_id.in_(chunk))).all()))


def _book_transfer(session: Session, account: str, line: BankCredit, first: LedgerTransaction | None,
                   provider: str | None, clock: Clock) -> int:
    """A citizen's transfer to one of our payments: Dr bank Cr its provider's clearing (out of suspense if
    an earlier run parked it there)."""
    if provider is None:
        return 0  # an item without a payment of ours (a test snapshot); nothing to book against
    return _book_bank_credit(session, account, line, first, accounts.provider_clearing(provider), "bank_transfer",
                             clock).created


def _book_payout(session: Session, run: ReconRun, account: str, line: BankCredit, first: LedgerTransaction | None,
                 clock: Clock) -> int:
    payout = line.reference
    provider, lines = _payout_lines(session, payout)
    if provider is None:
        return 0
    clearing = accounts.provider_clearing(provider)
    fees = sum(fee for _, _, fee in lines)
    created = 0
    tagged: list[int] = []
    if fees:
        legs = _movement(accounts.provider_fees(provider), clearing, fees)
        fee_txn = _post(session, f"payout:{provider}:{payout}:fees", "provider_fees", line.booked_on, clock, legs,
                        f"{provider} fees of payout {payout}")
        created += fee_txn.created
        tagged.append(fee_txn.transaction.id)
    booked = _book_bank_credit(session, account, line, first, clearing, "payout", clock)
    created += booked.created
    tagged.append(booked.transaction.id)
    tagged += payout_tags.capture_transactions(session, provider, [(code, gross) for code, gross, _ in lines],
                                               payout_ref=payout)
    payout_tags.tag(session, provider, payout, tagged, clock)
    difference = payout_tags.clearing_balance(session, provider, payout)
    _record_payout_difference(session, run, payout, line, sum(gross for _, gross, _ in lines), difference, clock)
    return created


def _payout_lines(session: Session, payout: str) -> tuple[str | None, list[tuple[str | None, int, int]]]:
    """The provider and the lines ``(payment code, gross, fee)`` of a payout; a line in two files counts once."""
    first = (select(func.min(ReportLine.id)).join(ReportFile, ReportFile.id == ReportLine.file_id)
             .where(ReportLine.kind == "provider", ReportLine.payout_id == payout, ReportLine.currency == "VND",
                    ReportFile.format.in_(list(_PROVIDER_OF_FORMAT)))
             .group_by(ReportLine.provider_reference))
    rows = session.execute(select(ReportFile.format, ReportLine.payment_code, ReportLine.amount, ReportLine.fee)
                           .join(ReportFile, ReportFile.id == ReportLine.file_id)
                           .where(ReportLine.id.in_(first)).order_by(ReportLine.id)).all()
    if not rows:
        return None, []
    return _PROVIDER_OF_FORMAT[rows[0][0]], [(code, gross, fee) for _, code, gross, fee in rows]


def book_bank_line(session: Session, account: str, line: BankCredit, counter: Account, kind: str,
                   clock: Clock) -> ledger.Posted:
    """Dr bank Cr ``counter`` for ``line`` once; out of suspense if a run parked the line there first (a bank
    feed that reports a transfer after the statement's run booked it as a credit nobody claimed)."""
    key = bank_key(account, line.line_key)
    return _book_bank_credit(session, account, line, _booked(session, [key]).get(key), counter, kind, clock)


def hold_bank_line(session: Session, account: str, line: BankCredit, clock: Clock) -> ledger.Posted:
    """Dr bank Cr suspense for ``line`` once: money a bank feed held for an officer. If a run booked the line
    first to the clearing of the payment it named (the feed was late), the money moves from there to suspense."""
    key, amount = bank_key(account, line.line_key), Money(line.amount, line.currency)
    first = _booked(session, [key]).get(key)
    if first is None:
        return _post(session, key, "unidentified_credit", line.booked_on, clock,
                     [debit(statement_ledger_account(account), amount), credit(accounts.suspense(), amount)],
                     f"bank credit held by the bank feed ({line.line_key})")
    provider = _providers(session, [line.reference] if line.reference else []).get(line.reference)
    if first.kind == "unidentified_credit" or provider is None:
        return ledger.Posted(first, created=False)  # in suspense already
    legs = [debit(accounts.provider_clearing(provider), amount), credit(accounts.suspense(), amount)]
    return ledger.correct(session, first.id, legs=legs, source=SOURCE, kind="held_by_bank_feed", clock=clock,
                          key="held", description=f"held by the bank feed: {line.line_key}")


def _book_bank_credit(session: Session, account: str, line: BankCredit, first: LedgerTransaction | None,
                      counter: Account, kind: str, clock: Clock) -> ledger.Posted:
    """Dr bank Cr ``counter`` for the line; if it went to suspense earlier (``first``, the line's first
    booking, looked up with the run's others), Dr suspense instead (naming it)."""
    amount = Money(line.amount, line.currency)
    key = bank_key(account, line.line_key)
    if first is None or first.kind != "unidentified_credit":
        return _post(session, key, kind, line.booked_on, clock, [debit(statement_ledger_account(account), amount),
                                                                 credit(counter, amount)], line.line_key)
    left = suspense_left(session, first)
    if left <= 0:  # moved out already: by an earlier identification or an officer's approved resolution
        return ledger.Posted(first, created=False)
    rest = Money(left, line.currency)
    return ledger.correct(session, first.id, legs=[debit(accounts.suspense(), rest), credit(counter, rest)],
                          source=SOURCE, kind=kind, clock=clock, key="identified",
                          description=f"identified: {line.line_key}")


def suspense_left(session: Session, parked: LedgerTransaction) -> int:
    """How much of a parked bank credit is still in suspense: what it credited there, less what the
    transactions correcting it (identifications, approved resolutions) have debited back.

    The parked transaction's row is locked first (PostgreSQL), so a run identifying the credit and an
    officer's approval moving it take turns instead of both moving the same money.
    """
    session.execute(select(LedgerTransaction.id).where(LedgerTransaction.id == parked.id).with_for_update())
    suspense = select(LedgerAccount.id).where(LedgerAccount.code == accounts.suspense().code).scalar_subquery()
    moved = session.scalar(
        select(func.coalesce(func.sum(-ledger.DEBIT_POSITIVE), 0)).select_from(LedgerPosting)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerPosting.transaction_id)
        .where(LedgerPosting.account_id == suspense,
               or_(LedgerTransaction.id == parked.id, LedgerTransaction.corrects_id == parked.id)))
    return int(moved)


def _movement(expense: Account, clearing: Account, amount: int) -> list[Leg]:
    """Fees as Dr expense Cr clearing; a negative total (fees refunded to us) the other way round."""
    money = Money(abs(amount), "VND")
    if amount > 0:
        return [debit(expense, money), credit(clearing, money)]
    return [debit(clearing, money), credit(expense, money)]


def _post(session: Session, external_id: str, kind: str, day: date, clock: Clock, legs: list[Leg],
          description: str) -> ledger.Posted:
    return ledger.post(session, source=SOURCE, external_id=external_id, kind=kind, legs=legs, clock=clock,
                       description=description, effective_date=day, if_closed=ledger.NEXT_OPEN_DAY)


def _record_payout_difference(session: Session, run: ReconRun, payout: str, line: BankCredit, gross: int,
                              difference: int, clock: Clock) -> None:
    """Open a ``payout_mismatch`` for a payout whose tagged clearing entries do not add up to 0; close it when
    they do again (a late capture tagged by a re-run), unless people are already resolving it.

    Called before the run's ``record_breaks``, which writes the open event of a break the run opened.
    """
    found = session.scalar(select(ReconBreak).where(ReconBreak.scope == run.scope,
                                                    ReconBreak.kind == "payout_mismatch",
                                                    ReconBreak.key == f"payout:{payout}"))
    if difference and found is None:
        # Our captures add up to the provider's gross plus the difference.
        session.add(ReconBreak(scope=run.scope, kind="payout_mismatch", key=f"payout:{payout}",
                               status=break_states.OPEN, priority=PRIORITY["payout_mismatch"], day=line.booked_on,
                               our_amount=gross + difference, their_amount=gross, currency="VND",
                               opened_run_id=run.id, last_seen_run_id=run.id, opened_at=clock.now()))
    elif not difference and found is not None and found.status in (break_states.OPEN, break_states.INVESTIGATING):
        break_states.move(session, found, break_states.AUTO_CLOSED, actor=f"run:{run.id}", at=clock.now(),
                          note="the payout's clearing entries add up to 0", run_id=run.id)
    session.flush()
