"""Rules in the database: versions with a workflow status, published rule-set snapshots, the audit trail.

A published version never changes (an ORM guard refuses it here; migrations add the same guard as a
PostgreSQL trigger). A rule set is the hash of every published version at a moment; quotes pin it. A
version that replaces another ends it inside every set holding both (``subsidies.succession``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    inspect,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import SYSTEM_CLOCK, Clock
from core.db import Base, BigId, UTCDateTime
from subsidies.compiler import CompiledRuleSet, rule_set_hash
from subsidies.definitions import RuleDefinition
from subsidies.errors import NoPublishedRuleSet, RuleImmutable
from subsidies.schema import parse_rule
from subsidies.succession import end_replaced
from subsidies.vocabulary import LAYERS

STATUSES = ("draft", "in_review", "approved", "published", "retired")
_ID = BigId


class RuleVersion(Base):
    """One version of one rule and where it is in the workflow."""

    __tablename__ = "rule_versions"
    __table_args__ = (
        UniqueConstraint("rule_id", "version"),
        CheckConstraint(f"status IN {STATUSES}", name="status_known"),
        CheckConstraint(f"layer IN {LAYERS}", name="layer_known"),
        CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="window_ordered"),
        # Maker-checker, enforced by the database too: nobody approves their own change.
        CheckConstraint("approver_id IS NULL OR approver_id <> author_id", name="approver_not_author"),
        CheckConstraint("second_approver_id IS NULL OR (second_approver_id <> author_id "
                        "AND second_approver_id <> approver_id)", name="second_approver_distinct"),
        CheckConstraint("status NOT IN ('approved', 'published', 'retired') OR approver_id IS NOT NULL",
                        name="approved_has_approver"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    #: Stable across versions, e.g. HN-LLTP-VNEID.
    rule_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    service_code: Mapped[str] = mapped_column(ForeignKey("services.code"), index=True)
    layer: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    #: The whole rule in its canonical form (``RuleDefinition.to_dict``); validated on every write.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    author_id: Mapped[str] = mapped_column(String(64))
    approver_id: Mapped[str | None] = mapped_column(String(64))
    #: Required when ``effective_from`` is before the approval day (a retroactive change).
    second_approver_id: Mapped[str | None] = mapped_column(String(64))
    #: The simulation report attached before approval (counts and VND deltas per rule).
    simulation_report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The published version of the same rule this one was drafted from and replaces: once both are
    #: published, that one ends the day before this one starts. Its stored definition never changes.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("rule_versions.id"), index=True)

    @property
    def key(self) -> str:
        """Return ``RULE-ID@version``."""
        return f"{self.rule_id}@{self.version}"

    def parsed(self) -> RuleDefinition:
        """The definition as a validated ``RuleDefinition``."""
        return parse_rule(self.definition)


class RuleSetRecord(Base):
    """A published rule set: the versions in force for publication at one moment, by hash."""

    __tablename__ = "rule_sets"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    #: SHA-256 of the canonical definitions; quotes pin it.
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    rule_version_ids: Mapped[list[int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    #: When this set last became the current one (retiring a version can bring an older set back).
    current_since: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Increases each time a set becomes current; the highest is in force. Unique, so two concurrent
    #: publications cannot both claim the same turn (one fails and is retried).
    activation: Mapped[int] = mapped_column(Integer, unique=True)


class RuleEvent(Base):
    """Append-only audit trail of every workflow change of a rule version."""

    __tablename__ = "rule_events"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    rule_version_id: Mapped[int] = mapped_column(ForeignKey("rule_versions.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


@event.listens_for(RuleVersion, "before_update")
def _published_versions_are_immutable(_mapper, _connection, target: RuleVersion) -> None:
    state = inspect(target)
    old_status = state.attrs.status.history.deleted
    was = old_status[0] if old_status else target.status
    if was in ("published", "retired", "approved"):
        changed = [name for name in ("definition", "effective_from", "effective_to", "rule_id", "version",
                                     "service_code", "layer", "author_id", "replaces_id")
                   if state.attrs[name].history.has_changes()]
        if changed:
            raise RuleImmutable(f"rule {target.rule_id}@{target.version} is {was}: {', '.join(changed)} "
                                "cannot change; create a new version", details={"fields": changed})


def add_version(session: Session, definition: RuleDefinition, *, author_id: str, status: str = "draft",
                replaces: RuleVersion | None = None, clock: Clock = SYSTEM_CLOCK) -> RuleVersion:
    """Store a new rule version (validated) in ``status``, as the successor of ``replaces`` if given; log it."""
    row = RuleVersion(rule_id=definition.rule_id, version=definition.version, service_code=definition.service,
                      layer=definition.layer, status=status, effective_from=definition.effective_from,
                      effective_to=definition.effective_to, definition=definition.to_dict(), author_id=author_id,
                      created_at=clock.now(), replaces_id=replaces.id if replaces is not None else None)
    session.add(row)
    session.flush()
    note = f"replaces {replaces.key}" if replaces is not None else None
    log_event(session, row, "created", None, status, author_id, note=note, clock=clock)
    return row


def log_event(session: Session, row: RuleVersion, action: str, from_status: str | None, to_status: str,
              actor_id: str, *, note: str | None = None, clock: Clock = SYSTEM_CLOCK) -> None:
    """Append one audit row."""
    session.add(RuleEvent(rule_version_id=row.id, action=action, from_status=from_status, to_status=to_status,
                          actor_id=actor_id, note=note, at=clock.now()))
    session.flush()


def published_rows(session: Session) -> list[RuleVersion]:
    """Every published version, oldest row first."""
    return list(session.scalars(select(RuleVersion).where(RuleVersion.status == "published")
                                .order_by(RuleVersion.id)))


def replacements(rows: Iterable[RuleVersion]) -> dict[str, str]:
    """Successor key -> predecessor key, for the successors whose predecessor is among ``rows`` too."""
    rows = list(rows)
    keys = {row.id: row.key for row in rows}
    return {row.key: keys[row.replaces_id] for row in rows if row.replaces_id in keys}


def effective_definitions(rows: Iterable[RuleVersion]) -> list[RuleDefinition]:
    """The rows' definitions as one rule set: each replaced version ends the day before its successor starts."""
    rows = list(rows)
    return end_replaced((row.parsed() for row in rows), replacements(rows))


def published_definitions(session: Session) -> list[tuple[int, RuleDefinition]]:
    """(row id, definition in force) of every published version."""
    rows = published_rows(session)
    return list(zip((row.id for row in rows), effective_definitions(rows), strict=True))


def snapshot_rule_set(session: Session, actor_id: str, clock: Clock = SYSTEM_CLOCK) -> RuleSetRecord:
    """Record the current published versions as a rule set (or return the identical one already recorded)."""
    published = published_definitions(session)
    digest = rule_set_hash(definition for _id, definition in published)
    record = session.scalar(select(RuleSetRecord).where(RuleSetRecord.hash == digest))
    activation = (session.scalar(select(func.max(RuleSetRecord.activation))) or 0) + 1
    if record is None:
        record = RuleSetRecord(hash=digest, rule_version_ids=[row_id for row_id, _d in published],
                               created_at=clock.now(), created_by=actor_id, current_since=clock.now(),
                               activation=activation)
        session.add(record)
    elif record.activation != activation - 1:
        record.current_since, record.activation = clock.now(), activation
    session.flush()
    return record


_COMPILED: dict[str, CompiledRuleSet] = {}


def compiled_rule_set(session: Session, digest: str) -> CompiledRuleSet:
    """The compiled rule set with hash ``digest``; compiled once per process (hashes never change meaning)."""
    found = _COMPILED.get(digest)
    if found is not None:
        return found
    record = session.scalar(select(RuleSetRecord).where(RuleSetRecord.hash == digest))
    if record is None:
        raise NoPublishedRuleSet(f"no rule set with hash {digest}", details={"rule_set_hash": digest})
    rows = session.scalars(select(RuleVersion).where(RuleVersion.id.in_(record.rule_version_ids)))
    # Successions are applied within the set, so a set recorded before a successor keeps its old ends.
    compiled = CompiledRuleSet(effective_definitions(rows))
    if compiled.hash != digest:  # a published row was altered behind our back: refuse to price with it
        raise NoPublishedRuleSet(f"rule set {digest} no longer matches its stored versions")
    if len(_COMPILED) > 64:
        _COMPILED.clear()
    _COMPILED[digest] = compiled
    return compiled


def current_rule_set(session: Session) -> CompiledRuleSet:
    """The newest published rule set."""
    record = session.scalar(select(RuleSetRecord).order_by(RuleSetRecord.activation.desc()).limit(1))
    if record is None:
        raise NoPublishedRuleSet("no rule set has been published yet; run `python -m gateway seed`")
    return compiled_rule_set(session, record.hash)
