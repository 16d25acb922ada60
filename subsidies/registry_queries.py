"""Read-side services for the beneficiary registry pages: filtered records, import batches, masked ids.

Personal identification numbers leave this module masked (``0011******45``): the pages never receive
the full number, so they cannot show or log it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from subsidies.beneficiaries import BeneficiaryRecord

PAGE_SIZE = 50
BATCH_LIMIT = 100


@dataclass(frozen=True)
class RegistryFilter:
    """What the registry page narrows the records to (None: any)."""

    category: str | None = None
    source: str | None = None
    batch: str | None = None
    valid_on: date | None = None


@dataclass(frozen=True)
class RegistryRow:
    """One record as staff see it: the personal id masked."""

    masked_id: str
    category: str
    source: str
    valid_from: date
    valid_to: date | None
    batch: str
    imported_at: datetime


@dataclass(frozen=True)
class RegistryPage:
    """One page of matching records and how many match in all."""

    rows: tuple[RegistryRow, ...]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class ImportBatch:
    """One CSV import that added records: when, by whom, from which source, how many."""

    batch: str
    source: str
    imported_by: str
    imported_at: datetime
    records: int


def mask_personal_id(personal_id: str) -> str:
    """Keep the first four and the last two digits: ``001122334445`` -> ``0011******45``."""
    if len(personal_id) < 8:
        return "*" * len(personal_id)
    return f"{personal_id[:4]}{'*' * (len(personal_id) - 6)}{personal_id[-2:]}"


def find_records(session: Session, filters: RegistryFilter, page: int = 1, page_size: int = PAGE_SIZE) -> RegistryPage:
    """Records matching ``filters``, newest import first, one page at a time (ids masked)."""
    query = _filtered(select(BeneficiaryRecord), filters)
    total = session.scalar(_filtered(select(func.count()).select_from(BeneficiaryRecord), filters)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    records = session.scalars(query.order_by(BeneficiaryRecord.imported_at.desc(), BeneficiaryRecord.id)
                              .limit(page_size).offset((page - 1) * page_size))
    rows = tuple(RegistryRow(mask_personal_id(r.personal_id), r.category_code, r.source, r.valid_from, r.valid_to,
                             r.import_batch, r.imported_at) for r in records)
    return RegistryPage(rows, total, page, pages)


def sources(session: Session) -> list[str]:
    """Every source named by an import, alphabetically."""
    return list(session.scalars(select(BeneficiaryRecord.source).distinct().order_by(BeneficiaryRecord.source)))


def import_batches(session: Session, limit: int = BATCH_LIMIT) -> list[ImportBatch]:
    """The latest imports that added records, newest first."""
    rows = session.execute(
        select(BeneficiaryRecord.import_batch, BeneficiaryRecord.source, BeneficiaryRecord.imported_by,
               BeneficiaryRecord.imported_at, func.count())
        .group_by(BeneficiaryRecord.import_batch, BeneficiaryRecord.source, BeneficiaryRecord.imported_by,
                  BeneficiaryRecord.imported_at)
        .order_by(BeneficiaryRecord.imported_at.desc(), BeneficiaryRecord.import_batch).limit(limit))
    return [ImportBatch(*row) for row in rows]


def _filtered(query: Select, filters: RegistryFilter) -> Select:
    """``query`` narrowed to the records ``filters`` asks for."""
    if filters.category:
        query = query.where(BeneficiaryRecord.category_code == filters.category)
    if filters.source:
        query = query.where(BeneficiaryRecord.source == filters.source)
    if filters.batch:
        query = query.where(BeneficiaryRecord.import_batch == filters.batch)
    if filters.valid_on:
        query = query.where(BeneficiaryRecord.valid_from <= filters.valid_on,
                            or_(BeneficiaryRecord.valid_to.is_(None), BeneficiaryRecord.valid_to >= filters.valid_on))
    return query
