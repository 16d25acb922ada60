"""Creating and paying a bill keeps its statement budget (issue 5: throughput of the payment path).

Each statement is a round trip to the database; `make bench` shows what they cost. The budget counts the
services a citizen's requests run (the agency's create, start payment, the return URL's confirmation),
with every guarantee in place: idempotency key phases, row locks, ledger, receipt numbering, events.
"""

from __future__ import annotations

import re
from collections import Counter
from contextlib import contextmanager

from sqlalchemy import event

from bench import payments_floor
from payments.bills import create_bill
from payments.checkout import start_payment
from payments.models.billing import Bill, Payment, PaymentEvent
from payments.models.ledger import LedgerPosting
from payments.models.receipts import Receipt
from payments.notifications import check_on_return
from payments.starting import PayerSession
from tests.payments.factories import new_bill
from tests.payments.helpers import count

#: create_bill 2 (the bill and its history's first row), claim phase 5, record phase 4, confirmation with
#: settlement (the bill's paid event among them), ledger and receipt 11; and the
#: agency callback hook (payments.agency_callbacks) asks once per commit with a payment event or receipt
#: whether the bill came from the API (twice: the claim and the confirmation).
STATEMENT_BUDGET = 24
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextmanager
def _statements(*engines):
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            seen.append(statement)

    for engine in set(engines):
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in set(engines):
            event.remove(engine, "before_cursor_execute", record)


def _create_and_pay(factory, clock, sandbox, key: str, **bill) -> Payment:
    with factory() as session, session.begin():
        bill_id = create_bill(session, new_bill(**bill), clock=clock).public_id
    started = start_payment(factory, scope="citizen:1", idempotency_key=key, bill_public_id=bill_id,
                            provider_name="sandbox", payer=PayerSession(eid_level=2, sub="1"), return_url="https://pay.test/r",
                            clock=clock)
    sandbox.pay(started.body["next_url"].rsplit("/", 1)[1], "4242424242424242")
    with factory() as session, session.begin():
        return check_on_return(session, started.body["payment_id"], clock=clock)


def test_creating_and_paying_a_bill_stays_within_its_statement_budget(committing, clock, sandbox):
    _create_and_pay(committing, clock, sandbox, "warm-up")  # the first payment creates the ledger accounts
    with _statements(committing.kw["bind"]) as statements:
        payment = _create_and_pay(committing, clock, sandbox, "measured")
    assert payment.status == "succeeded"
    assert len(statements) <= STATEMENT_BUDGET, "\n".join(s.split("\n")[0][:100] for s in statements)
    with committing() as session:  # everything a paid bill writes is there
        assert count(session, Bill, Bill.status == "paid") == 2
        assert count(session, PaymentEvent, PaymentEvent.payment_id == payment.id) == 3
        assert count(session, Receipt, Receipt.payment_id == payment.id) == 1
        assert count(session, LedgerPosting) == 4


def _shapes(statements: list[str]) -> Counter:
    """Each statement as (verb, first table): what it costs the database, whatever its text looks like."""
    shapes = Counter()
    for statement in statements:
        found = re.match(r"\s*(INSERT INTO|UPDATE|SELECT\s.*?\sFROM)\s+(\w+)", statement, re.DOTALL)
        shapes[(found.group(1).split()[0], found.group(2))] += 1
    return shapes


def test_the_benchmark_floor_issues_the_statements_the_services_issue(committing, clock, sandbox, sandbox_store,
                                                                     postgres_only):
    # bench/payments_floor.py claims to be the path's own SQL without the services' Python: it must issue
    # the same statements on the same tables (plus the bench's status read), or its ratio means nothing.
    # The sandbox's session store is on the path too (the embedded default keeps it in the same database).
    # The warm-up creates the ledger accounts both paths post to (the floor's are the agency BENCH's).
    _create_and_pay(committing, clock, sandbox, "warm-up", agency_code="BENCH")
    with _statements(committing.kw["bind"], sandbox_store._engine) as services:
        _create_and_pay(committing, clock, sandbox, "services", agency_code="BENCH")
    with _statements(committing.kw["bind"]) as floor:
        assert payments_floor.create_and_pay(committing.kw["bind"], "floor-1", "floor-key")["status"] == "succeeded"
    hook = Counter({("SELECT", "agency_bills"): 2})  # the agency callback hook's look-ups (not in the bench app)
    status_read = Counter({("SELECT", "payments"): 1})
    assert _shapes(floor) - status_read == _shapes(services) - hook
