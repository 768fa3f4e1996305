"""The inbox and the task: read, claim, unclaim, reassign, complete."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from engine.errors import Forbidden, NotFound
from ledger import access
from ledger.inbox import InboxFilter, handed_to, inbox

from ..auth import api_user
from ..taskview import task_detail
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
    data = fields.Dict(required=True)


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
    eng = engine()
    try:
        row = eng.tasks.get(task_id)
    except NotFound:
        raise NotFound("任务不存在 (task not found)")
    with eng.db.transaction() as session:
        if not access.can_view_task(session, principal, row):
            raise NotFound("任务不存在 (task not found)")
    return row


@blp.get("/tasks/<task_id>")
def get_task(task_id):
    """One task: ``{task..., form: {schema, ui_schema}, data, instructions, instructions_html, history}``."""
    principal = api_user()
    row = visible_task(principal, task_id)
    return task_detail(engine(), row, principal)


@blp.post("/tasks/<task_id>/claim")
def claim(task_id):
    """Take the task (candidates only); 409 if someone else holds it."""
    principal = api_user()
    row = visible_task(principal, task_id)
    if not access.can_work(principal, row):
        raise Forbidden("只有该任务的候选人可以认领 (only candidates may claim)")
    return _view(engine().tasks.claim(task_id, principal.username))


@blp.post("/tasks/<task_id>/unclaim")
def unclaim(task_id):
    """Release a task I hold (or, for a supervisor, anyone's)."""
    principal = api_user()
    row = visible_task(principal, task_id)
    with engine().db.transaction() as session:
        supervisor = access.can_supervise(session, principal, row)
    if row.assignee != principal.username and not supervisor:
        raise Forbidden("只能释放自己认领的任务 (not your claim)")
    return _view(engine().tasks.unclaim(task_id, actor=principal.username))


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
    """Validate ``data`` against the form and complete: ``{instance_id, status, next_tasks, handed_to}``.

    403 if not a candidate (or claimed by another), 409 if already done, 422 with
    ``errors`` {field: 中文 message} if the data fails the form.
    """
    principal = api_user()
    row = visible_task(principal, task_id)
    if not access.can_work(principal, row):
        raise Forbidden("您不是该任务的办理人 (not a candidate for this task)")
    if row.assignee and row.assignee != principal.username:
        raise Forbidden(f"该任务已由 {row.assignee} 认领 (claimed by {row.assignee})")
    result = engine().runtime.complete_task(task_id, args["data"], actor=principal.username)
    body = result.to_dict()
    body["handed_to"] = handed_to(engine(), result.next_tasks)
    return body


def _view(row):
    from ledger.inbox import describe_tasks
    return describe_tasks(engine(), [row], engine().clock())[0]
