"""The payments hot path's own SQL, as plain statements through SQLAlchemy Core: the benchmark's floor.

``/sql`` (``bench.payments_sql``) writes the rows of a paid bill in one transaction. The services cannot:
the provider call sits between transactions (atomic phases), the bill and the payment are locked and read
before they change, the key records its recovery points, the receipt number comes from a counter. This
floor runs the statements one create + pay issues (captured from the services, 25 of them: 21 of ours and
the 4 of the sandbox provider's session store, which the embedded default keeps in the same database), in
the same eight transactions (five of ours, three of the store's) on a fresh checkout each, with the values
chained from RETURNING as the services chain them, and nothing else: no ORM, no checks, no provider logic.
``floor / SQL endpoint`` is the best ratio the design's SQL allows; ``create + pay / floor`` is what the
services' Python costs on top.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

_BILL_COLUMNS = ("id, public_id, payer_id_hash, payer_name, payer_masked_id, citizen_id, service_code, quantity, "
                 "amount_due, currency, base_amount, subsidy_lines, explanation, rule_set_hash, quote_id, quoted_at, "
                 "previous_amount_due, previous_explanation, fee_kind, retained_basis_points, agency_code, "
                 "agency_reference, description, due_date, status, paid_at, created_at, updated_at")
_PAYMENT_COLUMNS = ("id, public_id, bill_id, provider, status, amount, currency, refunded_amount, provider_session_id, "
                    "provider_payment_ref, next_url, return_url, failure_code, iss, sub, acr, auth_time, created_at, "
                    "expires_at, updated_at, finished_at")

_SANDBOX_COLUMNS = ("session_id, request_digest, reference, amount, currency, expires_at, status, failure_code, "
                    "payment_ref, query_timeouts, events, created_at, updated_at")


def _columns(table: str, names: str) -> str:
    return ", ".join(f"{table}.{name.strip()}" for name in names.split(","))


INSERT_BILL = text(
    "INSERT INTO bills (public_id, payer_id_hash, payer_masked_id, service_code, quantity, amount_due, currency,"
    " base_amount, subsidy_lines, explanation, rule_set_hash, quoted_at, fee_kind, retained_basis_points, agency_code,"
    " agency_reference, description, status, created_at, updated_at) VALUES (:public_id, :payer, '001******345',"
    " 'LLTP', 1, 200000, 'VND', 200000, '[]', '{\"fee\": \"LLTP\"}', :rule_set_hash, :now, 'phi', 0, 'FLOOR',"
    " :reference, '', 'open', :now, :now) ON CONFLICT (agency_code, agency_reference) DO NOTHING"
    f" RETURNING {_columns('bills', _BILL_COLUMNS)}")
CLAIM_KEY = text(
    "INSERT INTO idempotency_keys (scope, key, operation, request_hash, recovery_point, locked_at, created_at)"
    " VALUES ('client:floor', :key, 'start_payment', :hash, 'started', :now, :now) ON CONFLICT (scope, key)"
    " DO NOTHING RETURNING idempotency_keys.id")
LOCK_BILL = text(f"SELECT {_columns('bills', _BILL_COLUMNS)} FROM bills WHERE bills.public_id = :bill FOR UPDATE")
INSERT_PAYMENT = text(
    "INSERT INTO payments (public_id, bill_id, provider, status, amount, currency, refunded_amount, return_url, iss,"
    " sub, acr, auth_time, created_at, expires_at, updated_at) VALUES (:code, :bill_id, 'sandbox', 'created', 200000,"
    " 'VND', 0, 'https://bench.example.vn/done', 'https://vneid.bench', 'bench-citizen', 'level2', :now, :now,"
    f" :expires, :now) ON CONFLICT DO NOTHING RETURNING {_columns('payments', _PAYMENT_COLUMNS)}")
EVENT = text(
    "INSERT INTO payment_events (payment_id, from_status, to_status, event, cause, provider_event_id, occurred_at)"
    " VALUES (:payment_id, :before, :after, :after, :cause, NULL, :now) RETURNING payment_events.id")
ADVANCE_KEY = text("UPDATE idempotency_keys SET recovery_point = 'payment_created', resource_id = :payment_id"
                   " WHERE idempotency_keys.id = :key_id")
LOCK_PAYMENT = text(f"SELECT {_columns('bills', _BILL_COLUMNS)}, {_columns('payments', _PAYMENT_COLUMNS)} FROM bills"
                    " JOIN payments ON payments.bill_id = bills.id WHERE payments.public_id = :code FOR UPDATE")
SUBMIT = text("UPDATE payments SET status = 'submitted', provider_session_id = :session, next_url = :next_url,"
              " updated_at = :now WHERE payments.id = :payment_id")
FINISH_KEY = text("UPDATE idempotency_keys SET recovery_point = 'finished', locked_at = NULL, response_status = 201,"
                  " response_body = :body WHERE idempotency_keys.id = :key_id")
STATUS = text("SELECT status FROM payments WHERE public_id = :code")
LOAD_PAYMENT = text(f"SELECT {_columns('payments', _PAYMENT_COLUMNS)} FROM payments WHERE payments.public_id = :code")
SUCCEED = text("UPDATE payments SET status = 'succeeded', provider_payment_ref = :ref, updated_at = :now,"
               " finished_at = :now WHERE payments.id = :payment_id")
BILL_EVENT = text(
    "INSERT INTO bill_events (bill_id, from_status, to_status, event, actor, occurred_at)"
    " VALUES (:bill_id, :before, :after, :event, :actor, :now) RETURNING bill_events.id")
PAY_BILL = text("UPDATE bills SET status = 'paid', paid_at = :now, updated_at = :now WHERE bills.id = :bill_id")
LEDGER_TRANSACTION = text(
    "INSERT INTO ledger_transactions (source, external_id, kind, description, effective_date, posted_at, bill_id,"
    " payment_id) VALUES ('floor', :external_id, 'payment_captured', 'LLTP', coalesce((SELECT"
    " ledger_closed_days.reopens_on FROM ledger_closed_days WHERE ledger_closed_days.day = :day), :day), :now,"
    " :bill_id, :payment_id) ON CONFLICT (source, external_id) DO NOTHING RETURNING ledger_transactions.id")
ACCOUNTS = text("SELECT ledger_accounts.id, ledger_accounts.code, ledger_accounts.kind, ledger_accounts.currency,"
                " ledger_accounts.created_at FROM ledger_accounts WHERE ledger_accounts.code IN"
                " ('clearing:sandbox', 'budget_payable:BENCH')")
POSTINGS = text("INSERT INTO ledger_postings (transaction_id, account_id, side, amount, currency) VALUES"
                " (:transaction_id, :debit, 'debit', 200000, 'VND'),"
                " (:transaction_id, :credit, 'credit', 200000, 'VND')")
NEXT_NUMBER = text("INSERT INTO receipt_counters (series, year, last_number) VALUES ('FLOOR', 2026, 1)"
                   " ON CONFLICT (series, year) DO UPDATE SET last_number = receipt_counters.last_number + 1"
                   " RETURNING receipt_counters.last_number")
RECEIPT = text(
    "INSERT INTO receipts (public_id, bill_id, payment_id, series, year, number, status, agency_code, payer_id_hash,"
    " payer_masked_id, service_code, fee_kind, base_amount, amount_paid, currency, subsidy_lines, explanation,"
    " method, collected_at, issued_at) VALUES (:public_id, :bill_id, :payment_id, 'FLOOR', 2026, :number, 'issued',"
    " 'FLOOR', :payer, '001******345', 'LLTP', 'phi', 200000, 200000, 'VND', '[]', '{\"fee\": \"LLTP\"}',"
    " 'sandbox', :now, :now) RETURNING receipts.id")

SANDBOX_OPEN = text(f"INSERT INTO sandbox_sessions ({_SANDBOX_COLUMNS}) VALUES (:session, :digest, :code, 200000,"
                    " 'VND', :expires, 'pending', NULL, NULL, 0, 0, :now, :now)")
SANDBOX_LOCK = text(f"SELECT {_columns('sandbox_sessions', _SANDBOX_COLUMNS)} FROM sandbox_sessions"
                    " WHERE sandbox_sessions.session_id = :session FOR UPDATE")
SANDBOX_PAID = text("UPDATE sandbox_sessions SET request_digest = :digest, reference = :code, amount = 200000,"
                    " currency = 'VND', expires_at = :expires, status = 'succeeded', failure_code = NULL,"
                    " payment_ref = :ref, query_timeouts = 0, events = 1, created_at = :now, updated_at = :now"
                    " WHERE sandbox_sessions.session_id = :session")


def create_and_pay(engine: Engine, reference: str, key: str) -> dict[str, object]:
    """Issue the hot path's statements for one bill, transaction by transaction."""
    now = datetime.now(UTC)
    with engine.begin() as connection:  # create_bill
        bill = connection.execute(INSERT_BILL, {"public_id": secrets.token_hex(16), "payer": f"payer-{reference}",
                                                "rule_set_hash": "r" * 64, "now": now, "reference": reference}).one()
        connection.execute(BILL_EVENT, {"bill_id": bill.id, "before": None, "after": "open", "event": "created",
                                        "actor": "agency:FLOOR", "now": now})
    code = "GW" + secrets.token_hex(5).upper()
    with engine.begin() as connection:  # phase 1: claim the key, create the payment under the bill's lock
        key_id = connection.execute(CLAIM_KEY, {"key": key, "hash": hashlib.sha256(key.encode()).hexdigest(),
                                                "now": now}).scalar_one()
        connection.execute(LOCK_BILL, {"bill": bill.public_id}).one()
        payment = connection.execute(INSERT_PAYMENT, {"code": code, "bill_id": bill.id, "now": now,
                                                      "expires": now + timedelta(minutes=30)}).one()
        connection.execute(EVENT, {"payment_id": payment.id, "before": None, "after": "created", "cause": "payer",
                                   "now": now})
        connection.execute(ADVANCE_KEY, {"payment_id": payment.id, "key_id": key_id})
    session = "sbx_" + secrets.token_hex(12)
    sandbox = {"session": session, "digest": hashlib.sha256(session.encode()).hexdigest(), "code": code,
               "expires": now + timedelta(minutes=30), "now": now, "ref": "sbxpay_" + session[4:]}
    with engine.begin() as connection:  # phase 2: the provider opens its session (the sandbox's store)
        connection.execute(SANDBOX_OPEN, sandbox)
    with engine.begin() as connection:  # phase 3: record the provider session, store the key's response
        connection.execute(LOCK_PAYMENT, {"code": code}).one()
        connection.execute(EVENT, {"payment_id": payment.id, "before": "created", "after": "submitted",
                                   "cause": "provider_session", "now": now})
        connection.execute(SUBMIT, {"session": session, "next_url": f"http://127.0.0.1/sandbox/pay/{session}",
                                    "now": now, "payment_id": payment.id})
        body = {"payment_id": code, "bill_id": bill.public_id, "provider": "sandbox", "status": "submitted",
                "amount": 200000, "currency": "VND", "next_url": f"http://127.0.0.1/sandbox/pay/{session}"}
        connection.execute(FINISH_KEY, {"body": json.dumps(body), "key_id": key_id})
    with engine.connect() as connection:
        connection.execute(STATUS, {"code": code}).scalar_one()
    with engine.begin() as connection:  # the card: the sandbox records the outcome and numbers its notification
        connection.execute(SANDBOX_LOCK, sandbox).one()
        connection.execute(SANDBOX_PAID, sandbox)
    with engine.begin() as connection:  # the return: confirm, settle, post, number the receipt
        connection.execute(LOAD_PAYMENT, {"code": code}).one()
        with engine.begin() as provider:  # the status query, on the store's own connection
            provider.execute(SANDBOX_LOCK, sandbox).one()
        connection.execute(LOCK_PAYMENT, {"code": code}).one()
        connection.execute(EVENT, {"payment_id": payment.id, "before": "submitted", "after": "succeeded",
                                   "cause": "return_url", "now": now})
        connection.execute(SUCCEED, {"ref": "sbxpay_" + session[4:], "now": now, "payment_id": payment.id})
        connection.execute(BILL_EVENT, {"bill_id": bill.id, "before": "open", "after": "paid", "event": "paid",
                                        "actor": f"payment:{code}", "now": now})
        connection.execute(PAY_BILL, {"now": now, "bill_id": bill.id})
        transaction_id = connection.execute(LEDGER_TRANSACTION, {
            "external_id": f"bill:{bill.public_id}:settled", "day": now.date(), "now": now, "bill_id": bill.id,
            "payment_id": payment.id}).scalar_one()
        accounts = {row.code: row.id for row in connection.execute(ACCOUNTS)}
        connection.execute(POSTINGS, {"transaction_id": transaction_id, "debit": accounts["clearing:sandbox"],
                                      "credit": accounts["budget_payable:BENCH"]})
        number = connection.execute(NEXT_NUMBER).scalar_one()
        connection.execute(RECEIPT, {"public_id": secrets.token_hex(16), "bill_id": bill.id, "payment_id": payment.id,
                                     "number": number, "payer": f"payer-{reference}", "now": now})
    return {"bill_id": bill.public_id, "payment_id": code, "status": "succeeded"}
