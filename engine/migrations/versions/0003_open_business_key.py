"""process_instance: at most one open (active or error) instance per process and business key

Revision ID: 0003_open_business_key
Revises: 0002_task_subject
Create Date: 2026-11-29

A check-then-start in the caller cannot stop two concurrent starts for the same business key
(two clicks, two attendance reports at once); the database can.
"""
from alembic import op
import sqlalchemy as sa

revision = "0003_open_business_key"
down_revision = "0002_task_subject"
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('active', 'error') AND business_key IS NOT NULL")


def upgrade() -> None:
    op.create_index("uq_process_instance_open_business_key", "process_instance", ["process_key", "business_key"],
                    unique=True, sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index("uq_process_instance_open_business_key", table_name="process_instance")
