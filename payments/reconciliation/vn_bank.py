"""Vietnamese bank statement exports ("sao kê"), CSV or XLSX, in the two common layouts.

* ``debit_credit``: Ngày GD | Số tham chiếu | Ghi nợ | Ghi có | Số dư | Diễn giải (Vietcombank, VietinBank …)
* ``signed``: STT | Ngày giao dịch | Ngày hiệu lực | Mã giao dịch | Mô tả | Số tiền (+/-) | Số dư (Techcombank …)

A header block above the table gives the account, currency and opening balance; a closing-balance row may
follow it. Amounts are whole dong written ``26,338,000`` or ``26.338.000``. Each line's running balance
must follow from the one before (in file order or, for newest-first exports, reversed): a file that does
not add up was misread or edited, and is rejected whole. Our payment code is found in the free text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from payments.codes import extract_payment_code
from payments.reconciliation.parsed import Balance, ImportRejected, ParsedFile, Statement, StatementLine, sha256_of
from payments.reconciliation.tabular import Row, normalise_header, rows_of

SOURCE = "bank statement"
_AMOUNT = re.compile(r"^[+-]?(\d{1,3}([.,]\d{3})+|\d+)$")
_LABELS = {
    "account": ("số tài khoản", "tài khoản", "account number", "account no"),
    "currency": ("loại tiền", "đơn vị tiền", "currency"),
    "opening": ("số dư đầu kỳ", "opening balance"),
    "closing": ("số dư cuối kỳ", "closing balance"),
}


@dataclass(frozen=True)
class Layout:
    """A statement table layout: which header names mean which field."""

    name: str
    columns: dict[str, tuple[str, ...]]


LAYOUTS = (
    Layout("debit_credit", {"booked_on": ("ngày gd", "ngày giao dịch", "ngày"), "reference": ("số tham chiếu", "số ct"),
                            "debit": ("ghi nợ", "số tiền ghi nợ"), "credit": ("ghi có", "số tiền ghi có"),
                            "balance": ("số dư",), "description": ("diễn giải", "nội dung")}),
    Layout("signed", {"booked_on": ("ngày giao dịch",), "value_on": ("ngày hiệu lực",),
                      "reference": ("mã giao dịch", "số bút toán"), "description": ("mô tả", "nội dung"),
                      "amount": ("số tiền", "số tiền (+/-)"), "balance": ("số dư",)}),
)


def parse(content: bytes) -> ParsedFile:
    """Read a Vietnamese bank statement export (CSV or XLSX)."""
    rows = rows_of(content, source=SOURCE)
    header_at, layout, positions = _find_header(rows)
    meta = _metadata(rows[:header_at] + rows[header_at + 1:])
    if meta.get("currency", "VND").upper() != "VND":
        raise ImportRejected(f"currency {meta['currency']!r}: only VND statements use this layout", source=SOURCE)
    table = _table_rows(rows[header_at + 1:])
    lines, balances = zip(*[_line(number, cells, layout, positions) for number, cells in table], strict=True) \
        if table else ((), ())
    opening = _balance_value(meta.get("opening"), row=None)
    closing = _balance_value(meta.get("closing"), row=None)
    _check_running_balances(list(lines), list(balances), opening)
    return ParsedFile(f"vn_bank:{layout.name}", sha256_of(content), statements=(Statement(
        account=meta.get("account", ""), currency="VND", statement_id=None, lines=tuple(lines),
        opening=Balance(opening, "VND") if opening is not None else None,
        closing=Balance(closing, "VND") if closing is not None else None),))


def _find_header(rows: list[Row]) -> tuple[int, Layout, dict[str, int]]:
    for index, (_, cells) in enumerate(rows[:40]):
        names = [normalise_header(c) for c in cells]
        for layout in LAYOUTS:
            positions = {field: next((i for i, n in enumerate(names) if n in aliases), -1)
                         for field, aliases in layout.columns.items()}
            if all(p >= 0 for p in positions.values()):
                return index, layout, positions
    raise ImportRejected("no statement table header (Ngày GD … Ghi nợ / Ghi có, or Ngày giao dịch … Số tiền)",
                         source=SOURCE)


def _metadata(rows: list[Row]) -> dict[str, str]:
    found: dict[str, str] = {}
    for _, cells in rows:
        for i, cell in enumerate(cells):
            label = normalise_header(cell.rstrip(":"))
            for key, names in _LABELS.items():
                if key not in found and any(label.startswith(n) for n in names):
                    value = next((c for c in cells[i + 1:] if c), "")
                    if value:
                        found[key] = value
    return found


def _table_rows(rows: list[Row]) -> list[Row]:
    table = []
    for number, cells in rows:
        if not any(cells):
            break
        if any(normalise_header(c.rstrip(":")).startswith(_LABELS["closing"]) for c in cells):
            break
        table.append((number, cells))
    return table


def _line(number: int, cells: list[str], layout: Layout, positions: dict[str, int]) -> tuple[StatementLine, int]:
    def cell(field: str) -> str:
        index = positions.get(field, -1)
        return cells[index] if 0 <= index < len(cells) else ""

    if layout.name == "debit_credit":
        debit, credit = _amount(cell("debit"), number), _amount(cell("credit"), number)
        if bool(debit) == bool(credit):
            raise ImportRejected("a line needs exactly one of Ghi nợ / Ghi có", row=number, source=SOURCE)
        amount = credit - debit
    else:
        amount = _amount(cell("amount"), number)
        if amount == 0:
            raise ImportRejected("a line without an amount", row=number, source=SOURCE)
    description, reference = cell("description"), cell("reference") or None
    value_on = _date(cell("value_on"), number) if cell("value_on") else None
    line = StatementLine(row=number, booked_on=_date(cell("booked_on"), number), amount=amount, currency="VND",
                         description=description, value_on=value_on, bank_reference=reference,
                         payment_code=extract_payment_code(description, reference))
    return line, _balance_value(cell("balance"), row=number)


def _amount(text: str, row: int) -> int:
    text = text.replace(" ", "").replace("\u00a0", "").removesuffix("VND").removesuffix("đ")
    if not text:
        return 0
    if not _AMOUNT.match(text):
        raise ImportRejected(f"amount {text!r} is not whole dong", row=row, source=SOURCE)
    return int(re.sub(r"[.,+]", "", text))


def _balance_value(text: str | None, *, row: int | None) -> int | None:
    if text is None or not text.strip():
        return None
    return _amount(text, row or 0)


def _date(text: str, row: int) -> date:
    for pattern in ("%d/%m/%Y", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d-%m-%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise ImportRejected(f"date {text!r} is not dd/mm/yyyy", row=row, source=SOURCE)


def _check_running_balances(lines: list[StatementLine], balances: list[int | None], opening: int | None) -> None:
    """Each running balance must follow from the previous one, in file order or newest-first."""
    if not lines or any(b is None for b in balances):
        return
    forward = list(range(len(lines)))
    bad_rows = [_first_break(lines, balances, order, opening) for order in (forward, forward[::-1])]
    if None in bad_rows:
        return
    bad = bad_rows[0]
    raise ImportRejected(f"running balance {balances[bad]:,} does not follow from the line before",
                         row=lines[bad].row, source=SOURCE)


def _first_break(lines: list[StatementLine], balances: list[int], order: list[int],
                 opening: int | None) -> int | None:
    """Return the index of the first line whose balance does not follow, or None if all do."""
    running = opening if opening is not None else balances[order[0]] - lines[order[0]].amount
    for index in order:
        running += lines[index].amount
        if balances[index] != running:
            return index
    return None
