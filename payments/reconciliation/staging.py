"""COPY a CSV report's records into a temporary staging table on PostgreSQL, as text, with their row numbers.

The set-based import path (``stripe_staged``) reads a million-line report in seconds this way instead of
parsing it line by line in Python. It only takes files that PostgreSQL's CSV parser and Python's ``csv``
module (the reference readers in ``tabular``) split into exactly the same cells: UTF-8 text, one header line
without quotes, quotes only around whole fields, no blank lines inside. For anything else ``stage_csv``
returns None and the caller uses the Python reader, which accepts or rejects the file as it always has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from payments.reconciliation.tabular import delimiter_of

#: Name of the staging table; it lives in the importing transaction only.
TABLE = "recon_staged_rows"
#: Characters Python's ``str.strip()`` removes; the staged cells are trimmed of exactly these.
PY_WHITESPACE = "".join(chr(c) for c in range(0x3100) if chr(c).isspace())
_CHUNK = 1 << 20


@dataclass(frozen=True)
class StagedCsv:
    """Header cells (stripped, as the Python reader sees them) and the staged column of each one."""

    header: tuple[str, ...]
    #: False when no cell can start or end with whitespace, so the cells need no trimming.
    trim: bool = True

    def column(self, name: str) -> str | None:
        """The staging column holding ``name``, or None when the file has no such column."""
        return f"c{self.header.index(name)}" if name in self.header else None


def stage_csv(session: Session, content: bytes) -> StagedCsv | None:
    """COPY ``content``'s data records into ``TABLE`` (``row_no`` = source row); None when not safely possible."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    body = content[3:] if content.startswith(b"\xef\xbb\xbf") else content
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    shape = _shape(decoded)
    if shape is None:
        return None
    header, delimiter, line_end = shape
    columns = ", ".join(f"c{i} text" for i in range(len(header)))
    session.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
    # The header is row 1, so the first data record gets row_no 2, as the Python reader numbers it.
    session.execute(text(f"CREATE TEMP TABLE {TABLE} (row_no bigint GENERATED ALWAYS AS IDENTITY (START 2), "
                         f"{columns}) ON COMMIT DROP"))
    # COPY refuses blank records and mixed line ends: trailing blank lines go, the last line ends like the rest.
    if not _copy(session, body.rstrip(b"\r\n") + line_end, len(header), delimiter):
        return None  # the transaction is aborted: the caller rolls back its savepoint
    return StagedCsv(tuple(header), trim=_may_have_padded_cells(body, delimiter))


#: One pass maps every byte that matters at a cell's edge: cell boundaries (delimiters, line ends, quotes)
#: to ",", ASCII whitespace to " ", lead bytes of non-ASCII whitespace to "^" and their last bytes to "~".
_EDGE_BYTES = {**{b: ord(" ") for b in b"\t\x0b\x0c\x1c\x1d\x1e\x1f "}, **{b: ord(",") for b in b"\n\r\""},
               **{s.encode()[0]: ord("^") for s in PY_WHITESPACE if ord(s) > 0x7F},
               **{s.encode()[-1]: ord("~") for s in PY_WHITESPACE if ord(s) > 0x7F}}


def _may_have_padded_cells(body: bytes, delimiter: str) -> bool:
    """Whether some cell may start or end with whitespace that Python strips (false alarms only cost time)."""
    if b'"' in body:
        return True  # a quoted cell may end in a line break, which looks like an empty cell here
    table = bytearray(range(256))
    for byte, mark in _EDGE_BYTES.items():
        table[byte] = mark
    table[ord(delimiter)] = ord(",")
    flat = body.translate(bytes(table))
    return (flat[:1] in (b" ", b"^") or flat.rstrip(b",")[-1:] in (b" ", b"~")
            or any(edge in flat for edge in (b" ,", b", ", b",^", b"~,")))


def drop_staging(session: Session) -> None:
    """Drop the staging table before the transaction ends (it would go at commit anyway)."""
    session.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))


def _shape(decoded: str) -> tuple[list[str], str, bytes] | None:
    """Header cells and delimiter, when both parsers are sure to agree on every record of the file."""
    delimiter = delimiter_of(decoded)
    first_break = decoded.find("\n")
    header_line = decoded[:first_break] if first_break >= 0 else decoded
    line_end = b"\r\n" if header_line.endswith("\r") else b"\n"
    header_line = header_line.removesuffix("\r")
    if not header_line.strip() or '"' in header_line or "\r" in header_line:
        return None
    header = [cell.strip() for cell in header_line.split(delimiter)]
    if len(set(header)) != len(header) or "\\." in decoded or "\x00" in decoded:
        return None  # duplicate names (Python keeps the last), COPY's end-of-data marker, NUL
    if '"' in decoded and '"' in _WELL_QUOTED[delimiter].sub("", decoded):
        return None  # a quote that does not open or close a whole field: the two parsers differ there
    end = len(decoded)
    while end and decoded[end - 1] in "\r\n":
        end -= 1  # trailing blank lines are dropped before COPY; blank lines inside are not
    if decoded.find("\n\n", 0, end) >= 0 or decoded.find("\n\r\n", 0, end) >= 0:
        return None  # blank records: Python skips them, COPY refuses them
    return header, delimiter, line_end


#: A whole quoted field: opened right after a delimiter or line break, closed right before one.
_WELL_QUOTED = {d: re.compile(rf'(?:^|(?<=[{re.escape(d)}\n\r]))"[^"]*(?:""[^"]*)*"(?=[{re.escape(d)}\r\n]|\Z)')
                for d in (",", ";", "\t")}


def _copy(session: Session, body: bytes, width: int, delimiter: str) -> bool:
    """COPY the records; False when PostgreSQL's CSV parser refuses them (ragged rows, stray line ends)."""
    names = ", ".join(f"c{i}" for i in range(width))
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        with cursor.copy(f"COPY {TABLE} ({names}) FROM STDIN WITH (FORMAT csv, HEADER true, "
                         f"DELIMITER '{delimiter}', ENCODING 'UTF8')") as copy:
            for start in range(0, len(body), _CHUNK):
                copy.write(body[start:start + _CHUNK])
    except psycopg.Error:
        return False
    return True
