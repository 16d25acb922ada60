"""The beneficiary registry: who belongs to which category (student, poor household, ...), from which
source and for which dates. Staff import it as CSV; quotes for a known citizen add the valid categories.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import SYSTEM_CLOCK, Clock
from core.db import Base, BigId, UTCDateTime
from subsidies.errors import RegistryImportInvalid
from subsidies.vocabulary import CATEGORIES

CATEGORY_NAMES = {
    "STUDENT": ("Sinh viên", "Student"),
    "MERITORIOUS": ("Người có công với cách mạng", "Person with meritorious services"),
    "MARTYR_RELATIVE": ("Thân nhân liệt sĩ", "Martyr's relative"),
    "DISABILITY": ("Người khuyết tật", "Person with a disability"),
    "POOR_HOUSEHOLD": ("Thành viên hộ nghèo", "Member of a poor household"),
    "DISADVANTAGED_COMMUNE": ("Cư trú tại xã đặc biệt khó khăn", "Resident of an especially disadvantaged commune"),
}
CSV_COLUMNS = ("personal_id", "category", "valid_from", "valid_to")
MAX_IMPORT_ROWS = 200_000


class BeneficiaryCategory(Base):
    """A beneficiary category rules can test (the codes of ``vocabulary.CATEGORIES``)."""

    __tablename__ = "beneficiary_categories"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))


class BeneficiaryRecord(Base):
    """One person's membership of one category, with its source and validity (inclusive dates)."""

    __tablename__ = "beneficiary_records"
    __table_args__ = (
        UniqueConstraint("personal_id", "category_code", "valid_from"),
        CheckConstraint("length(personal_id) = 12", name="personal_id_twelve_digits"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="window_ordered"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The 12-digit personal identification number (basic personal data: show it masked).
    personal_id: Mapped[str] = mapped_column(String(12), index=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("beneficiary_categories.code"))
    #: Where the fact comes from, e.g. "Sở LĐTBXH Hà Nội, danh sách hộ nghèo 2024".
    source: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    import_batch: Mapped[str] = mapped_column(String(36), index=True)
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class ImportResult:
    """What one CSV import did."""

    batch: str
    added: int
    skipped_duplicates: int


def seed_categories(session: Session) -> int:
    """Insert the declared categories that are missing; return how many were added."""
    existing = set(session.scalars(select(BeneficiaryCategory.code)))
    added = [BeneficiaryCategory(code=code, name_vi=CATEGORY_NAMES[code][0], name_en=CATEGORY_NAMES[code][1])
             for code in CATEGORIES if code not in existing]
    session.add_all(added)
    session.flush()
    return len(added)


def import_csv(session: Session, text: str, *, source: str, imported_by: str,
               clock: Clock = SYSTEM_CLOCK) -> ImportResult:
    """Import ``personal_id,category,valid_from,valid_to`` rows; any bad row refuses the whole file."""
    if not source.strip():
        raise RegistryImportInvalid("name the source of the list (agency and document)")
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        raise RegistryImportInvalid(f"the header must be {','.join(CSV_COLUMNS)}",
                                    details={"header": reader.fieldnames})
    rows = [_parse_row(line, row) for line, row in enumerate(reader, start=2)]
    if len(rows) > MAX_IMPORT_ROWS:
        raise RegistryImportInvalid(f"at most {MAX_IMPORT_ROWS} rows per file")
    existing = _existing_keys(session, sorted({r[0] for r in rows}))
    batch, now, added, seen = str(uuid.uuid4()), clock.now(), 0, set()
    for personal_id, category, valid_from, valid_to in rows:
        key = (personal_id, category, valid_from)
        if key in existing or key in seen:
            continue
        seen.add(key)
        session.add(BeneficiaryRecord(personal_id=personal_id, category_code=category, source=source.strip(),
                                      valid_from=valid_from, valid_to=valid_to, import_batch=batch,
                                      imported_by=imported_by, imported_at=now))
        added += 1
    session.flush()
    return ImportResult(batch, added, len(rows) - added)


def categories_on(session: Session, personal_id: str, day: date) -> frozenset[str]:
    """The categories the registry holds for ``personal_id`` that are valid on ``day``."""
    rows = session.scalars(select(BeneficiaryRecord.category_code).where(
        BeneficiaryRecord.personal_id == personal_id, BeneficiaryRecord.valid_from <= day,
        or_(BeneficiaryRecord.valid_to.is_(None), BeneficiaryRecord.valid_to >= day)))
    return frozenset(rows)


def _existing_keys(session: Session, personal_ids: list[str]) -> set[tuple[str, str, date]]:
    # In chunks: SQLite caps the number of bound parameters in one statement.
    keys: set[tuple[str, str, date]] = set()
    for start in range(0, len(personal_ids), 500):
        chunk = personal_ids[start:start + 500]
        keys |= {tuple(row) for row in session.execute(
            select(BeneficiaryRecord.personal_id, BeneficiaryRecord.category_code, BeneficiaryRecord.valid_from)
            .where(BeneficiaryRecord.personal_id.in_(chunk)))}
    return keys


def _parse_row(line: int, row: dict[str, str]) -> tuple[str, str, date, date | None]:
    personal_id = (row.get("personal_id") or "").strip()
    if len(personal_id) != 12 or not personal_id.isdigit():
        raise RegistryImportInvalid(f"line {line}: personal_id must be 12 digits", details={"line": line})
    category = (row.get("category") or "").strip()
    if category not in CATEGORIES:
        raise RegistryImportInvalid(f"line {line}: unknown category {category!r}; use one of {', '.join(CATEGORIES)}",
                                    details={"line": line})
    try:
        valid_from = date.fromisoformat((row.get("valid_from") or "").strip())
        valid_to = date.fromisoformat(row["valid_to"].strip()) if (row.get("valid_to") or "").strip() else None
    except ValueError:
        raise RegistryImportInvalid(f"line {line}: dates must be YYYY-MM-DD", details={"line": line}) from None
    if valid_to is not None and valid_to < valid_from:
        raise RegistryImportInvalid(f"line {line}: valid_to is before valid_from", details={"line": line})
    return personal_id, category, valid_from, valid_to
