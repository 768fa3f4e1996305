"""process_definition: a version's content may repeat an older version's (issue 14 review: an
administrator puts an earlier version back by deploying it again as the newest), so
(process_key, content_hash) is no longer unique; an index keeps the lookup.

Revision ID: 0013_redeploy_version
Revises: 0012_instance_lifecycle
Create Date: 2026-12-01
"""
from alembic import op

revision = "0013_redeploy_version"
down_revision = "0012_instance_lifecycle"
branch_labels = None
depends_on = None

# SQLite keeps the 0001 constraint unnamed: batch mode names it by this convention to drop it.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("process_definition_process_key_content_hash_key", "process_definition", type_="unique")
    else:
        with op.batch_alter_table("process_definition", naming_convention=NAMING) as batch:
            batch.drop_constraint("uq_process_definition_process_key_content_hash", type_="unique")
    op.create_index("ix_process_definition_key_hash", "process_definition", ["process_key", "content_hash"])


def downgrade() -> None:
    op.drop_index("ix_process_definition_key_hash", table_name="process_definition")
    with op.batch_alter_table("process_definition") as batch:
        batch.create_unique_constraint("uq_process_definition_key_hash", ["process_key", "content_hash"])
