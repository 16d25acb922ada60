"""Stripe reports read set-based on PostgreSQL: staged rows converted and checked in one INSERT … SELECT.

This is ``stripe_reports.parse`` + ``imports._provider_row`` written in SQL, for files of a million lines.
It never decides that a file is malformed: every row must pass strict checks (plain ``YYYY-MM-DD HH:MM:SS``
timestamps, plain decimal amounts with no more decimals than the currency has, gross - fee = net, a
transaction id, a known currency). If one row does not, or a cast fails, nothing is kept and the caller
hands the file to the Python reader, which then accepts it or rejects it with the row and the reason, as
it always has. So both paths accept the same files and store the same rows (tests/payments/reconciliation/
test_staged_import.py proves it on every fixture).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import postgres_settings
from core.money import ISO4217_EXPONENTS
from payments.codes import PAYMENT_CODE
from payments.reconciliation.staging import PY_WHITESPACE, TABLE, StagedCsv, drop_staging, stage_csv
from payments.reconciliation.stripe_reports import REQUIRED

#: A decimal amount in a currency with minor units; dong amounts are cast to bigint directly.
_AMOUNT = r"^-?[0-9]{1,15}(\.[0-9]{1,3})?$"
#: Characters whose Python upper case holds ASCII letters (``ß`` -> ``SS``): code search would differ.
_UPPER_TO_ASCII = "".join(c for c in map(chr, range(0x80, 0x10000))
                          if any(ord(u) < 0x80 for u in c.upper()) or c in "ıſ")


@dataclass(frozen=True)
class StagedStripe:
    """A Stripe CSV staged for the set-based path: its columns, format, and how many lines it holds."""

    csv: StagedCsv
    format: str
    line_count: int


def stage_stripe(session: Session, content: bytes) -> StagedStripe | None:
    """COPY ``content`` into staging; None when the Python reader must read it (not a plain CSV, no lines).

    Call it inside a savepoint: on None, or on a database error, the caller rolls back and reads in Python.
    """
    staged = stage_csv(session, content)
    if staged is None or any(name not in staged.header for name in REQUIRED):
        return None
    # Python skips records whose cells are all blank; every other record must become a line. Python's csv
    # module also refuses a cell longer than its field limit: such a file is left to it.
    count, longest = session.execute(text(
        f"SELECT count(*) FILTER (WHERE btrim(record, :ws) <> ''), max(length(record)) "
        f"FROM (SELECT concat({_cells(staged)}) AS record FROM {TABLE} OFFSET 0) AS records"),
        {"ws": PY_WHITESPACE}).one()
    if not count or longest > csv.field_size_limit():
        return None
    kind = "stripe_payout_reconciliation" if "automatic_payout_id" in staged.header else "stripe_balance_change"
    return StagedStripe(staged, kind, count)


def store_stripe_lines(session: Session, staged: StagedStripe, file_id: int) -> bool:
    """Convert, check and insert every staged record as a line of ``file_id``, in file order.

    False when a record fails a check: the caller must roll back (the other lines went in) and use Python.
    """
    # Timestamps are checked by printing them back, so the print style is fixed; the sort by row fits in memory.
    with postgres_settings(session, datestyle="ISO, YMD", work_mem="128MB"):
        stored = session.execute(text(_INSERT.format(select=_normalise_sql(staged.csv))),
                                 {**_params(), "file_id": file_id}).rowcount
    drop_staging(session)
    return stored == staged.line_count


_INSERT = """
INSERT INTO report_lines (file_id, kind, statement_index, "row", booked_on, value_on, occurred_at, amount, fee, net,
                          currency, description, payment_code, bank_reference, provider_reference, end_to_end_id,
                          payout_id, category, reversal)
SELECT :file_id, 'provider', -1, row_no, booked_on, value_on, occurred_at, gross, fee, net, currency, description,
       payment_code, NULL, provider_reference, NULL, payout_id, category, FALSE
FROM ({select}) AS lines ORDER BY row_no
"""


def _cells(staged: StagedCsv) -> str:
    return ", ".join(f"c{i}" for i in range(len(staged.header)))


def _params() -> dict[str, object]:
    return {"ws": PY_WHITESPACE, "amount": _AMOUNT, "code": "(?i)" + PAYMENT_CODE.pattern,
            "odd": f"[{_UPPER_TO_ASCII}]", "lower": "abcdefghijklmnopqrstuvwxyz", "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def _normalise_sql(staged: StagedCsv) -> str:
    """One pass over the staged rows: trimmed cells -> checked, converted line columns, kept only if all hold.

    Timestamps are taken only as Stripe writes them (``YYYY-MM-DD HH:MM:SS``, checked by printing them back
    in ISO style); fractions or offsets are left to the Python reader. From 1976 on, Asia/Ho_Chi_Minh is
    UTC+7 in every time zone database, so the business day is the UTC instant + 7 hours.
    """
    def cell(name: str) -> str:
        column = staged.column(name)
        if column is None:
            return "''"
        return f"btrim(coalesce({column}, ''), :ws)" if staged.trim else f"coalesce({column}, '')"

    metadata = [name for name in staged.header if name.startswith("payment_metadata[") and name.endswith("]")]
    metadata_cells = "".join(f", {cell(name)} AS m{i}" for i, name in enumerate(metadata))
    # Our code: the first found in the metadata values (in column order), then in the description. Python
    # upper-cases first; matching case-blind is the same for ASCII, and odd characters are left to Python.
    found = [f"substring(m{i} from :code)" for i in range(len(metadata))]
    in_metadata = f"coalesce({', '.join(found)})" if found else "NULL"
    plain = " AND ".join(_plain(f"t.m{i}") for i in range(len(metadata))) or "TRUE"
    exponents = " ".join(f"WHEN '{name}' THEN {exponent}" for name, exponent in ISO4217_EXPONENTS.items())
    # Each level is fenced (OFFSET 0) so every cell is trimmed and converted once per row, not once per use.
    # A cast that fails (a bigint that is not one, 30 February) fails the statement: the caller falls back.
    return f"""
        SELECT row_no, (created + interval '7 hours')::date AS booked_on, available::date AS value_on,
               created AT TIME ZONE 'UTC' AS occurred_at, gross, fee, net, currency, description,
               translate(coalesce(metadata_code, substring(description_text from :code)), :lower, :upper)
                   AS payment_code,
               left(reference, 100) AS provider_reference, left(payout, 64) AS payout_id, category
        FROM (
            SELECT t.*, x.exponent, c.metadata_code, {_amount('gross_text')} AS gross, {_amount('fee_text')} AS fee,
                   {_amount('net_text')} AS net, created_text::timestamp AS created,
                   nullif(available_text, '')::timestamp AS available
            FROM (
                SELECT row_no, {cell('balance_transaction_id')} AS reference, {cell('created_utc')} AS created_text,
                       {cell('available_on_utc')} AS available_text,
                       translate({cell('currency')}, :lower, :upper) AS currency,
                       coalesce(nullif({cell('gross')}, ''), '0') AS gross_text,
                       coalesce(nullif({cell('fee')}, ''), '0') AS fee_text,
                       coalesce(nullif({cell('net')}, ''), '0') AS net_text,
                       {cell('reporting_category')} AS category, nullif({cell('automatic_payout_id')}, '') AS payout,
                       {cell('description')} AS description_text, {cell('payment_metadata[txn_ref]')} AS description
                       {metadata_cells}
                FROM {TABLE} OFFSET 0
            ) t, LATERAL (SELECT CASE t.currency {exponents} END AS exponent) x,
                 LATERAL (SELECT {in_metadata} AS metadata_code) c
            WHERE x.exponent IS NOT NULL AND t.reference <> '' AND length(t.category) <= 40 AND {plain}
              AND CASE WHEN c.metadata_code IS NOT NULL THEN TRUE ELSE {_plain('t.description_text')} END
            OFFSET 0
        ) t
        WHERE gross IS NOT NULL AND fee IS NOT NULL AND net IS NOT NULL AND gross - fee = net
          AND created::text = replace(created_text, 'T', ' ')
          AND (available IS NULL OR available::text = replace(available_text, 'T', ' '))
          AND created >= '1976-01-01' AND created < '9000-01-01'
          AND (available IS NULL OR available >= '1976-01-01' AND available < '9000-01-01')
    """


def _plain(column: str) -> str:
    """ASCII, or at least free of characters that Python upper-cases into ASCII letters."""
    return f"CASE WHEN octet_length({column}) = length({column}) THEN TRUE ELSE {column} !~ :odd END"


def _amount(column: str) -> str:
    """Minor units: dong cast straight to bigint; decimals only when exact to the currency's exponent."""
    exact = f"{column}::numeric * 10::numeric ^ exponent"
    return (f"CASE WHEN exponent = 0 THEN {column}::bigint "
            f"WHEN {column} ~ :amount AND {exact} = trunc({exact}) THEN ({exact})::bigint END")
