"""process_definition.note (why a version was deployed, required by the editor) and
definition_draft: diagrams and forms an administrator is editing, not yet live (issue 14).

Revision ID: 0011_definition_drafts
Revises: 0010_task_reserved_for
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

from engine.persistence.models import UtcDateTime

revision = "0011_definition_drafts"
down_revision = "0010_task_reserved_for"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_definition") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
    op.create_table(
        "definition_draft",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("process_key", sa.String(255), nullable=False, index=True),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("base_definition_id", sa.Integer(), sa.ForeignKey("process_definition.id"), nullable=True),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(120), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("deployed_definition_id", sa.Integer(), sa.ForeignKey("process_definition.id"),
                  nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("definition_draft")
    with op.batch_alter_table("process_definition") as batch:
        batch.drop_column("note")
