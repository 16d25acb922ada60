"""Disputes: the payer disputes a session once; a finance officer or the lot's operator upholds or rejects it,
and upholding gives the money back through the refund path (or cancels the unpaid bill)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from core.money import vnd
from identity.models import AuditEvent, Citizen
from parking.disputes import Resolution, open_dispute, resolve_dispute
from parking.errors import DisputeAlreadyResolved, DisputeInvalid, DisputeNotFound, SessionNotFound
from parking.lots import operator_by_code, seed_lots
from parking.models import ParkingDispute
from parking.vehicles import link_vehicle
from payments.models.billing import Bill
from payments.models.refunds import Refund
from tests.parking.conftest import NOW, VAULT, pay_bill
from tests.parking.test_gate import event, hanoi, take

OFFICER = "staff:7"
UPHOLD = Resolution("uphold", "Biển số đọc sai: xe không ở bãi lúc đó")
REJECT = Resolution("reject", "Camera ghi đúng biển số và giờ vào, giờ ra")


@pytest.fixture()
def charged(db, operator, citizen, clock):
    """A 5,000 đ stay of the citizen's linked motorbike, billed to them and unpaid."""
    link_vehicle(db, citizen, "29A-123.45", "MOTORBIKE", clock=clock)
    take(db, operator, event("entry", hanoi(8)), clock)
    row = take(db, operator, event("exit", hanoi(12)), clock).session
    db.flush()
    return row


def _dispute(db, citizen, row, clock, reason="not_my_vehicle"):
    return open_dispute(db, citizen, row.public_id, reason=reason, statement="Tôi không gửi xe hôm đó", clock=clock)


def _refunds(db) -> list[Refund]:
    return list(db.scalars(select(Refund).order_by(Refund.id)))


def test_the_payer_disputes_a_session_once_and_disputing_again_answers_the_same_dispute(db, citizen, charged, clock):
    first = _dispute(db, citizen, charged, clock)
    again = _dispute(db, citizen, charged, clock, reason="wrong_times")
    assert again.id == first.id and (first.status, first.reason) == ("open", "not_my_vehicle")
    assert db.scalar(select(func.count()).select_from(ParkingDispute)) == 1
    assert db.scalars(select(AuditEvent.event).where(AuditEvent.target == f"dispute:{first.public_id}")).all() == [
        "parking_dispute_opened"]


def test_only_the_charges_payer_may_dispute_it(db, charged, clock):
    other = Citizen(issuer="https://idp.example", subject="c-2", personal_id_encrypted=b"x",
                    personal_id_hash=VAULT.lookup_hash("079200012378"), personal_id_masked="0792******78",
                    full_name="Lê Minh Châu", eid_level=2, created_at=NOW, updated_at=NOW)
    db.add(other)
    db.flush()
    with pytest.raises(SessionNotFound):
        _dispute(db, other, charged, clock)


@pytest.mark.parametrize("reason, statement", [("because", "Sai"), ("other", "  "), ("other", "x" * 1001)])
def test_a_dispute_needs_a_known_reason_and_a_statement(db, citizen, charged, clock, reason, statement):
    with pytest.raises(DisputeInvalid):
        open_dispute(db, citizen, charged.public_id, reason=reason, statement=statement, clock=clock)


def test_upholding_an_unpaid_charge_cancels_its_bill(db, citizen, charged, clock):
    dispute = _dispute(db, citizen, charged, clock)
    resolved = resolve_dispute(db, dispute.public_id, UPHOLD, actor=OFFICER, clock=clock)
    assert (resolved.status, resolved.remedy, resolved.resolved_by) == ("upheld", "bill_cancelled", OFFICER)
    assert db.get(Bill, charged.bill_id).status == "cancelled" and _refunds(db) == []


def test_upholding_a_paid_charge_refunds_all_of_it_through_the_refund_path(db, citizen, charged, clock,
                                                                          registered_sandbox):
    pay_bill(db, db.get(Bill, charged.bill_id), clock)
    dispute = _dispute(db, citizen, charged, clock)
    resolved = resolve_dispute(db, dispute.public_id, UPHOLD, actor=OFFICER, clock=clock)
    [refund] = _refunds(db)
    assert (resolved.remedy, resolved.refund_id) == ("refund", refund.id)
    assert (refund.amount, refund.status, refund.requested_by) == (5000, "submitted", OFFICER)
    assert refund.reason.startswith(dispute.public_id) and "Biển số đọc sai" in refund.reason


def test_a_partial_refund_and_one_above_the_threshold_waits_for_an_approver(db, citizen, charged, clock,
                                                                           registered_sandbox):
    pay_bill(db, db.get(Bill, charged.bill_id), clock)
    dispute = _dispute(db, citizen, charged, clock, reason="wrong_times")
    resolve_dispute(db, dispute.public_id, Resolution("uphold", "Giờ ra ghi nhầm", refund_amount=2000),
                    actor=OFFICER, clock=clock, approval_threshold=vnd(1000))
    [refund] = _refunds(db)
    assert (refund.amount, refund.status) == (2000, "awaiting_approval")


def test_upholding_an_unpaid_charge_with_a_refund_amount_is_refused_and_changes_nothing(db, citizen, charged, clock):
    dispute = _dispute(db, citizen, charged, clock)
    with pytest.raises(DisputeInvalid):
        resolve_dispute(db, dispute.public_id, Resolution("uphold", "Giảm", refund_amount=1000), actor=OFFICER,
                        clock=clock)
    assert (dispute.status, db.get(Bill, charged.bill_id).status) == ("open", "open")


def test_rejecting_keeps_the_charge_and_needs_a_note(db, citizen, charged, clock):
    dispute = _dispute(db, citizen, charged, clock)
    with pytest.raises(DisputeInvalid):
        resolve_dispute(db, dispute.public_id, Resolution("reject", " "), actor=OFFICER, clock=clock)
    resolved = resolve_dispute(db, dispute.public_id, REJECT, actor=OFFICER, clock=clock)
    assert (resolved.status, resolved.remedy, resolved.resolution_note) == ("rejected", "none", REJECT.note)
    assert db.get(Bill, charged.bill_id).status == "open"
    assert "parking_dispute_rejected" in db.scalars(select(AuditEvent.event)).all()


def test_the_same_resolution_again_answers_the_dispute_and_another_one_is_refused(db, citizen, charged, clock):
    dispute = _dispute(db, citizen, charged, clock)
    resolve_dispute(db, dispute.public_id, UPHOLD, actor=OFFICER, clock=clock)
    assert resolve_dispute(db, dispute.public_id, UPHOLD, actor=OFFICER, clock=clock).status == "upheld"
    with pytest.raises(DisputeAlreadyResolved):
        resolve_dispute(db, dispute.public_id, REJECT, actor="staff:8", clock=clock)


def test_an_operator_resolves_only_its_own_lots_disputes(db, operator, citizen, charged, clock):
    dispute = _dispute(db, citizen, charged, clock)
    other = operator_by_code(db, "HCM-PARKING")
    with pytest.raises(DisputeNotFound):
        resolve_dispute(db, dispute.public_id, REJECT, actor="client:9", operator_id=other.id, clock=clock)
    resolved = resolve_dispute(db, dispute.public_id, REJECT, actor="client:9", operator_id=operator.id, clock=clock)
    assert resolved.resolved_by == "client:9"


def test_two_resolvers_at_once_make_one_resolution_and_one_refund(postgres_only, committed_db, clock,
                                                                  registered_sandbox):
    with committed_db() as session, session.begin():
        seed_lots(session, clock=clock)
        citizen = Citizen(issuer="https://idp.example", subject="c-9", personal_id_encrypted=b"x",
                          personal_id_hash=VAULT.lookup_hash("001094012345"), personal_id_masked="0010******45",
                          full_name="Nguyễn Văn An", eid_level=2, created_at=NOW, updated_at=NOW)
        session.add(citizen)
        session.flush()
        link_vehicle(session, citizen, "29A-123.45", "MOTORBIKE", clock=clock)
        operator = operator_by_code(session, "HN-PARKING")
        take(session, operator, event("entry", hanoi(8)), clock)
        row = take(session, operator, event("exit", hanoi(12)), clock).session
        session.flush()
        pay_bill(session, session.get(Bill, row.bill_id), clock)
        dispute_id = _dispute(session, citizen, row, clock).public_id

    def resolve(actor):
        with committed_db() as session, session.begin():
            try:
                return resolve_dispute(session, dispute_id, Resolution("uphold", f"Hoàn tiền ({actor})"),
                                       actor=actor, clock=clock).resolved_by
            except DisputeAlreadyResolved:
                return "refused"

    with ThreadPoolExecutor(2) as pool:
        answers = sorted(pool.map(resolve, ["staff:1", "staff:2"]))
    with committed_db() as session:
        assert answers.count("refused") == 1 and len(session.scalars(select(Refund)).all()) == 1
