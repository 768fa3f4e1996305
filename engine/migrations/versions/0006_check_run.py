"""check_run: results of the consistency check; incident: how it was resolved, and why

Revision ID: 0006_check_run
Revises: 0005_audit_keyed
Create Date: 2026-11-30

``baoxue check`` (and the worker, daily) stores each run so that the administrator's page
shows the last result. An incident resolved without a retry keeps the administrator's note.
"""
from alembic import op
import sqlalchemy as sa

revision = "0006_check_run"
down_revision = "0005_audit_keyed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "check_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("finding_count", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_check_run_at", "check_run", ["at"])
    with op.batch_alter_table("incident") as batch:
        batch.add_column(sa.Column("resolution", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
    op.execute("UPDATE incident SET resolution = 'retried' WHERE status = 'resolved'")


def downgrade() -> None:
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("note")
        batch.drop_column("resolution")
    op.drop_index("ix_check_run_at", table_name="check_run")
    op.drop_table("check_run")
