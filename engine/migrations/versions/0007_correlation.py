"""message_subscription: whether a waiting catch can be matched at all (issue 9)

Revision ID: 0007_correlation
Revises: 0006_check_run
Create Date: 2026-11-30

A catch event whose instance has no value for one of its correlation properties (a case
started without ``child_id``) must never catch a message: it waits ``uncorrelatable``, with
the properties that have no value in ``missing``, until an administrator sets them. Rows
written before this revision are ``waiting``; the next command on their instance rewrites
them, and ``baoxue check`` reports any whose state differs from the workflow's.
"""
from alembic import op
import sqlalchemy as sa

revision = "0007_correlation"
down_revision = "0006_check_run"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_subscription") as batch:
        batch.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="waiting"))
        batch.add_column(sa.Column("missing", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message_subscription") as batch:
        batch.drop_column("missing")
        batch.drop_column("status")
