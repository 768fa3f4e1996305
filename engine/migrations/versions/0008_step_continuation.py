"""process_instance.pending_steps: engine steps left for the worker's continuation (issue 9)

Revision ID: 0008_step_continuation
Revises: 0007_correlation
Create Date: 2026-11-30

A command runs at most ``StepLimits.per_transaction`` engine steps; an instance with work
left is marked here (the steps run so far in this run) and the worker's ``continue`` job
goes on with it in following transactions. NULL: nothing left to run.
"""
from alembic import op
import sqlalchemy as sa

revision = "0008_step_continuation"
down_revision = "0007_correlation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_instance") as batch:
        batch.add_column(sa.Column("pending_steps", sa.Integer(), nullable=True))
    op.create_index("ix_process_instance_pending_steps", "process_instance", ["pending_steps"])


def downgrade() -> None:
    op.drop_index("ix_process_instance_pending_steps", table_name="process_instance")
    with op.batch_alter_table("process_instance") as batch:
        batch.drop_column("pending_steps")
