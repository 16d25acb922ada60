"""payments: bills, payments and their events, idempotency keys, the double-entry ledger

The ledger's rules are enforced by the database itself on PostgreSQL: a deferred constraint trigger
refuses, at commit, any transaction whose postings do not balance (or number fewer than two), and a
trigger refuses every UPDATE or DELETE of ledger rows. SQLite gets triggers for the UPDATE/DELETE
refusal; balance is checked in Python (``payments.ledger``) on both backends.

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa
import core.db


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = ("ledger_transactions", "ledger_postings")

PG_FUNCTIONS = """
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger is append-only: % on % refused; post a reversing transaction instead',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;

CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    txn bigint;
    net numeric;
    lines integer;
    currencies integer;
BEGIN
    -- Separate statements: PL/pgSQL resolves NEW's fields only in the branch that runs.
    IF TG_TABLE_NAME = 'ledger_postings' THEN
        txn := NEW.transaction_id;
    ELSE
        txn := NEW.id;
    END IF;
    SELECT coalesce(sum(CASE side WHEN 'debit' THEN amount ELSE -amount END), 0), count(*),
           count(DISTINCT currency)
      INTO net, lines, currencies
      FROM ledger_postings WHERE transaction_id = txn;
    IF lines < 2 OR net <> 0 OR currencies <> 1 THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced: % postings, net %, % currencies',
            txn, lines, net, currencies USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.create_table('bills',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('payer_id_hash', sa.String(length=128), nullable=False),
    sa.Column('payer_name', sa.String(length=200), nullable=True),
    sa.Column('payer_masked_id', sa.String(length=20), nullable=True),
    sa.Column('citizen_id', sa.BigInteger(), nullable=True),
    sa.Column('service_code', sa.String(length=50), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('amount_due', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('base_amount', sa.BigInteger(), nullable=False),
    sa.Column('subsidy_lines', sa.JSON(), nullable=False),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('rule_set_hash', sa.String(length=64), nullable=False),
    sa.Column('quote_id', sa.BigInteger(), nullable=True),
    sa.Column('quoted_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('previous_amount_due', sa.BigInteger(), nullable=True),
    sa.Column('previous_explanation', sa.JSON(), nullable=True),
    sa.Column('fee_kind', sa.String(length=6), nullable=False),
    sa.Column('retained_basis_points', sa.Integer(), nullable=False),
    sa.Column('agency_code', sa.String(length=50), nullable=False),
    sa.Column('agency_reference', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('paid_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("fee_kind = 'phi' OR retained_basis_points = 0", name=op.f('ck_bills_le_phi_retains_nothing')),
    sa.CheckConstraint("fee_kind IN ('phi', 'le_phi')", name=op.f('ck_bills_fee_kind_known')),
    sa.CheckConstraint("status IN ('open', 'paid', 'cancelled')", name=op.f('ck_bills_status_known')),
    sa.CheckConstraint('amount_due >= 0', name=op.f('ck_bills_amount_due_not_negative')),
    sa.CheckConstraint('base_amount >= amount_due', name=op.f('ck_bills_base_covers_amount_due')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_bills_quantity_positive')),
    sa.CheckConstraint('retained_basis_points BETWEEN 0 AND 10000', name=op.f('ck_bills_retained_share_in_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bills')),
    sa.UniqueConstraint('agency_code', 'agency_reference', name=op.f('uq_bills_agency_code_agency_reference')),
    sa.UniqueConstraint('public_id', name=op.f('uq_bills_public_id'))
    )
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bills_citizen_id'), ['citizen_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bills_payer_id_hash'), ['payer_id_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_bills_status'), ['status'], unique=False)

    op.create_table('idempotency_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scope', sa.String(length=300), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('operation', sa.String(length=50), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('recovery_point', sa.String(length=20), nullable=False),
    sa.Column('locked_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resource_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.JSON(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("recovery_point IN ('started', 'payment_created', 'finished')", name=op.f('ck_idempotency_keys_recovery_point_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('scope', 'key', name=op.f('uq_idempotency_keys_scope_key'))
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)

    op.create_table('ledger_accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('asset', 'liability', 'revenue', 'expense')", name=op.f('ck_ledger_accounts_kind_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_accounts')),
    sa.UniqueConstraint('code', name=op.f('uq_ledger_accounts_code'))
    )
    op.create_table('provider_events',
    sa.Column('provider', sa.String(length=30), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('provider_session_id', sa.String(length=200), nullable=True),
    sa.Column('received_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('provider', 'event_id', name=op.f('pk_provider_events'))
    )
    with op.batch_alter_table('provider_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_events_received_at'), ['received_at'], unique=False)

    op.create_table('receipt_counters',
    sa.Column('series', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.CheckConstraint('last_number BETWEEN 0 AND 9999999', name=op.f('ck_receipt_counters_seven_digits')),
    sa.PrimaryKeyConstraint('series', 'year', name=op.f('pk_receipt_counters'))
    )
    op.create_table('payments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('bill_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('refunded_amount', sa.BigInteger(), nullable=False),
    sa.Column('provider_session_id', sa.String(length=200), nullable=True),
    sa.Column('provider_payment_ref', sa.String(length=200), nullable=True),
    sa.Column('next_url', sa.String(length=2000), nullable=True),
    sa.Column('return_url', sa.String(length=2000), nullable=True),
    sa.Column('failure_code', sa.String(length=50), nullable=True),
    sa.Column('iss', sa.String(length=255), nullable=True),
    sa.Column('sub', sa.String(length=255), nullable=True),
    sa.Column('acr', sa.String(length=100), nullable=True),
    sa.Column('auth_time', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('created', 'started', 'submitted', 'unknown', 'succeeded', 'duplicate', 'declined', 'cancelled', 'expired', 'error')", name=op.f('ck_payments_status_known')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payments_amount_positive')),
    sa.CheckConstraint('refunded_amount >= 0 AND refunded_amount <= amount', name=op.f('ck_payments_refunds_within_amount')),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_payments_bill_id_bills')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('provider', 'provider_session_id', name=op.f('uq_payments_provider_provider_session_id')),
    sa.UniqueConstraint('public_id', name=op.f('uq_payments_public_id'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_status'), ['status'], unique=False)
        batch_op.create_index('uq_payments_one_live_per_bill', ['bill_id'], unique=True, postgresql_where=sa.text("status IN ('created', 'started', 'submitted', 'unknown')"), sqlite_where=sa.text("status IN ('created', 'started', 'submitted', 'unknown')"))
        batch_op.create_index('uq_payments_one_success_per_bill', ['bill_id'], unique=True, postgresql_where=sa.text("status = 'succeeded'"), sqlite_where=sa.text("status = 'succeeded'"))

    op.create_table('ledger_transactions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=50), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('posted_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('bill_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reverses_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_ledger_transactions_bill_id_bills')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_ledger_transactions_payment_id_payments')),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledger_transactions.id'], name=op.f('fk_ledger_transactions_reverses_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_transactions')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_ledger_transactions_reverses_id')),
    sa.UniqueConstraint('source', 'external_id', name=op.f('uq_ledger_transactions_source_external_id'))
    )
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_transactions_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_transactions_payment_id'), ['payment_id'], unique=False)

    op.create_table('payment_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_status', sa.String(length=10), nullable=True),
    sa.Column('to_status', sa.String(length=10), nullable=False),
    sa.Column('event', sa.String(length=50), nullable=False),
    sa.Column('cause', sa.String(length=30), nullable=False),
    sa.Column('provider_event_id', sa.String(length=200), nullable=True),
    sa.Column('occurred_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_events_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_events'))
    )
    with op.batch_alter_table('payment_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_events_payment_id'), ['payment_id'], unique=False)

    op.create_table('receipts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('bill_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('series', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('replaces_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('agency_code', sa.String(length=50), nullable=False),
    sa.Column('payer_id_hash', sa.String(length=128), nullable=False),
    sa.Column('payer_name', sa.String(length=200), nullable=True),
    sa.Column('payer_masked_id', sa.String(length=20), nullable=True),
    sa.Column('service_code', sa.String(length=50), nullable=False),
    sa.Column('fee_kind', sa.String(length=6), nullable=False),
    sa.Column('base_amount', sa.BigInteger(), nullable=False),
    sa.Column('amount_paid', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('subsidy_lines', sa.JSON(), nullable=False),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('method', sa.String(length=30), nullable=False),
    sa.Column('collected_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('issued_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('issued', 'cancelled')", name=op.f('ck_receipts_status_known')),
    sa.CheckConstraint('amount_paid >= 0 AND base_amount >= amount_paid', name=op.f('ck_receipts_amounts_consistent')),
    sa.CheckConstraint('number BETWEEN 1 AND 9999999', name=op.f('ck_receipts_seven_digits')),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_receipts_bill_id_bills')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_receipts_payment_id_payments')),
    sa.ForeignKeyConstraint(['replaces_id'], ['receipts.id'], name=op.f('fk_receipts_replaces_id_receipts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts')),
    sa.UniqueConstraint('public_id', name=op.f('uq_receipts_public_id')),
    sa.UniqueConstraint('replaces_id', name=op.f('uq_receipts_replaces_id')),
    sa.UniqueConstraint('series', 'year', 'number', name=op.f('uq_receipts_series_year_number'))
    )
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index('uq_receipts_one_issued_per_bill', ['bill_id'], unique=True, postgresql_where=sa.text("status = 'issued'"), sqlite_where=sa.text("status = 'issued'"))

    op.create_table('refunds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('approved_by', sa.String(length=200), nullable=True),
    sa.Column('provider_refund_ref', sa.String(length=200), nullable=True),
    sa.Column('failure_code', sa.String(length=50), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('awaiting_approval', 'submitted', 'succeeded', 'failed', 'rejected')", name=op.f('ck_refunds_status_known')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_refunds_amount_positive')),
    sa.CheckConstraint('approved_by IS NULL OR approved_by <> requested_by', name=op.f('ck_refunds_four_eyes')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_refunds_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('public_id', name=op.f('uq_refunds_public_id'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refunds_payment_id'), ['payment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refunds_status'), ['status'], unique=False)

    op.create_table('ledger_postings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('side', sa.String(length=6), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.CheckConstraint("side IN ('debit', 'credit')", name=op.f('ck_ledger_postings_side_known')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_ledger_postings_amount_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_postings_account_id_ledger_accounts')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_ledger_postings_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_postings'))
    )
    with op.batch_alter_table('ledger_postings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_postings_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_postings_transaction_id'), ['transaction_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        _create_postgresql_guards()
    else:
        _create_sqlite_guards()


def _create_postgresql_guards() -> None:
    op.execute(PG_FUNCTIONS)
    for table in APPEND_ONLY_TABLES:
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()")
        # Deferred to commit: the header and its postings are inserted one row at a time.
        op.execute(f"CREATE CONSTRAINT TRIGGER {table}_balanced AFTER INSERT ON {table} "
                   "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()")


def _create_sqlite_guards() -> None:
    for table in APPEND_ONLY_TABLES:
        for operation in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, 'ledger is append-only: {operation} on {table} refused'); END")


def _drop_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_balanced ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ledger_refuse_change()")
        op.execute("DROP FUNCTION IF EXISTS ledger_check_balanced()")
    else:
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def downgrade() -> None:
    _drop_guards()
    with op.batch_alter_table('ledger_postings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_postings_transaction_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_postings_account_id'))

    op.drop_table('ledger_postings')
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refunds_status'))
        batch_op.drop_index(batch_op.f('ix_refunds_payment_id'))

    op.drop_table('refunds')
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index('uq_receipts_one_issued_per_bill', postgresql_where=sa.text("status = 'issued'"), sqlite_where=sa.text("status = 'issued'"))
        batch_op.drop_index(batch_op.f('ix_receipts_bill_id'))

    op.drop_table('receipts')
    with op.batch_alter_table('payment_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_events_payment_id'))

    op.drop_table('payment_events')
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_transactions_payment_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_transactions_bill_id'))

    op.drop_table('ledger_transactions')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('uq_payments_one_success_per_bill', postgresql_where=sa.text("status = 'succeeded'"), sqlite_where=sa.text("status = 'succeeded'"))
        batch_op.drop_index('uq_payments_one_live_per_bill', postgresql_where=sa.text("status IN ('created', 'started', 'submitted', 'unknown')"), sqlite_where=sa.text("status IN ('created', 'started', 'submitted', 'unknown')"))
        batch_op.drop_index(batch_op.f('ix_payments_status'))
        batch_op.drop_index(batch_op.f('ix_payments_expires_at'))
        batch_op.drop_index(batch_op.f('ix_payments_bill_id'))

    op.drop_table('payments')
    op.drop_table('receipt_counters')
    with op.batch_alter_table('provider_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_events_received_at'))

    op.drop_table('provider_events')
    op.drop_table('ledger_accounts')
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))

    op.drop_table('idempotency_keys')
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bills_status'))
        batch_op.drop_index(batch_op.f('ix_bills_payer_id_hash'))
        batch_op.drop_index(batch_op.f('ix_bills_citizen_id'))

    op.drop_table('bills')
