"""An operator's day: what the gates counted, what was priced, paid and arrived, and what is owed to whom.

Design overview
---------------
* Gate figures come from the events (entries and exits the gates sent that Vietnamese day), priced figures
  from the sessions that closed that day, payments from the bills of those sessions.
* Money is cut from the ledger, not recomputed: for the charges paid that day, the operator's contract
  share is what the postings credited to the agency's retained-fee account, what is due to the Treasury
  what they credited to its budget-payable account, and what has arrived what the postings moved onto a
  bank account (a card payment waits in the provider's clearing account until its payout). The deadline
  is the remittance rules' for the operator's agency.
* Under-reporting (``check_under_reporting``): vehicles counted at a lot by its gate counter, a sensor or an
  inspector (``parking.counts``) against the sessions the operator reported; a lot and day where the gap
  passes the threshold becomes a break on the finance workbench (scope ``parking:<operator>``), with the
  revenue the counts imply at the day's average charge as "theirs". A later check that finds the gap gone
  (late sessions arrived) closes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from core.clock import VIETNAM, Clock
from parking.models import GateEvent, ParkingLot, ParkingOperator, ParkingSession, VehicleCount
from payments.ledger import DEBIT_POSITIVE
from payments.models.billing import Bill, Payment
from payments.models.ledger import LedgerAccount, LedgerPosting, LedgerTransaction
from payments.reconciliation.break_states import annotate
from payments.reconciliation.breaks import Difference, record_differences
from payments.reconciliation.runs import ReconBreak, ReconRun
from payments.remittance_rules import first_of_month, load_rules

KIND = "missing_internally"  # vehicles the counts saw that the operator's records miss
RULES = "parking-counts"
#: A gap is a break above both: 10 % of the counted vehicles, and 5 vehicles (a count is never exact).
THRESHOLD_BP, MIN_GAP = 1000, 5


@dataclass
class DayMoney:
    """What was paid for a set of charges, and where the ledger says that money is and whose it is."""

    paid_by_rail: dict[str, int] = field(default_factory=dict)
    charges_paid: int = 0
    unpaid: int = 0
    operator_share: int = 0
    treasury_due: int = 0
    arrived: int = 0
    at_providers: int = 0

    @property
    def paid(self) -> int:
        """Money paid, every rail."""
        return sum(self.paid_by_rail.values())


@dataclass(frozen=True)
class LotDay:
    """One lot's day: gate events, sessions priced, what was counted independently, and the money."""

    lot: ParkingLot
    entries: int
    exits: int
    sessions_priced: int
    charged: int
    #: The independent count (the highest of its sources' totals), or None when nobody counted.
    counted: int | None
    counted_by: str | None
    money: DayMoney

    @property
    def gap(self) -> int | None:
        """Vehicles counted but not reported as entries."""
        return None if self.counted is None else max(0, self.counted - self.entries)

    @property
    def under_reported(self) -> bool:
        """True when the gap passes the threshold (see the module docstring)."""
        gap = self.gap
        return gap is not None and gap >= MIN_GAP and gap * 10_000 > self.counted * THRESHOLD_BP

    @property
    def implied_revenue(self) -> int | None:
        """What the counted vehicles would have paid at this day's average charge."""
        if self.counted is None or not self.sessions_priced:
            return None
        return self.charged * self.counted // self.sessions_priced


@dataclass(frozen=True)
class OperatorDay:
    """The settlement statement of one operator's day: its lots, and their money added up."""

    operator: ParkingOperator
    day: date
    lots: tuple[LotDay, ...]
    deadline: datetime | None
    deadline_rule: str
    deadline_basis: str

    @property
    def money(self) -> DayMoney:
        """The lots' money added up."""
        total = DayMoney()
        for lot_day in self.lots:
            for rail, amount in lot_day.money.paid_by_rail.items():
                total.paid_by_rail[rail] = total.paid_by_rail.get(rail, 0) + amount
            for name in ("charges_paid", "unpaid", "operator_share", "treasury_due", "arrived", "at_providers"):
                setattr(total, name, getattr(total, name) + getattr(lot_day.money, name))
        return total


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=VIETNAM).astimezone(UTC)
    return start, start + timedelta(days=1)


def operator_day(session: Session, operator: ParkingOperator, day: date) -> OperatorDay:
    """The operator's statement for the Vietnamese calendar ``day``."""
    lots = session.scalars(select(ParkingLot).where(ParkingLot.operator_id == operator.id).order_by(ParkingLot.code))
    start, end = _bounds(day)
    rule = load_rules().deadline_rule(operator.agency_code, "phi")
    deadline = rule.collection_deadline(end) or rule.month_deadline(first_of_month(day))
    return OperatorDay(operator, day, tuple(_lot_day(session, operator, lot, start, end) for lot in lots),
                       deadline, rule.name, rule.legal_basis)


def _lot_day(session: Session, operator: ParkingOperator, lot: ParkingLot, start: datetime, end: datetime) -> LotDay:
    events = dict(session.execute(select(GateEvent.type, func.count()).where(
        GateEvent.lot_id == lot.id, GateEvent.occurred_at >= start, GateEvent.occurred_at < end)
        .group_by(GateEvent.type)).all())
    priced, charged = session.execute(select(func.count(), func.coalesce(func.sum(ParkingSession.amount), 0)).where(
        ParkingSession.lot_id == lot.id, ParkingSession.status == "closed", ParkingSession.exited_at >= start,
        ParkingSession.exited_at < end)).one()
    # A count is the day's when its period starts that day; each source's counts add up, the highest wins.
    by_source = session.execute(select(VehicleCount.source, func.sum(VehicleCount.vehicles)).where(
        VehicleCount.lot_id == lot.id, VehicleCount.period_start >= start, VehicleCount.period_start < end)
        .group_by(VehicleCount.source)).all()
    best = max(by_source, key=lambda row: (row[1], row[0]), default=None)
    bills = list(session.scalars(select(Bill).join(ParkingSession, ParkingSession.bill_id == Bill.id).where(
        ParkingSession.lot_id == lot.id, ParkingSession.exited_at >= start, ParkingSession.exited_at < end)))
    return LotDay(lot, events.get("entry", 0), events.get("exit", 0), priced, int(charged),
                  int(best[1]) if best else None, best[0] if best else None,
                  _money(session, operator.agency_code, bills))


def _money(session: Session, agency: str, bills: list[Bill]) -> DayMoney:
    found = DayMoney(unpaid=sum(bill.amount_due for bill in bills if bill.status == "open"))
    ids = [bill.id for bill in bills]
    if not ids:
        return found
    paid = session.execute(select(Payment.provider, func.sum(Payment.amount), func.count()).where(
        Payment.bill_id.in_(ids), Payment.status == "succeeded").group_by(Payment.provider)).all()
    found.paid_by_rail = {provider: int(amount) for provider, amount, _ in paid}
    found.charges_paid = sum(count for _, _, count in paid)
    balances = session.execute(select(LedgerAccount.code, func.sum(DEBIT_POSITIVE)).select_from(LedgerPosting)
                               .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
                               .join(LedgerTransaction, LedgerTransaction.id == LedgerPosting.transaction_id)
                               .where(LedgerTransaction.bill_id.in_(ids)).group_by(LedgerAccount.code)).all()
    for code, debit_positive in balances:
        amount = int(debit_positive or 0)
        if code.startswith(f"fee_retained:{agency}:"):
            found.operator_share -= amount
        elif code == f"budget_payable:{agency}":
            found.treasury_due -= amount
        elif code.startswith(("bank:", "treasury_awaiting:")):
            found.arrived += amount
        elif code.startswith("clearing:"):
            found.at_providers += amount
    return found


def check_under_reporting(session: Session, operator: ParkingOperator, day: date, *, actor: str,
                          clock: Clock) -> list[LotDay]:
    """Open (or keep) a break for each of the operator's lots under-reported on ``day``; close the ones that
    no longer are. Returns the lots found under-reported."""
    statement = operator_day(session, operator, day)
    flagged = [lot_day for lot_day in statement.lots if lot_day.under_reported]
    now = clock.now()
    run = ReconRun(scope=scope_of(operator), period_start=day, period_end=day, rule_version=RULES,
                   status="completed", progress=100, started_by=actor, started_at=now, finished_at=now)
    session.add(run)
    session.flush()
    differences = [Difference(KIND, _key(lot_day, day), day, lot_day.charged, lot_day.implied_revenue)
                   for lot_day in flagged]
    record_differences(session, run, differences, closes=(KIND,), window=(day, day), clock=clock)
    for lot_day in flagged:
        found = session.scalars(select(ReconBreak).where(and_(
            ReconBreak.scope == run.scope, ReconBreak.kind == KIND, ReconBreak.key == _key(lot_day, day)))).one()
        annotate(session, found, f"under_reported: {lot_day.lot.code} counted {lot_day.counted} "
                                 f"({lot_day.counted_by}), entries reported {lot_day.entries}", actor=actor, at=now)
    session.flush()
    return flagged


def scope_of(operator: ParkingOperator) -> str:
    """The workbench scope of an operator's under-reporting breaks."""
    return f"parking:{operator.code}"


def _key(lot_day: LotDay, day: date) -> str:
    return f"count:{lot_day.lot.code}:{day.isoformat()}"
