"""process_instance: a suspended instance is open too (one open instance per business key)

Revision ID: 0012_instance_lifecycle
Revises: 0011_definition_drafts
Create Date: 2026-12-02

Instances can now be suspended (engine.lifecycle). A suspended case is still the child's
open case: the partial unique index of 0003 must count it, or a second case could start
while the first is paused.
"""
from alembic import op
import sqlalchemy as sa

revision = "0012_instance_lifecycle"
down_revision = "0011_definition_drafts"
branch_labels = None
depends_on = None

INDEX = "uq_process_instance_open_business_key"
OPEN = sa.text("status IN ('active', 'error', 'suspended') AND business_key IS NOT NULL")
BEFORE = sa.text("status IN ('active', 'error') AND business_key IS NOT NULL")


def _replace(where) -> None:
    op.drop_index(INDEX, table_name="process_instance")
    op.create_index(INDEX, "process_instance", ["process_key", "business_key"],
                    unique=True, sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    _replace(OPEN)


def downgrade() -> None:
    # A suspended instance has no status the older code knows: it goes back to active.
    op.execute("UPDATE process_instance SET status = 'active' WHERE status = 'suspended'")
    _replace(BEFORE)
