"""The last consistency check (``baoxue check``, run daily by the worker), for administrators.

Admin only (401 without a token, 403 for anyone else). 404 while no check has run.
"""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from engine.errors import NotFound

from ..auth import api_user, require_admin
from . import engine

blp = Blueprint("check", __name__, url_prefix="/api/v1/check",
                description="Consistency check results (administrators only)")


@blp.before_request
def _admins_only():
    require_admin(api_user())


class FindingView(Schema):
    check = fields.String(metadata={"description": "what disagrees: workflow_state, human_task, timer_job, "
                                                  "message_subscription, uncorrelatable (a message catch "
                                                  "without a value for its correlation key), audit_chain, "
                                                  "incidents, or a domain check"})
    message = fields.String()
    instance_id = fields.Integer(allow_none=True)
    element_id = fields.String(allow_none=True)
    subject = fields.String(allow_none=True, metadata={"description": "what else it is about (a stream, a child)"})


class CheckView(Schema):
    at = fields.String(metadata={"description": "when the check ran (ISO 8601, UTC)"})
    ok = fields.Boolean()
    duration_ms = fields.Integer()
    findings = fields.List(fields.Nested(FindingView))


@blp.get("/last")
@blp.response(200, CheckView)
def last():
    """The most recent stored run: ``{at, ok, duration_ms, findings}``."""
    report = engine().consistency.last()
    if report is None:
        raise NotFound("no consistency check has run yet (baoxue check, or the worker daily)")
    return report.to_dict()
