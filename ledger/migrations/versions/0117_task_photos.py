"""task_photo: photos sent with a task's completion (issue 11: a home-teaching visit's photos);
document_version.sha256: the hash of a kept document

Revision ID: 0117_task_photos
Revises: 0116_agreements

``task_photo``: one row per photo (``ledger.task_photo_models``), its bytes with their SHA-256;
the workflow keeps only the hash. ``document_version.sha256``: the SHA-256 of ``data`` (null
for versions kept before this revision).
"""
from alembic import op
import sqlalchemy as sa

from engine.persistence.models import UtcDateTime

revision = "0117_task_photos"
down_revision = "0116_agreements"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_photo",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("instance_id", sa.Integer(), nullable=False, index=True),
        sa.Column("task_id", sa.String(36), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("stored_by", sa.String(120), nullable=True),
        sa.Column("stored_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("task_id", "field", "sha256"),
    )
    with op.batch_alter_table("document_version") as batch:
        batch.add_column(sa.Column("sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("document_version") as batch:
        batch.drop_column("sha256")
    op.drop_table("task_photo")
