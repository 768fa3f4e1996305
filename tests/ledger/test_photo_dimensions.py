"""Issue 11: a photo's recorded width and height are those of the picture as stored, turned
upright by its EXIF orientation (``ledger.task_photos.without_metadata``); migration 0119
corrects rows recorded before with the upload's (swapped) size."""
from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from PIL import Image

from engine.migrate import upgrade
from engine.persistence.database import make_sql_engine
from ledger.migrate import VERSIONS as LEDGER
from ledger.task_photos import Upload, prepare

SCHEMA = {"properties": {"visit_photos": {"type": "array", "maxItems": 4, "x-photos": True}}}


def sideways(orientation: int, size=(64, 48), kind="JPEG") -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, kind, exif=exif.tobytes())
    return out.getvalue()


@pytest.mark.parametrize(("orientation", "kind", "upright"), [
    (1, "JPEG", (64, 48)), (3, "JPEG", (64, 48)), (6, "JPEG", (48, 64)), (8, "JPEG", (48, 64)),
    (5, "JPEG", (48, 64)), (6, "PNG", (48, 64))])
def test_the_recorded_size_is_the_stored_pictures(orientation, kind, upright):
    _data, [photo] = prepare(SCHEMA, {}, {"visit_photos": [Upload("p", sideways(orientation, kind=kind))]})
    stored = Image.open(io.BytesIO(photo.content))
    assert stored.size == upright
    assert (photo.width, photo.height) == upright


def test_migration_0119_corrects_the_sizes_recorded_before(db_url):
    sql = make_sql_engine(db_url)
    upgrade(sql, [LEDGER], "0118_task_marks")             # a database from before 0119
    photos = sa.table("task_photo", *(sa.column(c) for c in (
        "id", "instance_id", "task_id", "field", "position", "sha256", "media_type", "size", "width", "height",
        "content", "stored_at")))
    upright = io.BytesIO()
    Image.new("RGB", (48, 64)).save(upright, "JPEG")       # a sideways photo as stored, upright
    row = dict(instance_id=1, task_id="t", field="visit_photos", sha256="a" * 64, media_type="image/jpeg",
               size=len(upright.getvalue()), content=upright.getvalue(),
               stored_at=datetime(2025, 10, 21, tzinfo=timezone.utc))
    with sql.begin() as conn:
        conn.execute(photos.insert().values(id=1, position=1, width=64, height=48, **row))   # swapped
        conn.execute(photos.insert().values(id=2, position=2, width=1, height=1,
                                            **{**row, "sha256": "b" * 64, "content": b"not a picture"}))
    upgrade(sql, [LEDGER], "heads")
    with sql.begin() as conn:
        sizes = dict((r.id, (r.width, r.height)) for r in conn.execute(sa.select(photos.c.id, photos.c.width,
                                                                                 photos.c.height)))
    sql.dispose()
    assert sizes == {1: (48, 64), 2: (1, 1)}
