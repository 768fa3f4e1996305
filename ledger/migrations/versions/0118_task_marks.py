"""Agreements: how a refusal was settled; marks on tasks (a signing reminded, issue 12)

Revision ID: 0118_task_marks
Revises: 0117_task_photos

``agreement.settled_at`` / ``settled_by`` / ``settle_note`` (the last refusal's settling),
and ``ledger.task_marks.TaskMark``.
"""
from alembic import op
import sqlalchemy as sa

from engine.persistence.models import UtcDateTime

revision = "0118_task_marks"
down_revision = "0117_task_photos"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agreement") as batch:
        batch.add_column(sa.Column("settled_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("settled_by", sa.String(120), nullable=True))
        batch.add_column(sa.Column("settle_note", sa.Text(), nullable=True))
    op.create_table(
        "task_mark",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.String(36), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("task_id", "kind"),
    )


def downgrade() -> None:
    op.drop_table("task_mark")
    with op.batch_alter_table("agreement") as batch:
        for column in ("settle_note", "settled_by", "settled_at"):
            batch.drop_column(column)
