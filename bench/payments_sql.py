"""The rows one created-and-paid bill writes, as plain INSERTs: the SQL baseline (SQLAlchemy Core and pgbench).

The same nine rows the payments services insert for a paid bill (an idempotency key, the bill, the
payment, three payment events, the collection's ledger transaction with its two postings, the receipt),
without the services' reads, updates, row locks and receipt counter. Ids chain through ``currval`` so the
text runs unchanged in pgbench; the accounts must exist (the bench creates them with a warm-up payment). A
look-up by ``currval`` is wrapped in a sub-select: ``currval`` is volatile, so ``id = currval(…)`` would
scan the whole table for every row and slow the baseline down as the bench fills it.
"""

from __future__ import annotations

UNIQUE = "md5(random()::text || clock_timestamp()::text)"
BILL = "(SELECT public_id FROM bills WHERE id = (SELECT currval('bills_id_seq')))"

STATEMENTS = (
    "INSERT INTO idempotency_keys (scope, key, operation, request_hash, recovery_point, created_at, response_status,"
    f" response_body) VALUES ('client:baseline', {UNIQUE}, 'start_payment', repeat('0', 64), 'finished', now(),"
    " 201, '{\"status\": \"succeeded\"}')",
    "INSERT INTO bills (public_id, payer_id_hash, payer_masked_id, service_code, quantity, amount_due, currency,"
    " base_amount, subsidy_lines, explanation, rule_set_hash, quoted_at, fee_kind, retained_basis_points,"
    " agency_code, agency_reference, description, status, paid_at, created_at, updated_at)"
    f" VALUES ({UNIQUE}, 'payer-baseline', '001******345', 'LLTP', 1, 200000, 'VND', 200000, '[]',"
    " '{\"fee\": \"LLTP\"}', repeat('r', 64), now(), 'phi', 0, 'BASELINE', " + UNIQUE + ", '', 'paid', now(), now(),"
    " now())",
    "INSERT INTO payments (public_id, bill_id, provider, status, amount, currency, refunded_amount,"
    " provider_session_id, provider_payment_ref, next_url, return_url, iss, sub, acr, auth_time, created_at,"
    " expires_at, updated_at, finished_at) SELECT public_id, id, 'sandbox', 'succeeded', 200000, 'VND', 0,"
    " 'sbx_' || public_id, 'sbxpay_' || public_id, 'http://127.0.0.1/sandbox/pay/sbx_' || public_id,"
    " 'https://bench.example.vn/done', 'https://vneid.bench', 'bench-citizen', 'level2', now(), now(),"
    " now() + interval '30 minutes', now(), now() FROM bills WHERE id = (SELECT currval('bills_id_seq'))",
    *(f"INSERT INTO payment_events (payment_id, from_status, to_status, event, cause, occurred_at) VALUES"
      f" (currval('payments_id_seq'), {before}, '{after}', '{after}', '{cause}', now())"
      for before, after, cause in (("NULL", "created", "payer"), ("'created'", "submitted", "provider_session"),
                                   ("'submitted'", "succeeded", "return_url"))),
    "INSERT INTO ledger_transactions (source, external_id, kind, description, effective_date, posted_at, bill_id,"
    f" payment_id) VALUES ('baseline', 'bill:' || {BILL} || ':' || 'settled', 'payment_captured', 'LLTP', current_date,"
    " now(), currval('bills_id_seq'), currval('payments_id_seq'))",
    "INSERT INTO ledger_postings (transaction_id, account_id, side, amount, currency)"
    " SELECT currval('ledger_transactions_id_seq'), a.id, v.side, 200000, 'VND' FROM ledger_accounts a"
    " JOIN (VALUES ('clearing:sandbox', 'debit'), ('budget_payable:BENCH', 'credit')) AS v(code, side)"
    " ON a.code = v.code",
    "INSERT INTO receipts (public_id, bill_id, payment_id, series, year, number, status, agency_code, payer_id_hash,"
    " service_code, fee_kind, base_amount, amount_paid, currency, subsidy_lines, explanation, method, collected_at,"
    f" issued_at) SELECT {UNIQUE}, id, currval('payments_id_seq'), 'BASELINE', 2026, id, 'issued', agency_code,"
    " payer_id_hash, service_code, fee_kind, base_amount, amount_due, currency, subsidy_lines, explanation,"
    " 'sandbox', now(), now() FROM bills WHERE id = (SELECT currval('bills_id_seq'))",
)


def pgbench_script() -> str:
    """The statements as one pgbench transaction."""
    return "BEGIN;\n" + "".join(f"{statement};\n" for statement in STATEMENTS) + "COMMIT;\n"
