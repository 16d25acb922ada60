"""The ``:86:`` field of an MT940 line: purpose, end-to-end id and the other party, in the forms banks use.

* German banks (DFÜ-Abkommen): a three-digit business-transaction code, then ``?nn`` sub-fields: ``?00``
  posting text, ``?10`` primanota, ``?20``-``?29`` and ``?60``-``?63`` purpose, ``?30`` the other bank,
  ``?31`` the other account, ``?32``-``?33`` the other party's name, ``?34`` a return code. The field is cut
  into lines of one width (65 characters, Rabobank 64) wherever that falls and each sub-field holds 27
  characters, so a word or a ``?nn`` marker may be split by a line break: a full line joins the next
  without a space. A shorter line lost a space at its end (line ends are trimmed, by banks and by the
  reader) or was ended on purpose, so it joins the next with one. SEPA
  bookings carry keywords inside the purpose (``EREF+``, ``KREF+``, ``MREF+``, ``CRED+``, ``SVWZ+``,
  ``ABWA+`` …), each starting a sub-field (some banks run them on after a space).
* Dutch banks: ``/EREF/…/BENM//NAME/…/REMI/…`` codes.
* Anything else is free text, read as before: lines joined with spaces.

The description is the purpose (``SVWZ+`` and text under no keyword, or ``/REMI/``), else the posting
text or the other party's name, so it is never empty when the bank wrote anything. The end-to-end id is
``EREF``'s value only (``NONREF`` is none). Parsing never fails: what does not fit a form is free text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_GVC = re.compile(r"^\d{3}\?\d\d")
_SUBFIELD = re.compile(r"\?(\d\d)")
_PURPOSE_KEYS = tuple(f"{n}" for n in range(20, 30)) + ("60", "61", "62", "63")
#: SEPA keywords in a German purpose; those holding an identifier end where their sub-field ends short.
SEPA_KEYWORDS = ("EREF", "KREF", "MREF", "CRED", "DEBT", "SVWZ", "ABWA", "ABWE", "IBAN", "BIC", "PURP", "MDAT",
                 "SQTP", "ORCR", "ORMR", "DDAT", "COAM", "OAMT")
_IDENTIFIERS = ("EREF", "KREF", "MREF", "CRED", "DEBT", "IBAN", "BIC", "PURP", "MDAT", "SQTP", "ORCR", "ORMR",
                "DDAT", "COAM", "OAMT")
_FREE_TEXT = (None, "SVWZ")
_KEYWORD = re.compile(rf"(?:^|(?<=\s))({'|'.join(SEPA_KEYWORDS)})\+")
_SUBFIELD_WIDTH, _ID_WIDTH = 27, 35
_SLASH_CODES = ("EREF", "MARF", "CSID", "BENM", "ORDP", "NAME", "REMI", "ISDT", "IBAN", "BIC", "ADDR", "RTRN",
                "CREF", "IREF", "ULTC", "ULTD", "ULTB", "PURP", "CNTP")
_SLASH_CODE = re.compile(rf"/({'|'.join(_SLASH_CODES)})/")
_NO_REFERENCE = ("", "NONREF", "NOTPROVIDED")


@dataclass(frozen=True)
class Details:
    """What a ``:86:`` field says about its line; ``structured`` is False for free text."""

    description: str
    end_to_end_id: str | None = None
    counterparty: str | None = None
    counterparty_account: str | None = None
    #: Other references the bank gave (``KREF``, ``MREF``), where a payment code may also be.
    references: tuple[str, ...] = ()
    structured: bool = False


def read_details(raw: str | None, width: int | None = None) -> Details:
    """Split one ``:86:`` field (or several, as the reader joins them) into a ``Details``.

    ``width`` is the length of the file's full :86: lines (default: this field's longest line).
    """
    text = (raw or "").replace("\r", "")
    flat = unwrapped(text, width)
    if _GVC.match(flat):
        return _german(flat)
    if _KEYWORD.match(flat):
        return _sepa_only(flat)
    if flat.startswith("/") and _SLASH_CODE.search(flat) and re.search(r"/(EREF|REMI)/", flat):
        return _slash_codes(flat)
    return Details(description=_spaced(text))


def unwrapped(text: str, width: int | None = None) -> str:
    """The field's lines joined: a full line directly, a shorter one with a space."""
    lines = [line.rstrip() for line in text.split("\n")]
    width = width or max(len(line) for line in lines)
    joined = lines[0]
    for before, line in zip(lines, lines[1:], strict=False):
        joined += ("" if len(before) >= width else " ") + line
    return joined


def _german(flat: str) -> Details:
    subfields = _subfields(flat)
    segments = _segments([value for key, value in subfields if key in _PURPOSE_KEYS])
    by_key = {key: value for key, value in subfields}
    name = _spaced(by_key.get("32", "") + by_key.get("33", "")) or None
    description = _description(segments) or _spaced(by_key.get("00", "")) or name or ""
    return Details(description=description, end_to_end_id=_reference(segments, "EREF"), counterparty=name,
                   counterparty_account=_spaced(by_key.get("31", "")) or None, references=_others(segments),
                   structured=True)


def _sepa_only(flat: str) -> Details:
    segments = _segments([flat])
    return Details(description=_description(segments) or _spaced(flat), end_to_end_id=_reference(segments, "EREF"),
                   references=_others(segments), structured=True)


def _subfields(flat: str) -> list[tuple[str, str]]:
    """``[(key, value)]`` in order; the business-transaction code is key ``""``."""
    parts = _SUBFIELD.split(flat)
    return [("", parts[0])] + list(zip(parts[1::2], parts[2::2], strict=True))


def _segments(subfields: list[str]) -> list[tuple[str | None, str]]:
    """The purpose sub-fields as ``(keyword or None, value)`` runs.

    Text under no keyword continues an identifier only while the identifier's sub-field was full and the
    identifier stays within 35 characters; otherwise it is purpose text of its own. Purpose text runs on
    over sub-fields, with a space after one that ended short.
    """
    segments: list[list] = []
    previous_full = False
    for subfield in subfields:
        pieces = _KEYWORD.split(subfield)
        head, keyed = pieces[0], list(zip(pieces[1::2], pieces[2::2], strict=True))
        if head:
            _continue(segments, head, previous_full)
        segments += [[keyword, value] for keyword, value in keyed]
        previous_full = len(subfield) >= _SUBFIELD_WIDTH
    return [(keyword, value) for keyword, value in segments]


def _continue(segments: list[list], text: str, previous_full: bool) -> None:
    if not segments:
        segments.append([None, text])
        return
    keyword, value = segments[-1]
    if keyword in _IDENTIFIERS and not (previous_full and len((value + text).strip()) <= _ID_WIDTH):
        segments.append([None, text])
    else:  # a sub-field ended short ended a word
        segments[-1][1] = value + ("" if previous_full else " ") + text


def _description(segments: list[tuple[str | None, str]]) -> str:
    return _spaced(" ".join(value for keyword, value in segments if keyword in _FREE_TEXT))


def _reference(segments: list[tuple[str | None, str]], keyword: str) -> str | None:
    value = next((value.strip() for key, value in segments if key == keyword), None)
    return None if value is None or value.upper() in _NO_REFERENCE else value


def _others(segments: list[tuple[str | None, str]]) -> tuple[str, ...]:
    return tuple(ref for ref in (_reference(segments, key) for key in ("KREF", "MREF")) if ref)


def _slash_codes(flat: str) -> Details:
    """``/EREF/…/BENM//NAME/…/REMI/…``: each code's value runs to the next known code."""
    parts = _SLASH_CODE.split(flat)
    values: dict[str, str] = {}
    for code, value in zip(parts[1::2], parts[2::2], strict=True):
        values.setdefault(code, value.strip().strip("/").strip())
    remittance = re.sub(r"^(USTD|STRD)/+", "", values.get("REMI", ""))
    name = _spaced(values.get("NAME", "")) or None
    eref = values.get("EREF", "")
    return Details(description=_spaced(remittance) or name or _spaced(flat), counterparty=name,
                   end_to_end_id=None if eref.upper() in _NO_REFERENCE else eref, structured=True)


def _spaced(text: str) -> str:
    """Runs of white space (line breaks too) as one space, trimmed."""
    return " ".join(text.split())
