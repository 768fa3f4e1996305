"""Deliver a message to waiting cases (or start one by a message start event)."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from engine.errors import Forbidden
from ledger import access
from ledger.child_status import apply_now

from ..auth import api_user
from . import engine

blp = Blueprint("messages", __name__, url_prefix="/api/v1/messages", description="BPMN messages")


class MessageArgs(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    correlation = fields.Dict(load_default=dict)
    payload = fields.Dict(load_default=dict)


@blp.post("")
@blp.arguments(MessageArgs)
def deliver(args):
    """``{message_id, status: delivered|unmatched|pending|incident, reached, started, failed,
    refused, waiting}``; task force and admins only. ``incident``: every case it reached failed
    on it (``failed`` names each incident, whose retry applies the message). ``pending``: some waiting instance cannot take it
    now (busy, or in error: ``waiting`` lists them); the worker delivers it later, nothing is
    dropped. ``refused``: a message start event would open a second case for the same
    business key (one open case per child). 422 (nothing stored) when ``correlation`` lacks a
    value for a correlation property of the message (``errors: {"correlation.child_id": ...}``)
    or ``payload`` lacks a key that the events catching it declare (their BPMN property
    ``requiredPayload``: ``errors: {"payload.date": ...}``). 403 (nothing stored) for a message
    sent from inside (``MessageService.internal_senders``): the attendance ledger's
    ``absence_day``, ``excused_day``, ``returned``, a case's ``case_event``, and any message a
    deployed process throws (``home_teaching_referral``); ``errors: {"name": who sends it}``."""
    principal = api_user()
    if not (principal.is_admin or any(principal.holds(r) for r in access.TOWN_SUPERVISORS)):
        raise Forbidden("只有专班或管理员可以发送消息 (task force or administrators only)")
    senders = engine().messages.internal_senders(args["name"])
    if senders:
        reason = f"系统内部消息，不能从外部发送 (reserved), 只由此发送 (sent only by): {'; '.join(senders)}"
        raise Forbidden(f"消息 {args['name']}: {reason}", errors={"name": reason})
    result = engine().messages.deliver(args["name"], args["correlation"], args["payload"],
                                       actor=principal.username)
    # A message may close a case (home_teaching_placed, issue 10 §2): its case_event moves the
    # child's status now, not at the worker's next sweep (as a completed task does).
    apply_now(engine())
    return result.to_dict()
