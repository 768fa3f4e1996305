"""document_version: confirmed documents kept as confirmed; the child's 学籍号 and 户籍地 (issue 10 §6)

Revision ID: 0110_document_versions
Revises: 0106_case_outcome

``document_version``: one row per confirmation of a case's document (``ledger.document_models``).
``child.registry_no`` (学籍号, masked like an ID number: it usually is "G" + the ID number)
and ``child.hukou_place`` (户籍地) are printed on the dropout report; both may be empty.
"""
from alembic import op
import sqlalchemy as sa

from engine.persistence.models import UtcDateTime

revision = "0110_document_versions"
down_revision = "0106_case_outcome"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("instance_id", sa.Integer(), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("confirmed_seq", sa.Integer(), nullable=False),
        sa.Column("confirmed_by", sa.String(120), nullable=True),
        sa.Column("confirmed_at", UtcDateTime(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.UniqueConstraint("instance_id", "kind", "version"),
        sa.UniqueConstraint("instance_id", "kind", "confirmed_seq"),
    )
    with op.batch_alter_table("child") as batch:
        batch.add_column(sa.Column("registry_no", sa.String(32), nullable=True))
        batch.add_column(sa.Column("hukou_place", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("child") as batch:
        batch.drop_column("hukou_place")
        batch.drop_column("registry_no")
    op.drop_table("document_version")
