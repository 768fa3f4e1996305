"""Files sent with a task's completion (photos: ``ledger.task_photos``), for both front doors.

* ``allow_photo_uploads`` (a ``before_request`` hook, registered first): the completion
  endpoints take bodies up to ``task_photos.REQUEST_MAX`` (a few photos) instead of the
  site's ``MAX_CONTENT_LENGTH``; a body beyond it is a 413 before anything is read.
* ``uploads(request.files)``: the files as ``{field: [Upload]}``, each read only up to one
  byte past the photo limit (enough for ``task_photos`` to answer 413 with the field).
"""
from __future__ import annotations

from flask import request

from ledger.task_photos import MAX_BYTES, REQUEST_MAX, Upload

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
