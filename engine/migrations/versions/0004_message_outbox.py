"""Messages as an outbox: delivery attempts, leases and per-target delivery records (issue 8).

A message is stored ``pending`` in the transaction of whoever sends it (an API call, a
process that throws it); dispatchers deliver it after commit, at least once, and
``message_delivery`` (one row per message and target, written in the target's own command
transaction) makes a repeat delivery to the same instance a no-op.

Revision ID: 0004_message_outbox
"""
from alembic import op
import sqlalchemy as sa

from engine.persistence.models import UtcDateTime

revision = "0004_message_outbox"
down_revision = "0003_open_business_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("lease_until", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    # Messages claimed before delivery under the old scheme and never finished: deliver again.
    op.execute("UPDATE message SET status = 'pending' WHERE status = 'delivering'")
    op.create_table(
        "message_delivery",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("message.id"), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("message_id", "target", name="uq_message_delivery_target"),
    )


def downgrade() -> None:
    op.drop_table("message_delivery")
    with op.batch_alter_table("message") as batch:
        for column in ("last_error", "lease_until", "next_attempt_at", "attempts"):
            batch.drop_column(column)
