"""Files sent with a task's completion (photos: ``ledger.task_photos``), for both front doors.

* ``allow_photo_uploads`` (a ``before_request`` hook, registered first): the completion
  endpoints take bodies up to ``task_photos.REQUEST_MAX`` (a few photos) instead of the
  site's ``MAX_CONTENT_LENGTH``; a body beyond it is a 413 before anything is read.
* ``uploads(request.files)``: the files as ``{field: [Upload]}``, each read only up to one
  byte past the photo limit (enough for ``task_photos`` to answer 413 with the field).
* ``too_large_message()``: what a 413 says, in Chinese with the limit that was passed (both
  front doors: ``api.errors`` for the REST body, ``api.web.common`` for pages). The task
  page also checks the photos' sizes before sending (``static/photo_limits.js``), so what was
  typed stays on the page; this server check stays for every client.
"""
from __future__ import annotations

from flask import request

from ledger.task_photos import MAX_BYTES, MAX_PHOTOS, REQUEST_MAX, Upload

COMPLETION_ENDPOINTS = frozenset({"tasks.complete", "web.tasks.submit"})


def allow_photo_uploads() -> None:
    if request.endpoint in COMPLETION_ENDPOINTS:
        request.max_content_length = REQUEST_MAX


def uploads(files) -> dict[str, list[Upload]]:
    """``{field: [Upload(filename, bytes)]}`` from a ``MultiDict`` of ``FileStorage``."""
    found: dict[str, list[Upload]] = {}
    for name, storage in files.items(multi=True):
        found.setdefault(name, []).append(Upload(storage.filename or "", storage.stream.read(MAX_BYTES + 1)))
    return found


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}"


def too_large_message() -> str:
    """The Chinese sentence of a 413 for the current request: a task completion names the
    photo limits (each photo, and the whole submission), anything else the site's limit."""
    if request.endpoint in COMPLETION_ENDPOINTS:
        return (f"提交的内容过大：照片每张不超过 {_mb(MAX_BYTES)} MB、最多 {MAX_PHOTOS} 张，一次提交合计不超过 "
                f"{_mb(REQUEST_MAX)} MB。未保存任何内容，请压缩或减少照片后重新提交。")
    limit = request.max_content_length
    return f"提交的内容过大：不能超过 {_mb(limit)} MB。未保存任何内容。" if limit else "提交的内容过大，未保存任何内容。"
