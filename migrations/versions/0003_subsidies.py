"""subsidies: fee catalogue, rule versions and rule sets, quotes, funds and reservations, beneficiary registry

Published rule versions and the rule audit trail are protected by the database itself: triggers refuse
changing a version once it was approved, and refuse UPDATE of audit rows, on both PostgreSQL and SQLite.
(DELETE is not refused yet: the test fixtures empty every table between tests.) The author-is-not-approver
rule is a CHECK constraint.

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa
import core.db


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_FROZEN = "('approved', 'published', 'retired')"

_PG_TRIGGERS = [
    f"""
    CREATE FUNCTION rule_versions_immutable() RETURNS trigger AS $$
    BEGIN
      IF OLD.status IN {_FROZEN} AND (
           NEW.definition::text <> OLD.definition::text OR NEW.effective_from <> OLD.effective_from
           OR NEW.effective_to IS DISTINCT FROM OLD.effective_to OR NEW.rule_id <> OLD.rule_id
           OR NEW.version <> OLD.version OR NEW.author_id <> OLD.author_id
           OR NEW.approver_id IS DISTINCT FROM OLD.approver_id) THEN
        RAISE EXCEPTION 'rule version %@% is % and cannot change', OLD.rule_id, OLD.version, OLD.status;
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    """
    CREATE TRIGGER rule_versions_immutable BEFORE UPDATE ON rule_versions
    FOR EACH ROW EXECUTE FUNCTION rule_versions_immutable()""",
    """
    CREATE FUNCTION rule_events_append_only() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION 'rule_events is append-only';
    END $$ LANGUAGE plpgsql""",
    """
    CREATE TRIGGER rule_events_append_only BEFORE UPDATE ON rule_events
    FOR EACH ROW EXECUTE FUNCTION rule_events_append_only()""",
]

_SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER rule_versions_immutable BEFORE UPDATE ON rule_versions
    WHEN OLD.status IN {_FROZEN} AND (
      NEW.definition IS NOT OLD.definition OR NEW.effective_from IS NOT OLD.effective_from
      OR NEW.effective_to IS NOT OLD.effective_to OR NEW.rule_id IS NOT OLD.rule_id
      OR NEW.version IS NOT OLD.version OR NEW.author_id IS NOT OLD.author_id
      OR NEW.approver_id IS NOT OLD.approver_id)
    BEGIN SELECT RAISE(ABORT, 'rule version is approved or published and cannot change'); END""",
    """
    CREATE TRIGGER rule_events_no_update BEFORE UPDATE ON rule_events
    BEGIN SELECT RAISE(ABORT, 'rule_events is append-only'); END""",
]


def upgrade() -> None:
    op.create_table('beneficiary_categories',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_vi', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_beneficiary_categories'))
    )
    op.create_table('rule_sets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('rule_version_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('current_since', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('activation', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_sets')),
    sa.UniqueConstraint('activation', name=op.f('uq_rule_sets_activation')),
    sa.UniqueConstraint('hash', name=op.f('uq_rule_sets_hash'))
    )

    op.create_table('services',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('national_procedure_code', sa.String(length=20), nullable=True),
    sa.Column('procedure_code_verify', sa.Boolean(), nullable=False),
    sa.Column('name_vi', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('unit', sa.String(length=10), nullable=False),
    sa.Column('min_eid_level', sa.Integer(), nullable=False, server_default='1'),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('fee', 'charge', 'price')", name=op.f('ck_services_kind_known')),
    sa.CheckConstraint("unit IN ('request', 'copy', 'turn', 'hour', 'month')", name=op.f('ck_services_unit_known')),
    sa.CheckConstraint('min_eid_level IN (1, 2)', name=op.f('ck_services_min_eid_level_known')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_services'))
    )
    op.create_table('subsidy_funds',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('cap', sa.BigInteger(), nullable=False),
    sa.Column('reserved', sa.BigInteger(), nullable=False),
    sa.Column('committed', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('cap >= 0', name=op.f('ck_subsidy_funds_cap_not_negative')),
    sa.CheckConstraint('reserved + committed <= cap', name=op.f('ck_subsidy_funds_within_cap')),
    sa.CheckConstraint('reserved >= 0 AND committed >= 0', name=op.f('ck_subsidy_funds_amounts_not_negative')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_subsidy_funds'))
    )
    op.create_table('beneficiary_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('personal_id', sa.String(length=12), nullable=False),
    sa.Column('category_code', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('import_batch', sa.String(length=36), nullable=False),
    sa.Column('imported_by', sa.String(length=64), nullable=False),
    sa.Column('imported_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(personal_id) = 12', name=op.f('ck_beneficiary_records_personal_id_twelve_digits')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_beneficiary_records_window_ordered')),
    sa.ForeignKeyConstraint(['category_code'], ['beneficiary_categories.code'], name=op.f('fk_beneficiary_records_category_code_beneficiary_categories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_beneficiary_records')),
    sa.UniqueConstraint('personal_id', 'category_code', 'valid_from', name=op.f('uq_beneficiary_records_personal_id_category_code_valid_from'))
    )
    with op.batch_alter_table('beneficiary_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_beneficiary_records_import_batch'), ['import_batch'], unique=False)
        batch_op.create_index(batch_op.f('ix_beneficiary_records_personal_id'), ['personal_id'], unique=False)

    op.create_table('quotes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('service_code', sa.String(length=32), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('decision_day', sa.Date(), nullable=False),
    sa.Column('rule_set_hash', sa.String(length=64), nullable=False),
    sa.Column('base_amount', sa.BigInteger(), nullable=False),
    sa.Column('amount_due', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('exhausted_funds', sa.JSON(), nullable=False),
    sa.Column('citizen_ref', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'paid', 'expired', 'cancelled')", name=op.f('ck_quotes_status_known')),
    sa.CheckConstraint('amount_due <= base_amount', name=op.f('ck_quotes_amount_due_within_base')),
    sa.CheckConstraint('amount_due >= 0', name=op.f('ck_quotes_amount_due_not_negative')),
    sa.ForeignKeyConstraint(['rule_set_hash'], ['rule_sets.hash'], name=op.f('fk_quotes_rule_set_hash_rule_sets')),
    sa.ForeignKeyConstraint(['service_code'], ['services.code'], name=op.f('fk_quotes_service_code_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotes'))
    )
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quotes_citizen_ref'), ['citizen_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_quotes_rule_set_hash'), ['rule_set_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_quotes_service_code'), ['service_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_quotes_status'), ['status'], unique=False)

    op.create_table('rule_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('service_code', sa.String(length=32), nullable=False),
    sa.Column('layer', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('author_id', sa.String(length=64), nullable=False),
    sa.Column('approver_id', sa.String(length=64), nullable=True),
    sa.Column('second_approver_id', sa.String(length=64), nullable=True),
    sa.Column('simulation_report', sa.JSON(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("layer IN ('base', 'national', 'local')", name=op.f('ck_rule_versions_layer_known')),
    sa.CheckConstraint("status IN ('draft', 'in_review', 'approved', 'published', 'retired')", name=op.f('ck_rule_versions_status_known')),
    sa.CheckConstraint("status NOT IN ('approved', 'published', 'retired') OR approver_id IS NOT NULL", name=op.f('ck_rule_versions_approved_has_approver')),
    sa.CheckConstraint('approver_id IS NULL OR approver_id <> author_id', name=op.f('ck_rule_versions_approver_not_author')),
    sa.CheckConstraint('effective_to IS NULL OR effective_to >= effective_from', name=op.f('ck_rule_versions_window_ordered')),
    sa.CheckConstraint('second_approver_id IS NULL OR (second_approver_id <> author_id AND second_approver_id <> approver_id)', name=op.f('ck_rule_versions_second_approver_distinct')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_rule_versions_version_positive')),
    sa.ForeignKeyConstraint(['service_code'], ['services.code'], name=op.f('fk_rule_versions_service_code_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_versions')),
    sa.UniqueConstraint('rule_id', 'version', name=op.f('uq_rule_versions_rule_id_version'))
    )
    with op.batch_alter_table('rule_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_versions_service_code'), ['service_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_rule_versions_status'), ['status'], unique=False)

    op.create_table('service_agencies',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('service_code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('verify', sa.Boolean(), nullable=False),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_service_agencies_window_ordered')),
    sa.ForeignKeyConstraint(['service_code'], ['services.code'], name=op.f('fk_service_agencies_service_code_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_agencies')),
    sa.UniqueConstraint('service_code', 'valid_from', name=op.f('uq_service_agencies_service_code_valid_from'))
    )
    with op.batch_alter_table('service_agencies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_agencies_service_code'), ['service_code'], unique=False)

    op.create_table('fund_reservations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quote_id', sa.String(length=36), nullable=False),
    sa.Column('fund_code', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('held', 'committed', 'released')", name=op.f('ck_fund_reservations_status_known')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_fund_reservations_amount_positive')),
    sa.ForeignKeyConstraint(['fund_code'], ['subsidy_funds.code'], name=op.f('fk_fund_reservations_fund_code_subsidy_funds')),
    sa.ForeignKeyConstraint(['quote_id'], ['quotes.id'], name=op.f('fk_fund_reservations_quote_id_quotes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_reservations')),
    sa.UniqueConstraint('quote_id', 'fund_code', name=op.f('uq_fund_reservations_quote_id_fund_code'))
    )
    with op.batch_alter_table('fund_reservations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fund_reservations_quote_id'), ['quote_id'], unique=False)

    op.create_table('rule_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rule_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['rule_version_id'], ['rule_versions.id'], name=op.f('fk_rule_events_rule_version_id_rule_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_events'))
    )
    with op.batch_alter_table('rule_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_events_rule_version_id'), ['rule_version_id'], unique=False)

    triggers = _PG_TRIGGERS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS rule_events_append_only ON rule_events")
        op.execute("DROP TRIGGER IF EXISTS rule_versions_immutable ON rule_versions")
        op.execute("DROP FUNCTION IF EXISTS rule_events_append_only()")
        op.execute("DROP FUNCTION IF EXISTS rule_versions_immutable()")
    else:
        for name in ("rule_events_no_update", "rule_versions_immutable"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table('rule_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_events_rule_version_id'))

    op.drop_table('rule_events')
    with op.batch_alter_table('fund_reservations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fund_reservations_quote_id'))

    op.drop_table('fund_reservations')
    with op.batch_alter_table('service_agencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_agencies_service_code'))

    op.drop_table('service_agencies')
    with op.batch_alter_table('rule_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_versions_status'))
        batch_op.drop_index(batch_op.f('ix_rule_versions_service_code'))

    op.drop_table('rule_versions')
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quotes_status'))
        batch_op.drop_index(batch_op.f('ix_quotes_service_code'))
        batch_op.drop_index(batch_op.f('ix_quotes_rule_set_hash'))
        batch_op.drop_index(batch_op.f('ix_quotes_citizen_ref'))

    op.drop_table('quotes')
    with op.batch_alter_table('beneficiary_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_beneficiary_records_personal_id'))
        batch_op.drop_index(batch_op.f('ix_beneficiary_records_import_batch'))

    op.drop_table('beneficiary_records')
    op.drop_table('subsidy_funds')
    op.drop_table('services')
    op.drop_table('rule_sets')
    op.drop_table('beneficiary_categories')
