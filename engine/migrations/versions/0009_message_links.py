"""message.sender and message_delivery.instance_id indexed: the cases a case started by its
messages, and the case that started it, are index lookups (``MessageService.linked``)

Revision ID: 0009_message_links
Revises: 0008_step_continuation
Create Date: 2026-12-01
"""
from alembic import op

revision = "0009_message_links"
down_revision = "0008_step_continuation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_message_sender", "message", ["sender"])
    op.create_index("ix_message_delivery_instance_id", "message_delivery", ["instance_id"])


def downgrade() -> None:
    op.drop_index("ix_message_delivery_instance_id", table_name="message_delivery")
    op.drop_index("ix_message_sender", table_name="message")
