"""``/attendance``: a class's day of attendance (每日报平安, DOMAIN.md "Monitoring rhythm").

Who may report which class is ``ledger.access.reporting_classes`` (a head teacher their own
classes; a school's principal or registrar every class of it). Storing is
``ledger.attendance.record_day``, the one ingestion path; it hands changes to the
children's persuasion cases through the attendance outbox (``ledger.case_handoff``,
DOMAIN.md "Three-tier persuasion"). ``POST /attendance/upload`` takes a school's day as an .xlsx file
(``ledger.attendance_excel.record_upload``), for principals and registrars.

Query parameters of the page: ``class`` (one of the caller's classes, else the first) and
``date`` (YYYY-MM-DD, default today by the engine clock). A rejected POST stores nothing
(422 with each message beside its row or field; another class is a 403 page).
"""
from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, render_template, request
from sqlalchemy import select

from engine.errors import Conflict, InvalidInput
from engine.tasks import TaskQuery
from ledger import access
from ledger.attendance import MAX_RECORDS, record_day
from ledger.message_names import message_label
from ledger.attendance_excel import MAX_BYTES, TooLarge, record_upload
from ledger.attendance_models import EXCUSED, PRESENT, UNEXCUSED, AttendanceRecord
from ledger.directory import unit_names
from ledger.case_outcomes import expected_at_school, status_label
from ledger.models import Child
from ledger.school_calendar import school_calendar

from ..auth import current_principal, login_required
from .common import display_names, engine, error_page

bp = Blueprint("attendance", __name__)

STATUS_CHOICES = ((PRESENT, "到校"), (EXCUSED, "请假"), (UNEXCUSED, "无故缺课"))
STATUS_NAMES = dict(STATUS_CHOICES)
NOT_REPORTER = "只有班主任（本班）、校长或学籍管理员（本校）可以报送考勤。"
NOT_YOUR_CLASS = "您不能报送该班级的考勤，本次提交未保存任何记录。"
_STATUS_FIELD = re.compile(r"status-(\d{1,9})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
EARLIEST = date(2000, 1, 1)   # absence runs look back a year; older dates are typing mistakes


@bp.get("/attendance")
@login_required
def show():
    """The class's day: each child by full name, the stored status pre-selected (else present).

    Names are not masked here, unlike every list elsewhere: only those who report this class
    (its head teacher, the school's principal or registrar) see the page, they know the
    pupils, and two pupils masked alike (王*, 王*) cannot be told apart, so marking the wrong
    one would start a case against the wrong family. Each view is access-logged."""
    principal = current_principal()
    classes = _classes(principal)
    if not classes:
        return error_page(403, NOT_REPORTER, "无权报送考勤")
    klass = request.args.get("class", "")
    klass = klass if klass in classes else next(iter(classes))
    day, errors = _day(request.args.get("date"), default_today=True)
    return _render(principal, classes, klass, day or _today(), errors=errors, log=True)


@bp.post("/attendance")
@login_required
def submit():
    """Store the posted statuses with ``record_day``; show what it did, or the errors."""
    principal = current_principal()
    classes = _classes(principal)
    klass = request.form.get("class", "")
    if klass not in classes:
        return error_page(403, NOT_YOUR_CLASS if classes else NOT_REPORTER, "无权报送考勤")
    day, errors = _day(request.form.get("date"))
    records, values = [], {}
    for key in request.form:
        match = _STATUS_FIELD.fullmatch(key)
        if match and len(records) < MAX_RECORDS + 1:
            child_id = int(match.group(1))
            reason = request.form.get(f"reason-{child_id}", "").strip()
            records.append({"child_id": child_id, "status": request.form[key], **({"reason": reason} if reason else {})})
            values[child_id] = (request.form[key], reason)
    if not records:
        errors[""] = "没有要报送的学生。"
    if errors:
        return _render(principal, classes, klass, day or _today(), values=values, errors=errors, status=422)
    eng = engine()
    school = classes[klass]
    with eng.db.read() as session:
        allowed = access.attendance_classes(session, principal, school)
    try:
        result = record_day(eng, school, day, records, principal.username, allowed_classes=allowed)
    except InvalidInput as exc:
        return _render(principal, classes, klass, day, values=values, status=422,
                       errors=_row_errors(exc.errors, records))
    except Conflict as exc:
        return _render(principal, classes, klass, day, values=values, errors={"": exc.message}, status=409)
    return _render(principal, classes, klass, day, result=_describe(principal, result))


@bp.post("/attendance/upload")
@login_required
def upload():
    """A school's day from an .xlsx file; the file's rows are checked all at once."""
    principal = current_principal()
    classes = _classes(principal)
    schools = _upload_schools(principal, classes)
    school = request.form.get("school", "")
    if school not in schools:
        return error_page(403, "只有本校校长或学籍管理员可以上传全校考勤。", "无权上传")
    klass = next(c for c, s in classes.items() if s == school)
    day, errors = _day(request.form.get("date"))
    file = request.files.get("file")
    if file is None or not file.filename:
        errors["file"] = "请选择要上传的 .xlsx 文件"
    if errors:
        return _render(principal, classes, klass, day or _today(), upload_errors=errors, status=422)
    eng = engine()
    with eng.db.read() as session:
        allowed = access.attendance_classes(session, principal, school)   # None: the whole school
    data = file.stream.read(MAX_BYTES + 1)   # no more than needed to know it is too big
    try:
        result = record_upload(eng, school, day, data, file.filename, principal.username, allowed_classes=allowed)
    except (InvalidInput, Conflict, TooLarge) as exc:
        errs = exc.errors if isinstance(exc.errors, dict) and exc.errors and not isinstance(exc, TooLarge) \
            else {"file": exc.message}
        return _render(principal, classes, klass, day, upload_errors=errs, status=exc.status)
    return _render(principal, classes, klass, day, result=_describe(principal, result), uploaded=True)


# ------------------------------------------------------------------ helpers

def _classes(principal) -> dict[str, str]:
    """{class code: school code}, in the directory's order of the class codes."""
    with engine().db.read() as session:
        found = access.reporting_classes(session, principal)
    return dict(sorted(found.items()))


def _upload_schools(principal, classes: dict) -> list[str]:
    """Schools whose whole day this person may report (principal or registrar)."""
    return sorted({s for s in classes.values() if principal.holds("principal", s) or principal.holds("registrar", s)})


def _today() -> date:
    eng = engine()
    return eng.clock().astimezone(eng.zone).date()


def _day(raw, *, default_today: bool = False) -> tuple[date | None, dict]:
    """(the date, {}) or (None, {"date": 中文}); future dates are record_day's to refuse."""
    raw = (raw or "").strip()
    if not raw:
        return (_today(), {}) if default_today else (None, {"date": "请填写日期"})
    try:
        day = date.fromisoformat(raw) if _DATE.fullmatch(raw) else None
    except ValueError:
        day = None
    if day is None:
        return None, {"date": "日期格式应为 年-月-日，例如 2025-03-07"}
    if day < EARLIEST:
        return None, {"date": f"日期不能早于 {EARLIEST.isoformat()}"}
    return day, {}


def _row_errors(errors, records: list[dict]) -> dict:
    """record_day's {records.<i> | date | …: 中文} as {child id | "date" | "": 中文}."""
    mapped: dict = {}
    for key, message in (errors or {}).items() if isinstance(errors, dict) else []:
        key = str(key)
        if key.startswith("records.") and key[8:].isdigit() and int(key[8:]) < len(records):
            mapped[records[int(key[8:])]["child_id"]] = message
        elif key == "date":
            mapped["date"] = message
        else:
            mapped[""] = f"{mapped[''] }；{message}" if "" in mapped else message
    return mapped


def _describe(principal, result) -> dict:
    """The result for the page: counts, and each started case / message / error with the
    child's name and, for a case, the open task the caller may open."""
    eng = engine()
    ids = {item["child_id"] for group in (result.cases_started, result.messages_sent, result.case_errors,
                                          result.pending) for item in group}
    with eng.db.read() as session:
        names = {c.id: c.name for c in session.scalars(select(Child).where(Child.id.in_(ids)))} if ids else {}
        started = []
        for item in result.cases_started:
            rows, _ = eng.tasks.list(TaskQuery(status="open", instance_id=item["instance_id"], per_page=10))
            task = next((row for row in rows if access.can_view_task(session, principal, row)), None)
            started.append({**item, "name": names.get(item["child_id"], ""), "task_id": task.id if task else None,
                            "task_name": (task.name or task.element_id) if task else None})
    return {"recorded": result.recorded, "changed": result.changed, "cases_started": started,
            "messages_sent": [{**m, "name": names.get(m["child_id"], ""),
                               "label": message_label(m["message"])} for m in result.messages_sent],
            "case_errors": [{**e, "name": names.get(e["child_id"], "")} for e in result.case_errors],
            "pending": [{**p, "name": names.get(p["child_id"], "")} for p in result.pending]}


def _render(principal, classes, klass, day, *, values=None, errors=None, result=None, upload_errors=None,
            uploaded=False, status=200, log=False):
    eng = engine()
    school = classes[klass]
    with eng.db.read() as session:
        in_class = list(session.scalars(select(Child).where(Child.class_code == klass).order_by(Child.id)))
        # Children the register says are not expected in class (转出, 休学, 死亡 ...) are not
        # offered for marking; the page lists them with their status so the roll's gap is explained.
        children = [c for c in in_class if expected_at_school(c.enrolment_status)]
        off_roll = [{"id": c.id, "name": c.name, "status": status_label(c.enrolment_status)}
                    for c in in_class if not expected_at_school(c.enrolment_status)]
        stored = {r.child_id: r for r in session.scalars(select(AttendanceRecord).where(
            AttendanceRecord.date == day, AttendanceRecord.child_id.in_([c.id for c in children])))} if children else {}
        names = unit_names(session, set(classes) | set(classes.values()))
        school_day = school_calendar(session, eng.zone).is_business_day(day, "school", school)
    if log:   # a class register of minors was shown (DOMAIN.md "Personal data")
        with eng.db.transaction() as session:
            access.log_access(session, principal.username, "view", f"attendance:{klass}",
                              {"date": day.isoformat(), "children": len(children)}, eng.clock())
    values = values or {}
    rows = []
    for child in children:
        record = stored.get(child.id)
        status_value, reason = values.get(child.id) or ((record.status, record.reason or "") if record else (PRESENT, ""))
        rows.append({"id": child.id, "name": child.name, "status": status_value, "reason": reason,
                     "stored": STATUS_NAMES.get(record.status) if record else None,
                     "error": (errors or {}).get(child.id)})
    reporters = display_names(r.reported_by for r in stored.values())
    last = max(stored.values(), key=lambda r: r.reported_at, default=None)
    body = render_template(
        "attendance.html", rows=rows, off_roll=off_roll, klass=klass, day=day, school=school, names=names, errors=errors or {},
        class_choices=[(code, f"{names.get(s, s)} {names.get(code, code)}") for code, s in classes.items()],
        statuses=STATUS_CHOICES, result=result, uploaded=uploaded, school_day=school_day, today=_today(),
        reported=len(stored), last=last, last_by=reporters.get(last.reported_by, last.reported_by) if last else None,
        upload_schools=[(s, names.get(s, s)) for s in _upload_schools(principal, classes)],
        upload_errors=upload_errors or {}, stray={k: v for k, v in (errors or {}).items()
                                                  if isinstance(k, int) and k not in {c.id for c in children}})
    return body, status
