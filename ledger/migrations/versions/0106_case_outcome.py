"""case_event: the child's status history and each case's outcome (issue 10)

Revision ID: 0106_case_outcome
Revises: 0105_login_throttle

``child.enrolment_status`` now holds the 就学状态 codes of ``ledger.case_outcomes``
(longer codes such as ``suspected_dropout``: widened to 32). ``case_handoff.recent``: the
unexcused school days within the intermittent window (``ledger.local_rules``).
"""
from alembic import op
import sqlalchemy as sa

from engine.persistence.models import UtcDateTime

revision = "0106_case_outcome"
down_revision = "0105_login_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.Integer(), nullable=False, unique=True),
        sa.Column("instance_id", sa.Integer(), nullable=False, index=True),
        sa.Column("child_id", sa.Integer(), sa.ForeignKey("child.id"), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("status_before", sa.String(32), nullable=False),
        sa.Column("status_after", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(120), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ix_case_event_child", "case_event", ["child_id", "id"])
    with op.batch_alter_table("child") as batch:
        batch.alter_column("enrolment_status", type_=sa.String(32), existing_type=sa.String(16),
                           existing_nullable=False)
    with op.batch_alter_table("case_handoff") as batch:
        batch.add_column(sa.Column("recent", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("case_handoff") as batch:
        batch.drop_column("recent")
    with op.batch_alter_table("child") as batch:
        batch.alter_column("enrolment_status", type_=sa.String(16), existing_type=sa.String(32),
                           existing_nullable=False)
    op.drop_index("ix_case_event_child", table_name="case_event")
    op.drop_table("case_event")
