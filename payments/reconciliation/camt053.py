"""ISO 20022 camt.053 (bank-to-customer statement), versions 001.02 to 001.08, read safely.

defusedxml refuses entity expansion and external entities (billion laughs, XXE). Namespaces differ per
version, so elements are matched by local name. Amounts are read as exact decimals, never floats.
"""

from __future__ import annotations

from datetime import date, datetime
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from payments.codes import extract_payment_code
from payments.reconciliation.parsed import (
    Balance,
    ImportRejected,
    ParsedFile,
    Statement,
    StatementLine,
    minor,
    sha256_of,
)

SOURCE = "camt.053"
OPENING_CODES = ("OPBD", "PRCD")
CLOSING_CODES = ("CLBD",)


class _EntryLines(TreeBuilder):
    """Builds the tree and remembers the line on which each ``<Ntry>`` starts (its row in errors)."""

    def __init__(self) -> None:
        super().__init__()
        self.parser: DefusedXMLParser | None = None
        self.lines: dict[int, int] = {}

    def start(self, tag, attrs):
        element = super().start(tag, attrs)
        if _local(tag) == "Ntry" and self.parser is not None:
            self.lines[id(element)] = self.parser.parser.CurrentLineNumber
        return element


def parse(content: bytes) -> ParsedFile:
    """Read a camt.053 message with one or more statements."""
    builder = _EntryLines()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.parser = parser
    try:
        parser.feed(content)
        root = parser.close()
    except (ParseError, DefusedXmlException) as exc:
        raise ImportRejected(f"not well-formed or unsafe XML: {exc}", source=SOURCE) from None
    if _local(root.tag) != "Document" or _child(root, "BkToCstmrStmt") is None:
        raise ImportRejected("not a camt.053 document (no BkToCstmrStmt)", source=SOURCE)
    statements = tuple(_statement(element, builder.lines) for element in _all(_child(root, "BkToCstmrStmt"), "Stmt"))
    if not statements:
        raise ImportRejected("no statement in the file", source=SOURCE)
    return ParsedFile("camt053", sha256_of(content), statements=statements)


def _statement(element: Element, entry_lines: dict[int, int]) -> Statement:
    account = _child(element, "Acct")
    balances = {_text(b, "Tp", "CdOrPrtry", "Cd"): _balance(b) for b in _all(element, "Bal")}
    lines = tuple(_line(entry, entry_lines[id(entry)]) for entry in _all(element, "Ntry"))
    opening = next((balances[c] for c in OPENING_CODES if c in balances), None)
    return Statement(
        account=_text(account, "Id", "IBAN") or _text(account, "Id", "Othr", "Id") or "",
        currency=_account_currency(account, opening, lines),
        statement_id=_text(element, "Id"),
        lines=lines,
        opening=opening,
        closing=next((balances[c] for c in CLOSING_CODES if c in balances), None),
    )


def _account_currency(account: Element | None, opening: Balance | None, lines: tuple[StatementLine, ...]) -> str:
    """``<Acct><Ccy>``; without it the opening balance's, else the first entry's. Never another balance's:
    each balance keeps its own currency (the v8 sample closes in SEK on a EUR account), and a statement
    whose balances or entries differ from its account's currency is refused on import, not relabelled."""
    return _text(account, "Ccy") or (opening.currency if opening else "") or (lines[0].currency if lines else "")


def _balance(element: Element) -> Balance:
    amount_element = _child(element, "Amt")
    if amount_element is None:
        raise ImportRejected("balance without Amt", source=SOURCE)
    currency = amount_element.get("Ccy", "")
    amount = minor((amount_element.text or "").strip(), currency, row=None, source=SOURCE)
    sign = -1 if _text(element, "CdtDbtInd") == "DBIT" else 1
    return Balance(sign * amount, currency, _date(_child(element, "Dt")))


def _line(entry: Element, row: int) -> StatementLine:
    amount_element = _child(entry, "Amt")
    if amount_element is None:
        raise ImportRejected("entry without Amt", row=row, source=SOURCE)
    currency = amount_element.get("Ccy", "")
    amount = minor((amount_element.text or "").strip(), currency, row=row, source=SOURCE)
    indicator = _text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise ImportRejected(f"CdtDbtInd {indicator!r} is neither CRDT nor DBIT", row=row, source=SOURCE)
    booked_on = _date(_child(entry, "BookgDt"))
    if booked_on is None:
        raise ImportRejected("entry without a booking date", row=row, source=SOURCE)
    details = _child(entry, "NtryDtls", "TxDtls")
    texts = [_text(entry, "AddtlNtryInf") or ""]
    texts += [(u.text or "").strip() for u in _all(details, "RmtInf", "Ustrd")] if details is not None else []
    reference = _text(details, "RmtInf", "Strd", "CdtrRefInf", "Ref") if details is not None else None
    end_to_end = _text(details, "Refs", "EndToEndId") if details is not None else None
    description = " ".join(t for t in texts if t)
    return StatementLine(
        row=row, booked_on=booked_on, amount=amount if indicator == "CRDT" else -amount, currency=currency,
        description=description, value_on=_date(_child(entry, "ValDt")),
        bank_reference=_text(entry, "AcctSvcrRef") or _text(entry, "NtryRef"), end_to_end_id=end_to_end,
        counterparty=_counterparty(details, indicator),
        counterparty_account=_counterparty_account(details, indicator), reversal=_text(entry, "RvslInd") == "true",
        payment_code=extract_payment_code(reference, end_to_end, description),
    )


def _counterparty(details: Element | None, indicator: str) -> str | None:
    if details is None:
        return None
    party = "Dbtr" if indicator == "CRDT" else "Cdtr"
    return _text(details, "RltdPties", party, "Nm") or _text(details, "RltdPties", party, "Pty", "Nm")


def _counterparty_account(details: Element | None, indicator: str) -> str | None:
    # The account matters as much as the name: a Treasury transfer is recognised by either.
    if details is None:
        return None
    party = "DbtrAcct" if indicator == "CRDT" else "CdtrAcct"
    return _text(details, "RltdPties", party, "Id", "IBAN") or _text(details, "RltdPties", party, "Id", "Othr", "Id")


def _date(element: Element | None) -> date | None:
    """Read ``<Dt>`` or ``<DtTm>`` (the date as the bank wrote it, in its own offset)."""
    if element is None:
        return None
    plain = _text(element, "Dt")
    if plain:
        return date.fromisoformat(plain[:10])
    stamp = _text(element, "DtTm")
    return datetime.fromisoformat(stamp).date() if stamp else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: Element | None, *path: str) -> Element | None:
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if _local(c.tag) == name), None)
    return element


def _all(element: Element | None, *path: str) -> list[Element]:
    if element is None:
        return []
    parent = _child(element, *path[:-1]) if len(path) > 1 else element
    return [c for c in parent if _local(c.tag) == path[-1]] if parent is not None else []


def _text(element: Element | None, *path: str) -> str | None:
    found = _child(element, *path)
    return found.text.strip() if found is not None and found.text and found.text.strip() else None
