"""case_handoff: the attendance outbox (issue 8)

Revision ID: 0103_case_handoff
Revises: 0102_attendance

A report's records and the events they hand to persuasion cases are written in one
transaction; a dispatcher applies each event after commit, exactly once (see
``ledger.case_handoff``).
"""
from alembic import op
import sqlalchemy as sa

from engine.persistence.models import UtcDateTime

revision = "0103_case_handoff"
down_revision = "0102_attendance"
branch_labels = None
depends_on = "0004_message_outbox"


def upgrade() -> None:
    op.create_table(
        "case_handoff",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("child_id", sa.Integer(), sa.ForeignKey("child.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("first_day", sa.Date(), nullable=True),
        sa.Column("corrected", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("reported_by", sa.String(120), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("done_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_case_handoff_status", "case_handoff", ["status", "id"])
    op.create_index("ix_case_handoff_child", "case_handoff", ["child_id", "status"])


def downgrade() -> None:
    op.drop_table("case_handoff")
