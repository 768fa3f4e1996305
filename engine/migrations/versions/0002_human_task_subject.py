"""human_task.subject_id: what a task is about, filled by the router

Revision ID: 0002_task_subject
Revises: 0001_engine
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa

revision = "0002_task_subject"
down_revision = "0001_engine"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("human_task") as batch_op:
        batch_op.add_column(sa.Column("subject_id", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_human_task_subject_id", ["subject_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("human_task") as batch_op:
        batch_op.drop_index("ix_human_task_subject_id")
        batch_op.drop_column("subject_id")
