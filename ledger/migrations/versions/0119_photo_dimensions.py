"""task_photo.width/height: the stored picture's own size

Revision ID: 0119_photo_dimensions
Revises: 0118_task_marks

A photo taken sideways (EXIF orientation 5-8) is stored turned upright (``ledger.task_photos.
without_metadata``), but rows kept before this revision recorded the upload's width and
height, swapped. Each row's size is read again from the bytes stored (the header only; a
row Pillow cannot open is left as it is). Downgrade: nothing to undo.
"""
import io

from alembic import op
import sqlalchemy as sa
from PIL import Image

revision = "0119_photo_dimensions"
down_revision = "0118_task_marks"
branch_labels = None
depends_on = None

photo = sa.table("task_photo", sa.column("id", sa.Integer), sa.column("width", sa.Integer),
                 sa.column("height", sa.Integer), sa.column("content", sa.LargeBinary))


def upgrade() -> None:
    bind = op.get_bind()
    for row_id, width, height in bind.execute(sa.select(photo.c.id, photo.c.width, photo.c.height)).all():
        content = bind.scalar(sa.select(photo.c.content).where(photo.c.id == row_id))
        try:
            with Image.open(io.BytesIO(content)) as image:
                size = image.size
        except Exception:  # noqa: BLE001 - unreadable bytes: keep what was recorded
            continue
        if size != (width, height):
            bind.execute(photo.update().where(photo.c.id == row_id).values(width=size[0], height=size[1]))


def downgrade() -> None:
    pass
