"""``POST /api/v1/children/{id}/reveal``: a child's full values, asked for with a reason
(issue 10 §7; docs/privacy.md "Revealing a full value")."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import fields as mf

from engine.errors import Forbidden, NotFound
from ledger import access, home_teaching
from ledger.models import Child
from ledger.reveal import reveal_child

from ..auth import api_user
from . import engine

blp = Blueprint("children", __name__, url_prefix="/api/v1/children", description="Children's register")


class RevealArgs(Schema):
    # Raw: ledger.reveal checks both and answers in Chinese per field (422).
    wanted = mf.Raw(data_key="fields", load_default=None)
    reason = mf.Raw(load_default=None)


@blp.post("/<int:child_id>/reveal")
@blp.arguments(RevealArgs)
def reveal(args, child_id):
    """``{"fields": ["id_number"|"birth_date"|"name", ...], "reason": "4–200 characters"}`` →
    ``{"child_id", "values": {field: full value}}``. The reason is required and written to
    the access log (action ``reveal``, detail ``{fields, reason, via: api}``). 422 with
    ``errors.fields`` / ``errors.reason`` (nothing logged); 404 for a child that does not exist
    or is outside the caller's scope; 403 for a role that may not reveal (``ledger.reveal``)."""
    principal = api_user()
    eng = engine()
    with eng.db.transaction() as session:
        values = reveal_child(session, principal, child_id, args["wanted"], args["reason"], eng.clock(), via="api")
    if values is None:
        raise NotFound(f"child {child_id} not found")
    return {"child_id": child_id, "values": values}


@blp.post("/<int:child_id>/home-teaching-referral")
def refer_home_teaching(child_id):
    """Refer a disabled child who cannot attend class to home teaching (送教上门, issue 11):
    starts the child's home-teaching case (processes/home_teaching.bpmn) or reaches the open
    one (one open case per child). → ``{message_id, status, reached: [case ids], started:
    [case ids], ...}``. 404 for a child that does not exist or is outside the caller's scope;
    403 unless the caller is the child's head teacher, principal, village secretary or the
    task force (``access.can_refer_home_teaching``). Logged in the access log (change)."""
    principal = api_user()
    eng = engine()
    with eng.db.read() as session:
        child = session.get(Child, child_id) if child_id <= 2**31 - 1 else None
        if child is None or not access.child_scope(session, principal).allows(child):
            raise NotFound(f"child {child_id} not found")
        session.expunge(child)
    if not access.can_refer_home_teaching(principal, child):
        raise Forbidden("只有该生的班主任、校长、村（社区）书记或控辍保学专班可以转介送教上门")
    result = home_teaching.refer(eng, principal, child)
    with eng.db.transaction() as session:
        access.log_access(session, principal.username, "change", f"child:{child_id}",
                          {"home_teaching_referral": True, "message_id": result["message_id"]}, eng.clock())
    return result
