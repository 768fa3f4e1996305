"""The inbox and the task: read, claim, unclaim, reassign, complete."""
from __future__ import annotations

import json

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from engine.errors import Forbidden, InvalidInput
from ledger import access
from ledger.inbox import InboxFilter, handed_to, inbox

from .. import taskactions
from ..auth import api_user
from ..taskview import log_case_view, task_detail
from ..uploads import uploads
from . import engine

blp = Blueprint("tasks", __name__, url_prefix="/api/v1", description="Staff inbox and tasks")


class InboxArgs(Schema):
    role = fields.String(load_default=None)
    org_unit = fields.String(load_default=None)
    process_key = fields.String(load_default=None)
    overdue = fields.Boolean(load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(max=64))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))


class CompleteArgs(Schema):
    # Not required here: a multipart completion sends ``data`` as a part of its own (complete).
    data = fields.Dict(load_default=None)


class AssignArgs(Schema):
    username = fields.String(required=True, allow_none=True)


@blp.get("/inbox")
@blp.arguments(InboxArgs, location="query")
def get_inbox(args):
    """Open tasks I may work on: ``{items, total, page, per_page}``; overdue first, then by due date."""
    principal = api_user()
    items, total = inbox(engine(), principal, InboxFilter(**args))
    return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}


def visible_task(principal, task_id):
    """The task row if the caller may see it; 404 otherwise (no hint that it exists)."""
    return taskactions.visible_task(engine(), principal, task_id)


@blp.get("/tasks/<task_id>")
def get_task(task_id):
    """One task: ``{task..., form: {schema, ui_schema, choices}, data, instructions, instructions_html,
    history}``; ``choices`` ``{field: [{value, label}]}``: what a field marked ``x-choicesFrom``
    accepts on this task (people by display name; any other value is refused with 422).
    Each call writes an access-log row (``taskview.log_case_view``)."""
    principal = api_user()
    row = visible_task(principal, task_id)
    detail = task_detail(engine(), row, principal)
    log_case_view(engine(), principal.username, row.instance_id, "task", row.id,
                  fields=(detail["subject"] or {}).get("shown"))
    return detail


@blp.post("/tasks/<task_id>/claim")
def claim(task_id):
    """Take the task (candidates only); 409 if someone else holds it."""
    return _view(taskactions.claim(engine(), api_user(), task_id))


@blp.post("/tasks/<task_id>/unclaim")
def unclaim(task_id):
    """Release a task I hold (or, for a supervisor, anyone's)."""
    return _view(taskactions.unclaim(engine(), api_user(), task_id))


@blp.post("/tasks/<task_id>/assign")
@blp.arguments(AssignArgs)
def assign(args, task_id):
    """Reassign to a candidate (``username``) or to nobody (null): principals of the school
    and the task-force leader/deputy only."""
    from ledger.directory import holders
    principal = api_user()
    row = visible_task(principal, task_id)
    eng = engine()
    with eng.db.transaction() as session:
        if not access.can_supervise(session, principal, row):
            raise Forbidden("无权改派此任务 (only the school's principal or the task force may reassign)")
        candidates = {u.username for u in holders(session, row.candidate_role, row.org_unit)}
    if args["username"] is not None and args["username"] not in candidates:
        raise Forbidden(f"{args['username']} 不是该任务的候选人 (not a candidate for this task)")
    return _view(eng.tasks.assign(task_id, args["username"], actor=principal.username))


@blp.post("/tasks/<task_id>/complete")
@blp.arguments(CompleteArgs)
def complete(args, task_id):
    """Validate ``data`` against the form and complete: ``{instance_id, status, running, next_tasks, handed_to}``
    (``running``: engine steps go on in the worker; tasks they reach appear in the inbox later).

    Two bodies:

    * ``application/json`` ``{"data": {...}}``;
    * ``multipart/form-data`` for a form with photo fields (``x-photos``, e.g. a home-teaching
      visit's ``visit_photos``): a part ``data`` holding the same JSON object as text, and one
      file part per photo named by its field (repeat the name for several). The photos are
      checked (JPEG or PNG by content, at most 5 MB and 4 each field), named in the data by
      their SHA-256 and stored with the completion; the field itself is never sent as data.
      Multipart rather than base64 in JSON: the bytes travel as they are (a third smaller),
      and a browser's form posts the same way (``/tasks/<id>``).

    403 if not a candidate (or claimed by another), 409 if already done, 413 with ``errors``
    {field: 中文} for a photo too large (a body above 21 MB, not read: ``errors`` {body: 中文}
    with the limits, ``api.uploads.too_large_message``), 422 with ``errors`` {field:
    中文 message} if the data fails the form or a photo is not a JPEG/PNG; nothing is stored.
    """
    data, files = args["data"], {}
    if request.mimetype == "multipart/form-data":
        data, files = _multipart_data(), uploads(request.files)
    if not isinstance(data, dict):
        raise InvalidInput("request is invalid", errors={"data": "Missing data for required field."})
    result = taskactions.complete(engine(), api_user(), task_id, data, files)
    body = result.to_dict()
    body["handed_to"] = handed_to(engine(), result.next_tasks)
    return body


def _multipart_data() -> dict:
    """The ``data`` part of a multipart completion as a JSON object; 422 naming it otherwise."""
    try:
        data = json.loads(request.form.get("data") or "null")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise InvalidInput("request is invalid", errors={"data": "must be a JSON object (the form's data as text)"})
    return data


def _view(row):
    from ledger.inbox import describe_tasks
    return describe_tasks(engine(), [row], engine().clock())[0]
