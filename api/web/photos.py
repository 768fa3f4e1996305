"""``GET /instances/<id>/photos/<photo_id>``: a photo sent with one of the case's tasks
(``ledger.task_photos``: a home-teaching visit's photos, issue 11).

Only for who may trace the case (``task_photos.may_see``); anyone else, and a photo of
another case, gets the same 404 as a photo that does not exist. Served as the content type
its bytes were checked to be (``image/jpeg`` or ``image/png``, never what the upload
claimed), ``inline`` with a plain file name, ``nosniff`` and a CSP that runs nothing. Every
view is written to ``AccessLog`` (the child's subject; DOMAIN.md "Personal data").
"""
from __future__ import annotations

from flask import Blueprint, Response

from ledger import task_photos

from ..auth import current_principal, login_required
from ..taskview import log_case_view
from .common import engine, error_page

bp = Blueprint("photos", __name__)

NOT_VISIBLE = "照片不存在，或您无权查看此案件的照片。"


@bp.get("/instances/<int:instance_id>/photos/<int:photo_id>")
@login_required
def show(instance_id: int, photo_id: int):
    principal, eng = current_principal(), engine()
    photo = task_photos.content(eng, instance_id, photo_id) if task_photos.may_see(eng, principal, instance_id) \
        else None
    if photo is None:
        return error_page(404, NOT_VISIBLE, "照片不存在")
    log_case_view(eng, principal.username, instance_id, "photo", photo.task_id,
                  extra={"photo_id": photo.id, "sha256": photo.sha256})
    name = f"case-{instance_id}-photo-{photo.id}.{task_photos.SUFFIXES[photo.media_type]}"
    return Response(photo.content, mimetype=photo.media_type, headers={
        "Content-Disposition": f'inline; filename="{name}"', "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox", "Cache-Control": "no-store, private"})
