"""``/api/v1/children``: the child register (issue 15 "The child register"), scoped, masked
and logged exactly as the ``/children`` pages are.

* scope: ``ledger.access.child_scope`` (a head teacher their classes, a school its pupils, a
  village its residents, the town everyone; 司法所, 残联, 民政 and administrators no register:
  403 on the list); a child outside it is a 404, like one that does not exist;
* masking: ``ledger.register.record`` (``ledger.register_fields`` / ``ledger.privacy``);
  full values only through ``?reveal=`` or ``POST /reveal`` with a reason (``ledger.reveal``);
* every read is written to the access log (``view``; ``reveal``; ``change``), ``via: api``;
* changes: ``ledger.register.change_child`` (checks, history), who may change which field:
  ``ledger.access.register_fields_for``.

Errors are ``{code, message, errors?}`` (api/errors.py): 401 without a token, 403, 404, 422
with ``errors`` {field: Chinese reason}.
"""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, validate
from marshmallow import fields as mf
from sqlalchemy import func, literal, select

from engine.errors import Forbidden, NotFound
from engine.audit import utc_text
from ledger import access, home_teaching
from ledger.case_outcomes import STATUSES
from ledger.directory import unit_names
from ledger.models import Child
from ledger.register import change_child, history_view, record
from ledger.register_fields import RISK_LEVELS, SPECIAL_GROUPS
from ledger.reveal import reveal_child

from ..auth import api_user
from . import engine

blp = Blueprint("children", __name__, url_prefix="/api/v1/children", description="Children's register")

NO_REGISTER = "您的岗位不能查看儿童名册（司法所、残联、民政只查看转交给本单位的案件）"
ID_SHAPE = 18


class ListArgs(Schema):
    village = mf.String(load_default=None, validate=validate.Length(max=64))
    school = mf.String(load_default=None, validate=validate.Length(max=64))
    class_ = mf.String(data_key="class", load_default=None, validate=validate.Length(max=64))
    status = mf.String(load_default=None, validate=validate.OneOf(list(STATUSES)))
    group = mf.String(load_default=None, validate=validate.OneOf(list(SPECIAL_GROUPS)))
    risk = mf.String(load_default=None, validate=validate.OneOf(list(RISK_LEVELS)))
    q = mf.String(load_default=None, validate=validate.Length(min=1, max=64))
    page = mf.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = mf.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ChangeArgs(Schema):
    # Raw: ledger.register checks each field and answers in Chinese per field (422).
    changes = mf.Raw(load_default=None)
    reason = mf.Raw(load_default=None)


def _scope(session, principal):
    scope = access.child_scope(session, principal)
    if scope.empty:
        raise Forbidden(NO_REGISTER)
    return scope


def _visible(session, principal, child_id: int) -> Child:
    child = session.get(Child, child_id) if child_id <= 2**31 - 1 else None
    if child is None or not access.child_scope(session, principal).allows(child):
        raise NotFound(f"child {child_id} not found")
    return child


def _record(session, child: Child) -> dict:
    eng = engine()
    names = unit_names(session, {child.school_code, child.class_code, child.village_code})
    return record(child, names, eng.clock().astimezone(eng.zone).date())


@blp.get("")
@blp.arguments(ListArgs, location="query")
def list_children(args):
    """The children in the caller's scope, masked: ``{items: [record], total, page, per_page}``.

    Filters (each narrows, never widens the scope): ``village``, ``school``, ``class`` (org unit
    codes), ``status`` (就学状态 code, ``ledger.case_outcomes.STATUSES``), ``group`` (special
    group flag, ``ledger.register_fields.SPECIAL_GROUPS``), ``risk`` (none|low|medium|high),
    ``q`` (an 18-character ID number matches exactly, anything else a part of the name);
    ``page`` ≥ 1, ``per_page`` 1–200 (default 50). A record: ``ledger.register.record``.
    Errors: 403 for a role with no register; 422 for an unknown code or a bad number.
    Logged: ``view`` on ``children`` with the filters, the page and the children listed."""
    principal = api_user()
    eng = engine()
    with eng.db.transaction() as session:
        query = select(Child).where(_scope(session, principal).condition())
        for column, key in ((Child.village_code, "village"), (Child.school_code, "school"),
                            (Child.class_code, "class_"), (Child.enrolment_status, "status"),
                            (Child.risk_level, "risk")):
            if args[key] is not None:
                query = query.where(column == args[key])
        if args["group"]:
            query = query.where((literal(",") + Child.special_groups + literal(",")).like(f"%,{args['group']},%"))
        q = (args["q"] or "").strip()
        if q:
            # An ID number is searched whole only: a part of one would let anyone enumerate numbers.
            query = query.where(Child.id_number == q.upper() if len(q) == ID_SHAPE and q[:17].isdigit()
                                else Child.name.contains(q, autoescape=True))
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        children = list(session.scalars(query.order_by(Child.school_code, Child.class_code, Child.id)
                                        .offset((args["page"] - 1) * args["per_page"]).limit(args["per_page"])))
        names = unit_names(session, {c for child in children
                                     for c in (child.school_code, child.class_code, child.village_code)})
        today = eng.clock().astimezone(eng.zone).date()
        items = [record(child, names, today) for child in children]
        filters = {k.rstrip("_"): v for k, v in args.items() if v is not None and k not in ("page", "per_page")}
        access.log_access(session, principal.username, "view", "children",
                          {"filters": filters, "page": args["page"], "children": [c.id for c in children],
                           "via": "api"}, eng.clock())
    return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}


@blp.get("/<int:child_id>")
def get_child(child_id):
    """One child, masked (``ledger.register.record``): identity, guardians, household and
    addresses, village, school/class, ``status`` {code, label, group, out_of_school}, special
    groups, disability, risk, verification, ``updated_at``, and ``may_change`` (the fields the
    caller may PATCH). ``?reveal=id_number&reveal=name&reveal=birth_date&reason=...`` adds
    ``revealed`` {field: full value} for the roles that may (``ledger.reveal``: 422 for a
    missing reason or unknown field, 403 for a role that may not). 404 outside the scope.
    Logged: ``view`` on ``child:<id>``; a reveal also ``reveal`` with the fields and reason."""
    principal = api_user()
    eng = engine()
    wanted = request.args.getlist("reveal")
    with eng.db.transaction() as session:
        child = _visible(session, principal, child_id)
        out = _record(session, child) | {"may_change": sorted(access.register_fields_for(principal, child))}
        if wanted:
            out["revealed"] = reveal_child(session, principal, child_id, wanted, request.args.get("reason"),
                                           eng.clock(), via="api")
        access.log_access(session, principal.username, "view", f"child:{child_id}",
                          {"fields": ["register"], "via": "api"}, eng.clock())
    return out


@blp.patch("/<int:child_id>")
@blp.arguments(ChangeArgs)
def patch_child(args, child_id):
    """``{"changes": {field: value, ...}, "reason": "2–200 characters"}`` → the child's record
    after the change plus ``changed`` [fields that differed]. Fields and values:
    ``ledger.register_fields.FIELDS`` (dates ``YYYY-MM-DD``, flags a list of codes, null
    clears an optional field); checks: ``ledger.register.change_child`` (ID check digit, birth
    date and gender agreeing with the ID, known codes, real units, sane dates). Who may change
    which fields: ``ledger.access.register_fields_for``. Errors: 404 outside the scope; 403
    for a field the caller may not change (``errors`` names it); 422 ``errors``
    {"reason" | "changes" | "changes.<field>": Chinese reason} — nothing is stored then.
    Logged: ``change`` on ``child:<id>`` with the fields and the reason (not the values)."""
    principal = api_user()
    eng = engine()
    with eng.db.transaction() as session:
        child = _visible(session, principal, child_id)
        allowed = access.register_fields_for(principal, child)
        if not allowed:
            raise Forbidden("只有该生所在学校的学籍管理员、校长或所在村（社区）书记可以修改登记信息")
        rows = change_child(session, child_id, args["changes"], args["reason"], principal.username, eng.clock(),
                            allowed=allowed)
        access.log_access(session, principal.username, "change", f"child:{child_id}",
                          {"fields": [r.field for r in rows], "reason": args["reason"], "via": "api"}, eng.clock())
        out = _record(session, child) | {"changed": [r.field for r in rows]}
    return out


@blp.get("/<int:child_id>/history")
def child_history(child_id):
    """The child's changes, newest first: ``{items: [{at, actor, field, field_label, old, new,
    reason, instance_id}], total}``; ``old``/``new`` masked as the record shows the field
    (``ledger.register.history_view``); ``actor`` a username or ``system`` (a case's status
    event, ``instance_id`` the case). 404 outside the scope. Logged: ``view`` on ``child:<id>``."""
    principal = api_user()
    eng = engine()
    with eng.db.transaction() as session:
        _visible(session, principal, child_id)
        items = [r | {"at": utc_text(r["at"])} for r in history_view(session, child_id)]
        access.log_access(session, principal.username, "view", f"child:{child_id}",
                          {"fields": ["history"], "via": "api"}, eng.clock())
    return {"items": items, "total": len(items)}


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
