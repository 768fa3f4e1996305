"""audit_event: the algorithm and key id of each link (keyed HMAC chain)

Revision ID: 0005_audit_keyed
Revises: 0004_message_outbox
Create Date: 2026-11-30

Rows written before this revision keep ``alg = 'sha256'`` (the plain chain they were written
with) and verify as legacy links; every new link is HMAC-SHA256 with the audit key
(engine/audit/chain.py). The first checkpoint seals the legacy links.
"""
from alembic import op
import sqlalchemy as sa

revision = "0005_audit_keyed"
down_revision = "0004_message_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alg", sa.String(length=16), nullable=False, server_default="sha256"))
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("key_id")
        batch_op.drop_column("alg")
