"""``/children`` and ``/children/<id>``: the register of children, as each role may see it.

Scope is ``ledger.access.child_scope`` (a head teacher their classes, a school its pupils,
a village its residents, the town everyone); a child outside it is a 404, the same as a
child that does not exist. Names and ID numbers are masked (``ledger.privacy``); every list
and detail view is written to ``AccessLog`` (DOMAIN.md "Personal data": sensitive data of
minors, log who saw what).

``POST /children/<id>/tendency`` flags a dropout tendency (标记辍学倾向, DOMAIN.md
"Three-tier persuasion": the school's first persuasion starts on a tendency as on a first
unexcused day) through ``EngineCaseSink.tendency``; who may is ``access.can_flag_tendency``.

``POST /children/<id>/register`` changes the child's register fields with a required reason
(``ledger.register.change_child``; who may which fields: ``access.register_fields_for``); the
page shows every field masked and the change history (who, when, field, old → new, why).
"""
from __future__ import annotations

from datetime import date
from flask import Blueprint, flash, redirect, render_template, request
from sqlalchemy import func, select

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.persistence.models import ProcessInstance
from engine.tasks import TaskQuery
from ledger import access, ht_documents
from ledger.absence_runs import absence_runs
from ledger.attendance_cases import OPEN_STATUSES, PROCESS_KEY, EngineCaseSink, business_key
from ledger.attendance_models import AttendanceRecord
from ledger.child_cases import closed_cases
from ledger.case_outcomes import CASE_EVENTS, outcome_label, status_label
from ledger.home_teaching import child_section as home_teaching_section
from ledger.home_teaching import refer as home_teaching_refer
from ledger.home_teaching import referable
from ledger.child_status import history
from ledger.directory import role_name, unit_names
from ledger.models import Child
from ledger.privacy import mask_id, mask_name
from ledger.register import change_child, display_groups, history_view
from ledger.register_fields import FIELDS
from ledger.reveal import REVEALABLE, can_reveal, reveal_child
from ledger.school_calendar import school_calendar

from ..auth import current_principal, login_required
from ..casehistory import system_actor
from .attendance import STATUS_NAMES
from .common import display_names, engine, error_page, page_number, page_url

bp = Blueprint("children", __name__)

PER_PAGE = 50
RECENT_DAYS = 20
MAX_REASON = 200
NOT_VISIBLE = "学生不存在，或您无权查看该学生。"
NO_REGISTER = "您的岗位不能查看儿童名册（司法所、残联、民政只查看转交给本单位的案件）。"


@bp.get("/children")
@login_required
def index():
    """The children in the caller's scope, masked, 50 a page; ``class`` narrows to one class."""
    principal = current_principal()
    eng = engine()
    with eng.db.read() as session:
        scope = access.child_scope(session, principal)
    if scope.empty:
        return error_page(403, NO_REGISTER, "无权查看")
    with eng.db.read() as session:
        visible = select(Child).where(scope.condition())
        # A class is named with its school: class names repeat across schools (issue 17).
        class_schools = dict(session.execute(select(Child.class_code, Child.school_code).where(
            scope.condition(), Child.class_code.is_not(None)).distinct()).all())
        class_codes = set(class_schools)
        names = unit_names(session, class_codes | set(class_schools.values()))
        klass = request.args.get("class", "")
        klass = klass if klass in class_codes else ""
        if klass:
            visible = visible.where(Child.class_code == klass)
        total = session.scalar(select(func.count()).select_from(visible.subquery()))
        pages = max(1, -(-total // PER_PAGE))
        page = min(page_number(request.args.get("page")), pages)
        children = list(session.scalars(visible.order_by(Child.school_code, Child.class_code, Child.id)
                                        .offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
        names |= unit_names(session, {code for c in children for code in (c.school_code, c.village_code)})
        cases = _open_cases(session, [c.id for c in children])
    _log(principal, "children", {"class": klass or None, "page": page, "children": [c.id for c in children]})
    today = _today()
    rows = [_summary(c, names, today) | {"case": cases.get(c.id)} for c in children]
    filters = {"class": klass} if klass else {}
    return render_template(
        "children.html", rows=rows, total=total, page=page, pages=pages, klass=klass,
        class_choices=sorted(((code, " ".join(filter(None, [names.get(class_schools[code]), names.get(code, code)])))
                              for code in class_codes), key=lambda item: item[0]),
        prev_url=page_url("/children", filters, page - 1) if page > 1 else None,
        next_url=page_url("/children", filters, page + 1) if page < pages else None)


@bp.get("/children/<int:child_id>")
@login_required
def detail(child_id):
    """One child, masked: recent attendance, the current unexcused run, the open case and the
    closed ones (links to /instances/<id>, outcome, dates)."""
    return _render(child_id, log=True)


@bp.post("/children/<int:child_id>/tendency")
@login_required
def flag_tendency(child_id):
    """Start the child's persuasion case for a dropout tendency, with a required reason."""
    principal = current_principal()
    eng = engine()
    child = _visible_child(eng, principal, child_id)
    if child is None:
        return error_page(404, NOT_VISIBLE, "学生不存在")
    if not access.can_flag_tendency(principal, child):
        return error_page(403, "只有该生的班主任、所在学校校长或控辍保学专班可以标记辍学倾向。", "无权标记")
    reason = request.form.get("reason", "").strip()
    if not reason:
        return _render(child_id, reason=reason, errors={"reason": "请填写发现的辍学倾向（原因）"}, status=422)
    if len(reason) > MAX_REASON:
        return _render(child_id, reason=reason, errors={"reason": f"原因不能超过 {MAX_REASON} 字"}, status=422)
    try:
        event = EngineCaseSink(eng, actor=principal.username).tendency(child_id, reason=reason)
    except (Conflict, NotFound) as exc:
        return _render(child_id, reason=reason, notice=exc.message.split(" (")[0], status=exc.status)
    _log(principal, f"child:{child_id}", {"tendency": True, "instance_id": event.detail["instance_id"]},
         action="change")
    flash(f"已标记辍学倾向，已发起劝返案件（编号 {event.detail['instance_id']}），班主任将在待办中收到任务。", "success")
    return redirect(f"/children/{child_id}")


@bp.post("/children/<int:child_id>/home-teaching-referral")
@login_required
def refer_home_teaching(child_id):
    """Refer the child to home teaching (送教上门, issue 11; ``ledger.home_teaching.refer``):
    starts the child's home-teaching case or reaches the open one. 404 outside the scope,
    403 unless ``access.can_refer_home_teaching``."""
    principal = current_principal()
    eng = engine()
    child = _visible_child(eng, principal, child_id)
    if child is None:
        return error_page(404, NOT_VISIBLE, "学生不存在")
    if not access.can_refer_home_teaching(principal, child):
        return error_page(403, "只有该生的班主任、校长、村（社区）书记或控辍保学专班可以转介送教上门。", "无权转介")
    try:
        result = home_teaching_refer(eng, principal, child)
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(f"/children/{child_id}")
    _log(principal, f"child:{child_id}", {"home_teaching_referral": True, "message_id": result["message_id"]},
         action="change")
    if result["started"] or result["reached"]:
        flash("已转介送教上门，班主任和镇残联将在待办中收到评估任务。" if result["started"]
              else "该生已有送教上门案件，转介已记入该案件。", "success")
    else:
        flash("转介未能送达，请稍后重试或联系管理员。", "error")
    return redirect(f"/children/{child_id}")


@bp.post("/children/<int:child_id>/register")
@login_required
def change_register(child_id):
    """Change the child's register fields: a text or date left empty, or a choice left at
    “不变”, is not changed; the special-group and risk-factor boxes are sent whole. 422 with
    each field's reason (nothing stored), 403 for a person who may change none, 404 outside
    the scope. Logged ``change`` with the fields and reason."""
    principal = current_principal()
    eng = engine()
    child = _visible_child(eng, principal, child_id)
    if child is None:
        return error_page(404, NOT_VISIBLE, "学生不存在")
    allowed = access.register_fields_for(principal, child)
    if not allowed:
        return error_page(403, "只有该生所在学校的学籍管理员、校长或所在村（社区）书记可以修改登记信息。", "无权修改")
    changes = {}
    for name in sorted(allowed, key=list(FIELDS).index):
        if FIELDS[name].kind == "flags":
            if name in request.form.getlist("flags_shown"):
                changes[name] = request.form.getlist(name)
        elif request.form.get(name, "").strip():
            changes[name] = request.form[name]
    reason = request.form.get("change_reason", "")
    submitted = {"values": request.form.to_dict(), "reason": reason}
    try:
        with eng.db.transaction() as session:
            rows = change_child(session, child_id, changes, reason, principal.username, eng.clock(), allowed=allowed)
            access.log_access(session, principal.username, "change", f"child:{child_id}",
                              {"fields": [r.field for r in rows], "reason": reason.strip(), "via": "page"}, eng.clock())
    except InvalidInput as exc:
        # "reason" is the tendency form's field on the same page: this form's is change_reason.
        errors = {("change_reason" if k == "reason" else k): v for k, v in (exc.errors or {}).items()}
        return _render(child_id, errors=errors, change_form=submitted, status=422)
    flash(f"已修改 {len(rows)} 项登记信息，变更已记入历史。" if rows else "所填内容与登记信息相同，未作修改。", "success")
    return redirect(f"/children/{child_id}#register")


@bp.post("/children/<int:child_id>/reveal")
@login_required
def reveal(child_id):
    """Show the child's full values (``fields``: 身份证号, 出生日期, 姓名) on this one answer,
    for a required reason that the access log keeps (``ledger.reveal``); 422 with the field's
    reason when it is missing, 403 for a role that may not, 404 outside the scope."""
    principal = current_principal()
    eng = engine()
    fields, reason = request.form.getlist("fields"), request.form.get("reveal_reason", "")
    try:
        with eng.db.transaction() as session:
            values = reveal_child(session, principal, child_id, fields, reason, eng.clock(), via="page")
    except InvalidInput as exc:
        errors = {"reveal_" + k: v for k, v in (exc.errors or {}).items()}
        return _render(child_id, reveal_form={"fields": fields, "reason": reason}, errors=errors, status=422)
    except Forbidden as exc:
        return error_page(403, exc.message, "无权查看完整信息")
    if values is None:
        return error_page(404, NOT_VISIBLE, "学生不存在")
    return _render(child_id, revealed={REVEALABLE[k]: v for k, v in values.items()})


# ------------------------------------------------------------------ helpers

def _visible_child(eng, principal, child_id: int) -> Child | None:
    """The child if it exists and is in the caller's scope; None either way otherwise
    (a child out of scope is "not found": its existence is not disclosed)."""
    with eng.db.read() as session:
        child = session.get(Child, child_id) if child_id <= 2**31 - 1 else None
        if child is None or not access.child_scope(session, principal).allows(child):
            return None
        return child


def _render(child_id: int, *, reason: str = "", errors=None, notice=None, status=200, log=False,
            revealed=None, reveal_form=None, change_form=None):
    principal = current_principal()
    eng = engine()
    child = _visible_child(eng, principal, child_id)
    if child is None:
        return error_page(404, NOT_VISIBLE, "学生不存在")
    with eng.db.read() as session:
        names = unit_names(session, {child.school_code, child.class_code, child.village_code})
        records = list(session.scalars(select(AttendanceRecord).where(AttendanceRecord.child_id == child_id)
                                       .order_by(AttendanceRecord.date.desc()).limit(RECENT_DAYS)))
        run = None
        if records and child.school_code:
            latest = records[0]
            calendar = school_calendar(session, eng.zone)
            run = (latest.date, absence_runs(session, calendar, child.school_code, latest.date, [child_id])[child_id])
        case_id = _open_cases(session, [child_id]).get(child_id)
        summary = _summary(child, names, _today())
        tasks = _case_tasks(session, principal, case_id) if case_id else []
        changes = _status_history(session, child_id)
        closed = closed_cases(session, principal, child_id, eng.zone)
        register = display_groups(child, names)
        register_history = _register_history(session, child_id)
    home = home_teaching_section(eng, child_id)
    if home:   # the printable plan and term records: for who may see the case (ledger.ht_documents)
        home["documents"] = ht_documents.may_see(eng, principal, home["id"])
    if log:
        _log(principal, f"child:{child_id}", {"fields": ["name", "id_number", "attendance", "case", "status_history",
                                                         "register", "history"] + (["home_teaching"] if home else [])})
    return render_template(
        "child.html", child=summary, records=[{"date": r.date, "status": STATUS_NAMES.get(r.status, r.status),
                                               "unexcused": r.status == "absent_unexcused", "reason": r.reason or ""}
                                              for r in records],
        run=run, case_id=case_id, tasks=tasks, changes=changes, closed=closed, can_flag=access.can_flag_tendency(principal, child),
        home=home, can_refer=access.can_refer_home_teaching(principal, child) and referable(child),
        reason=reason, errors=errors or {}, notice=notice, revealed=revealed,
        can_reveal=can_reveal(principal), revealable=REVEALABLE,
        reveal_form=reveal_form or {"fields": ["id_number"], "reason": ""},
        register=register, register_history=register_history, fields=FIELDS,
        editable=[name for name in FIELDS if name in access.register_fields_for(principal, child)],
        current_flags={name: (getattr(child, name) or "").split(",") for name in ("special_groups", "risk_factors")},
        change_form=change_form or {"values": {}, "reason": ""}), status


def _log(principal, subject: str, detail: dict, action: str = "view") -> None:
    """Write the access log in its own short transaction (never around a page render:
    the header reads the database too, and SQLite allows one writer)."""
    eng = engine()
    with eng.db.transaction() as session:
        access.log_access(session, principal.username, action, subject, detail, eng.clock())


def _summary(child: Child, names: dict, today: date) -> dict:
    """What a page shows of a child: masked name and ID, age (not the birth date), units."""
    born = child.birth_date
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day)) if born else None
    return {"id": child.id, "name": mask_name(child.name), "id_number": mask_id(child.id_number),
            "gender": child.gender, "age": age, "school": names.get(child.school_code),
            "class": names.get(child.class_code), "village": names.get(child.village_code),
            "enrolment": status_label(child.enrolment_status)}


def _status_history(session, child_id: int) -> list[dict]:
    """The child's 就学状态 changes, newest first: when, who, old → new, which case and why
    (``ledger.child_status``; issue 10 §8)."""
    rows = history(session, child_id)
    people = display_names([r.actor for r in rows if not system_actor(r.actor)])
    return [{"at": r.at.astimezone(engine().zone).strftime("%Y-%m-%d %H:%M"),
             "who": system_actor(r.actor) or people.get(r.actor, r.actor),
             "change": f"{status_label(r.status_before)} → {status_label(r.status_after)}", "case_id": r.instance_id,
             "why": CASE_EVENTS.get(r.event, r.event) + (f"：{outcome_label(r.outcome)}" if r.outcome else "")}
            for r in reversed(rows)]


def _register_history(session, child_id: int) -> list[dict]:
    """The register's change history for the page (``ledger.register.history_view``): local
    time, the person's name (系统 for a case's status event)."""
    rows = history_view(session, child_id)
    people = display_names([r["actor"] for r in rows if r["actor"] != "system"])
    return [r | {"at": r["at"].astimezone(engine().zone).strftime("%Y-%m-%d %H:%M"),
                 "who": "系统" if r["actor"] == "system" else people.get(r["actor"], r["actor"])} for r in rows]


def _open_cases(session, child_ids) -> dict[int, int]:
    """{child id: id of the open persuasion case} for the children that have one."""
    if not child_ids:
        return {}
    keys = {business_key(i): i for i in child_ids}
    rows = session.execute(select(ProcessInstance.business_key, ProcessInstance.id).where(
        ProcessInstance.process_key == PROCESS_KEY, ProcessInstance.business_key.in_(keys),
        ProcessInstance.status.in_(OPEN_STATUSES)).order_by(ProcessInstance.id)).all()
    found: dict[int, int] = {}
    for key, instance_id in rows:
        found.setdefault(keys[key], instance_id)
    return found


def _case_tasks(session, principal, instance_id: int) -> list[dict]:
    """The case's open tasks: what, whose (role and unit), and a link if the caller may open it."""
    rows, _ = engine().tasks.list(TaskQuery(status="open", instance_id=instance_id, per_page=20))
    units = unit_names(session, {r.org_unit for r in rows})
    return [{"id": r.id, "name": r.name or r.element_id, "who": f"{role_name(r.candidate_role)} {units.get(r.org_unit, '')}",
             "visible": access.can_view_task(session, principal, r)} for r in rows]


def _today() -> date:
    eng = engine()
    return eng.clock().astimezone(eng.zone).date()
