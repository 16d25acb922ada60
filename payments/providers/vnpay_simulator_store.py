"""The VNPay simulator's own database: its transactions and the refunds asked of it.

Like the sandbox (``sandbox_store``), the simulator stands in for a provider, so its rows live outside the
gateway's tables and transactions, in the stand-ins' database (the sandbox's engine and file), shared by
every worker and node. Only this store reads or writes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import BigInteger, Column, Engine, String, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from core.db import UTCDateTime
from payments.providers.sandbox_store import metadata

vnpay_sim_transactions = Table(
    "vnpay_sim_transactions", metadata,
    Column("txn_ref", String(100), primary_key=True),
    Column("tmn_code", String(8), nullable=False),
    Column("amount", BigInteger, nullable=False),  # đồng (VNPay's ×100 is the protocol's business)
    Column("create_date", String(14), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("order_info", String(255), nullable=False),
    Column("return_url", String(1000), nullable=False),
    Column("status", String(2), nullable=False),  # vnp_TransactionStatus
    Column("response_code", String(2)),  # vnp_ResponseCode of the payment, once there is one
    Column("transaction_no", String(20), nullable=False),
    Column("pay_date", String(14)),
    Column("refunded", BigInteger, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

vnpay_sim_refunds = Table(
    "vnpay_sim_refunds", metadata,
    Column("request_id", String(32), primary_key=True),
    Column("txn_ref", String(100), nullable=False, index=True),
    Column("amount", BigInteger, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)


@dataclass
class SimTransaction:
    """One simulated VNPay transaction as stored."""

    txn_ref: str
    tmn_code: str
    amount: int
    create_date: str
    expires_at: datetime
    order_info: str
    return_url: str
    status: str
    response_code: str | None
    transaction_no: str
    pay_date: str | None
    refunded: int
    created_at: datetime
    updated_at: datetime


_COLUMNS = tuple(field.name for field in fields(SimTransaction))


class TransactionMissing(LookupError):
    """The simulator has no transaction with this reference."""


class SimulatorStore:
    """Atomic reads and changes of simulated transactions, each in a short transaction of its own."""

    def __init__(self, engine: Engine):
        self._engine = engine

    def insert_or_get(self, row: SimTransaction) -> SimTransaction:
        """Store ``row`` unless a transaction with its reference exists; return what is stored."""
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(vnpay_sim_transactions).values(**vars(row)))
            return row
        except IntegrityError:  # the payer reloaded the page, or another worker stored it this instant
            return self.get(row.txn_ref)

    def get(self, txn_ref: str) -> SimTransaction:
        """Return the transaction, or raise ``TransactionMissing``."""
        with self._engine.connect() as connection:
            return self._read(connection, txn_ref, lock=False)

    @contextmanager
    def changing(self, txn_ref: str, now: datetime) -> Iterator[SimTransaction]:
        """Lock the transaction, let the caller change it, and write it back on success."""
        with self._engine.begin() as connection:
            row = self._read(connection, txn_ref, lock=True)
            before = vars(row).copy()
            yield row
            if vars(row) != before:
                row.updated_at = now
                values = {name: getattr(row, name) for name in _COLUMNS if name != "txn_ref"}
                connection.execute(update(vnpay_sim_transactions)
                                   .where(vnpay_sim_transactions.c.txn_ref == txn_ref).values(**values))

    def record_refund(self, request_id: str, txn_ref: str, amount: int, now: datetime) -> str:
        """Record a refund request and add it to the transaction, under the row's lock; return ``recorded``,
        ``seen`` (this request id was recorded before) or ``exceeds`` (less than ``amount`` is left)."""
        with self._engine.begin() as connection:
            row = self._read(connection, txn_ref, lock=True)
            seen = connection.scalar(select(vnpay_sim_refunds.c.request_id)
                                     .where(vnpay_sim_refunds.c.request_id == request_id)) is not None
            if seen:
                return "seen"
            if row.refunded + amount > row.amount:
                return "exceeds"
            connection.execute(insert(vnpay_sim_refunds).values(request_id=request_id, txn_ref=txn_ref, amount=amount,
                                                                created_at=now))
            connection.execute(update(vnpay_sim_transactions).where(vnpay_sim_transactions.c.txn_ref == txn_ref)
                               .values(refunded=row.refunded + amount, status="06", updated_at=now))
            return "recorded"

    @staticmethod
    def _read(connection, txn_ref: str, *, lock: bool) -> SimTransaction:
        query = select(*(vnpay_sim_transactions.c[name] for name in _COLUMNS)).where(
            vnpay_sim_transactions.c.txn_ref == txn_ref)
        if lock and connection.dialect.name == "postgresql":
            query = query.with_for_update()  # SQLite's writers are serialised by its one write lock
        found = connection.execute(query).one_or_none()
        if found is None:
            raise TransactionMissing(txn_ref)
        return SimTransaction(**found._mapping)
