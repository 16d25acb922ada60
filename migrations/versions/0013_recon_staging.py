"""Reconciliation at scale: no per-row foreign keys on results and lines, no unused indexes

A run writes one ``recon_results`` row per item, line or pair: a million rows for a million payments, in
one ``INSERT … SELECT`` that takes ``run_id``, ``item_id`` and ``line_id`` from ``recon_runs``,
``recon_items`` and ``report_lines`` in the same statement. On PostgreSQL each foreign key was checked
(and the referenced row locked) once per inserted row: three million look-ups, about 20 of the 30 seconds
of a million-row run. The referenced rows are never deleted (runs, snapshots and imported lines are kept
for audit), so the keys hold by construction and the per-row checks are dropped. The same holds for
``report_lines.file_id`` (an import inserts the file and all its lines in one transaction) and for
``recon_items.run_id`` (a run writes its snapshot right after its own row); each check cost 3-10 seconds
per million rows.

Each index on ``report_lines`` costs 2-5 seconds per million imported lines. Nothing looks lines up by
provider reference, so that index goes, and so do the ones on ``report_lines.file_id`` and
``recon_items.run_id``, which the unique keys (file_id, statement_index, row) and (run_id, reference) already
serve. The payment code and payout id indexes stay: the reports find each payment's payout by its code, and
a bank run books a payout from its lines.

On PostgreSQL the stored report files are compressed with lz4 instead of pglz: a 100 MB report is stored
in a third of the time (where the server lacks lz4, pglz stays).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_KEYS = (("fk_recon_results_run_id_recon_runs", "run_id", "recon_runs"),
         ("fk_recon_results_item_id_recon_items", "item_id", "recon_items"),
         ("fk_recon_results_line_id_report_lines", "line_id", "report_lines"))


_LINE_INDEXES = ("file_id", "provider_reference")


def _compress_files_with(method: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DO $$ BEGIN ALTER TABLE report_files ALTER COLUMN content SET COMPRESSION {method}; "
                   "EXCEPTION WHEN OTHERS THEN NULL; END $$")


def upgrade() -> None:
    _compress_files_with("lz4")
    with op.batch_alter_table("recon_results", schema=None) as batch_op:
        for name, _column, _table in _KEYS:
            batch_op.drop_constraint(name, type_="foreignkey")
    with op.batch_alter_table("report_lines", schema=None) as batch_op:
        batch_op.drop_constraint("fk_report_lines_file_id_report_files", type_="foreignkey")
        for column in _LINE_INDEXES:
            batch_op.drop_index(f"ix_report_lines_{column}")
    with op.batch_alter_table("recon_items", schema=None) as batch_op:
        batch_op.drop_constraint("fk_recon_items_run_id_recon_runs", type_="foreignkey")
        batch_op.drop_index("ix_recon_items_run_id")


def downgrade() -> None:
    _compress_files_with("pglz")
    with op.batch_alter_table("recon_items", schema=None) as batch_op:
        batch_op.create_index("ix_recon_items_run_id", ["run_id"], unique=False)
        batch_op.create_foreign_key("fk_recon_items_run_id_recon_runs", "recon_runs", ["run_id"], ["id"])
    with op.batch_alter_table("report_lines", schema=None) as batch_op:
        for column in _LINE_INDEXES:
            batch_op.create_index(f"ix_report_lines_{column}", [column], unique=False)
        batch_op.create_foreign_key("fk_report_lines_file_id_report_files", "report_files", ["file_id"], ["id"])
    with op.batch_alter_table("recon_results", schema=None) as batch_op:
        for name, column, table in _KEYS:
            batch_op.create_foreign_key(name, table, [column], ["id"])
