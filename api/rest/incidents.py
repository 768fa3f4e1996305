"""Incidents (failed engine steps) for system administrators: list, inspect, retry, resolve.

Admin only, as ``/api/v1/users``: 401 without a valid bearer token, 403 for anyone else,
checked before the body is read. The use cases are ``engine.incidents.IncidentService``'s;
messages are the stored ones through ``engine.incidents.public_message`` (one line, at most
300 characters, never database text). Errors: 404 unknown incident, 409 already resolved, a
failed start resolved without retry, or a retry that failed again (then with ``incident_id``,
``instance_id``, ``element_id`` and the new message), 422 a missing or too long ``note``.
"""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from engine.errors import NotFound
from engine.incidents import MAX_PER_PAGE, STATUSES, IncidentQuery
from engine.instances import NOTE_MAX

from ..auth import api_user, require_admin
from . import engine

blp = Blueprint("incidents", __name__, url_prefix="/api/v1/incidents",
                description="Incidents: failed engine steps (administrators only)")
MAX_ID = 2**31 - 1


@blp.before_request
def _admins_only():
    require_admin(api_user())


class ListArgs(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    process_key = fields.String(load_default=None, validate=validate.Length(min=1, max=255))
    instance_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class IncidentView(Schema):
    incident_id = fields.Integer()
    instance_id = fields.Integer()
    process_key = fields.String(allow_none=True)
    business_key = fields.String(allow_none=True)
    instance_status = fields.String(allow_none=True, metadata={"description": "active|error|completed|terminated"})
    element_id = fields.String(allow_none=True, metadata={"description": "the BPMN element that failed"})
    message = fields.String(metadata={"description": "what failed: one line, at most 300 characters"})
    command = fields.String(allow_none=True, metadata={"description": "the failed command: start, complete_task, "
                                                                      "fire_timers, catch_message"})
    status = fields.String(metadata={"description": "open|resolved"})
    resolution = fields.String(allow_none=True, metadata={"description": "retried|resolved (without retry)"})
    note = fields.String(allow_none=True, metadata={"description": "the administrator's note (resolved)"})
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)


class TaskRef(Schema):
    task_id = fields.String()
    name = fields.String(allow_none=True)
    status = fields.String()


class IncidentDetail(IncidentView):
    task = fields.Nested(TaskRef, allow_none=True, metadata={"description": "the task the command was completing"})


class IncidentList(Schema):
    items = fields.List(fields.Nested(IncidentView))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class ActionResult(Schema):
    instance_id = fields.Integer()
    status = fields.String(metadata={"description": "the instance's status after the action"})
    next_tasks = fields.List(fields.Dict())
    incident = fields.Nested(IncidentDetail)


class ResolveArgs(Schema):
    note = fields.String(required=True, validate=validate.Length(max=NOTE_MAX),
                         metadata={"description": "how the case was put right without a retry"})


def _checked(incident_id: int) -> int:
    if not 0 < incident_id <= MAX_ID:
        raise NotFound(f"incident {incident_id} not found")
    return incident_id


@blp.get("")
@blp.arguments(ListArgs, location="query")
@blp.response(200, IncidentList)
def list_incidents(args):
    """``{items, total, page, per_page}``, newest first; filters ``status`` (open|resolved),
    ``process_key``, ``instance_id``."""
    items, total = engine().incidents.list(IncidentQuery(**args))
    return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}


@blp.get("/<int:incident_id>")
@blp.response(200, IncidentDetail)
def get_incident(incident_id):
    """One incident, with the task its failed command was completing (if any)."""
    return engine().incidents.get(_checked(incident_id))


@blp.post("/<int:incident_id>/retry")
@blp.response(200, ActionResult)
def retry(incident_id):
    """Re-run the failed command as the calling administrator; on success the incident is
    resolved (``retried``) and the instance active again. 409 if it fails again."""
    eng = engine()
    result = eng.incidents.retry(_checked(incident_id), actor=api_user().username)
    return {**result.to_dict(), "incident": eng.incidents.get(incident_id)}


@blp.post("/<int:incident_id>/resolve")
@blp.arguments(ResolveArgs)
@blp.response(200, ActionResult)
def resolve(args, incident_id):
    """Resolve without a retry: ``{note}`` (required) says how the case was put right; the
    failed command is abandoned and the instance goes on from its state before it."""
    eng = engine()
    result = eng.incidents.resolve(_checked(incident_id), args["note"], actor=api_user().username)
    return {**result.to_dict(), "incident": eng.incidents.get(incident_id)}
