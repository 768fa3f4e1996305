"""Photos sent with a task's completion (issue 11: a home-teaching visit's optional photos).

A form declares a photo field as an array of hashes marked ``"x-photos": true``::

    "visit_photos": {"type": "array", "title": "送教照片", "maxItems": 4, "x-photos": true,
                     "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}

The person sends files for it (the task page's file input; a multipart REST completion).
``prepare`` checks them and puts their SHA-256s into the data, which the form then validates
like any other value; ``keeper`` stores them in the completion's own transaction
(``engine.runtime.complete_task(also=...)``) and appends one ``photo_stored`` event per photo
(its hash, size and type) to the case's audit chain. The workflow keeps only the hashes:
image bytes never enter a case's state. What is stored is the picture without its metadata
(``without_metadata``: no EXIF, so no GPS position of the child's home).

Checks, each refusing the whole completion with nothing stored: at most ``maxItems`` (and
never more than ``MAX_PHOTOS``) per field (422); each file at most ``MAX_BYTES`` (413); a
JPEG or PNG by its content, decoded by Pillow, whatever its name or declared type (422); at
most ``MAX_PIXELS`` pixels (422). A photo field's value comes only as files: hashes sent as
data are refused (422), and so are files for a field that takes none.

Who may see a case's photos: who may trace the case (``may_see``, the rule of
``/instances/<id>``); the page serving them logs every view (``api.web.photos``).
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, replace

from PIL import Image, ImageOps
from sqlalchemy import select

from engine.audit import append_event, instance_stream
from engine.errors import InvalidInput, TooLarge

from . import access
from .task_photo_models import TaskPhoto

KEYWORD = "x-photos"
MAX_PHOTOS = 4                       # per field and completion
MAX_BYTES = 5 * 1024 * 1024          # per photo
MAX_PIXELS = 50_000_000              # a 50-megapixel phone photo; beyond that, a decompression bomb
REQUEST_MAX = MAX_PHOTOS * MAX_BYTES + 1024 * 1024   # a completion's body: the photos and the form
# Pillow's names → the content type served; MPO is a phone camera's multi-picture JPEG.
MEDIA_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png"}
SUFFIXES = {"image/jpeg": "jpg", "image/png": "png"}
NOT_AN_IMAGE = "不是 JPEG 或 PNG 图片（按文件内容判断，与文件名无关）"


@dataclass(frozen=True)
class Upload:
    """One file as sent: its name (only for messages) and its bytes (at most MAX_BYTES + 1:
    the reader stops there, which is enough to know it is too big)."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class Photo:
    field: str
    position: int
    sha256: str
    media_type: str
    width: int
    height: int
    content: bytes


def photo_fields(schema: dict | None) -> dict[str, int]:
    """``{field: how many photos it takes}`` for the form's ``x-photos`` fields."""
    properties = (schema or {}).get("properties") or {}
    return {name: min(int(prop.get("maxItems") or MAX_PHOTOS), MAX_PHOTOS)
            for name, prop in properties.items() if isinstance(prop, dict) and prop.get(KEYWORD)}


def prepare(schema: dict | None, data: dict, files: dict[str, list[Upload]]) -> tuple[dict, list[Photo]]:
    """Check ``files`` ({field: [Upload]}) against the form ``schema``; returns the data with
    each photo field set to its photos' hashes (in the order sent, the same picture once) and
    the photos to keep. Raises TooLarge (413) or InvalidInput (422) naming the field."""
    fields = photo_fields(schema)
    stray = {name: "此项不接受上传文件" for name, uploads in files.items()
             if name not in fields and any(u.data for u in uploads)}
    typed = {name: "照片须作为文件上传，不能直接填写" for name in fields if name in data}
    if stray or typed:
        raise InvalidInput("提交的照片有误，未保存任何内容", errors={**stray, **typed})
    data, photos = dict(data), []
    for name, uploads in files.items():
        uploads = [u for u in uploads if u.data]       # an empty file input posts one empty part
        if not uploads:
            continue
        if len(uploads) > fields[name]:
            raise InvalidInput("照片过多，未保存任何内容", errors={name: f"最多上传 {fields[name]} 张照片"})
        checked = {}
        for number, upload in enumerate(uploads, start=1):
            photo = _check(name, number, upload)
            checked.setdefault(photo.sha256, replace(photo, position=len(checked) + 1))
        photos += checked.values()
        data[name] = list(checked)
    return data, photos


def _check(name: str, number: int, upload: Upload) -> Photo:
    which = f"第 {number} 张照片（{upload.filename[:60] or '未命名'}）"
    if len(upload.data) > MAX_BYTES:
        raise TooLarge("照片过大，未保存任何内容",
                       errors={name: f"{which}超过 {MAX_BYTES // (1024 * 1024)} MB，请压缩后重新上传"})
    try:
        media_type, width, height = _decode(upload.data)
    except Image.DecompressionBombError:
        raise InvalidInput("照片尺寸过大，未保存任何内容", errors={
            name: f"{which}超过 {MAX_PIXELS // 1_000_000} 百万像素，请缩小后重新上传"}) from None
    if media_type is None:
        raise InvalidInput("照片格式不对，未保存任何内容", errors={name: which + NOT_AN_IMAGE})
    kept, width, height = without_metadata(upload.data, media_type)
    return Photo(name, number, hashlib.sha256(kept).hexdigest(), media_type, width, height, kept)


def without_metadata(data: bytes, media_type: str) -> tuple[bytes, int, int]:
    """(bytes, width, height) of the picture re-encoded with no metadata: a phone's EXIF carries the GPS position where
    it was taken, here a child's home (DOMAIN-REFERENCE §7: collect no more than the work
    needs). The orientation is applied to the pixels first, so the picture still stands
    upright. JPEG is re-encoded at quality 90; PNG keeps its pixels exactly. The hash on the
    chain is of these bytes, the ones stored and served; width and height are theirs (a
    quarter turn swaps the upload's), so the recorded size is the picture's as served."""
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image)
        out = io.BytesIO()
        if media_type == "image/png":
            upright.save(out, format="PNG", optimize=False)
        else:
            upright.convert("RGB" if upright.mode not in ("RGB", "L") else upright.mode).save(
                out, format="JPEG", quality=90)
        return out.getvalue(), *upright.size


def _decode(data: bytes) -> tuple[str | None, int, int]:
    """(content type, width, height) of a JPEG or PNG that decodes whole (not a header glued
    to anything else); (None, 0, 0) for anything else. Raises DecompressionBombError above
    MAX_PIXELS, before decoding."""
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG", "PNG"]) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise Image.DecompressionBombError(f"{width}x{height} pixels")
            image.load()
            return MEDIA_TYPES.get(image.format), width, height
    except Image.DecompressionBombError:
        raise
    except Exception:  # noqa: BLE001 - whatever Pillow cannot decode is not a photo to us
        return None, 0, 0


def keeper(photos: list[Photo], instance_id: int, task_id: str):
    """``also(ctx)`` for ``complete_task``: the photos stored in the completion's transaction,
    each hash on the case's chain; None when there are none."""
    if not photos:
        return None
    return lambda ctx: _store(ctx.session, photos, instance_id, task_id, ctx.actor, ctx.now)


def keep_for_retry(engine, photos: list[Photo], instance_id: int, task_id: str, actor: str) -> None:
    """The photos of a completion that failed in a later step (its incident keeps the data,
    with their hashes, for the administrator's retry): stored now, in their own transaction,
    so that the retried completion names photos that exist."""
    if photos:
        with engine.db.transaction() as session:
            _store(session, photos, instance_id, task_id, actor, engine.clock())


def _store(session, photos: list[Photo], instance_id: int, task_id: str, actor, now) -> None:
    kept = set(session.execute(select(TaskPhoto.field, TaskPhoto.sha256).where(TaskPhoto.task_id == task_id)))
    for photo in photos:
        if (photo.field, photo.sha256) in kept:      # a retry that sends the same picture again
            continue
        row = TaskPhoto(instance_id=instance_id, task_id=task_id, field=photo.field, position=photo.position,
                        sha256=photo.sha256, media_type=photo.media_type, size=len(photo.content),
                        width=photo.width, height=photo.height, content=photo.content,
                        stored_by=actor, stored_at=now)
        session.add(row)
        session.flush()
        append_event(session, instance_stream(instance_id), "photo_stored", at=now, actor=actor,
                     instance_id=instance_id, task_id=task_id,
                     data={"photo_id": row.id, "field": photo.field, "sha256": photo.sha256,
                           "media_type": photo.media_type, "size": len(photo.content)})


def may_see(engine, principal, instance_id: int) -> bool:
    """May this person see the case's photos? Who may trace the case (its tasks' holders and
    supervisors, the discipline inspector, the town's task force: ``access.can_trace_instance``)."""
    with engine.db.read() as session:
        return access.can_trace_instance(session, principal, instance_id)


def listed(engine, instance_id: int) -> dict[str, list[dict]]:
    """``{task_id: [{id, field, position, sha256, media_type, size, width, height, url}]}`` of
    the case's photos, without their bytes."""
    with engine.db.read() as session:
        rows = session.execute(select(TaskPhoto.id, TaskPhoto.task_id, TaskPhoto.field, TaskPhoto.position,
                                      TaskPhoto.sha256, TaskPhoto.media_type, TaskPhoto.size, TaskPhoto.width,
                                      TaskPhoto.height).where(TaskPhoto.instance_id == instance_id)
                               .order_by(TaskPhoto.task_id, TaskPhoto.field, TaskPhoto.position)).all()
    found: dict[str, list[dict]] = {}
    for row in rows:
        item = dict(row._mapping)
        found.setdefault(item.pop("task_id"), []).append(
            {**item, "url": f"/instances/{instance_id}/photos/{item['id']}"})
    return found


def content(engine, instance_id: int, photo_id: int) -> TaskPhoto | None:
    """The photo with its bytes, if it is one of ``instance_id``'s; None otherwise."""
    with engine.db.read() as session:
        row = session.get(TaskPhoto, photo_id) if 0 < photo_id <= 2**31 - 1 else None
        if row is None or row.instance_id != instance_id:
            return None
        session.expunge(row)
        return row
