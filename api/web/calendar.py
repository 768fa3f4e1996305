"""``/calendar``: a school's month of school days (校历), and its own exceptions.

A day is a school day by ``ledger.school_calendar.school_calendar`` (DOMAIN-REFERENCE §6):
the statutory working days of chinesecalendar (holidays off, official make-up days on),
unless the school (or the town, for every school) set the day otherwise in
``school_calendar_day``. Years chinesecalendar does not know fall back to Monday-Friday;
the page says so (``BusinessCalendar.uses_fallback``).

Anyone signed in may look (a calendar holds no personal data). ``POST /calendar`` sets a
school's own day (``off``: no school; ``on``: school although a day off) or clears it;
only that school's principal or an administrator (``access.can_edit_calendar``). Each
change is written to ``AccessLog`` (``change``, ``calendar:<school>``) with the value before.
"""
from __future__ import annotations

import calendar as month_grid
import re
from datetime import date
from urllib.parse import urlencode

import chinese_calendar
from flask import Blueprint, flash, redirect, render_template, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ledger import access
from ledger.attendance_models import SchoolCalendarDay
from ledger.models import OrgUnit
from ledger.school_calendar import school_calendar, set_school_day

from ..auth import current_principal, login_required
from .common import engine, error_page

bp = Blueprint("calendar", __name__)

WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")
HOLIDAY_NAMES = {h.value: h.chinese for h in chinese_calendar.Holiday}
KINDS = {"off": "本校放假（不上课）", "on": "本校上课（补课或调课）", "clear": "清除本校设置，恢复法定安排"}
MAX_NOTE = 200
FIRST_YEAR, LAST_YEAR = 2000, 2100
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@bp.get("/calendar")
@login_required
def show():
    """The month grid of ``school`` (default: the caller's own) for ``month`` (YYYY-MM)."""
    schools = _schools()
    if not schools:
        return error_page(404, "还没有设置学校。", "没有学校")
    school = request.args.get("school", "")
    school = school if school in schools else _my_school(schools)
    month, error = _month(request.args.get("month"))
    return _render(schools, school, month or _today().replace(day=1), errors={"month": error} if error else {})


@bp.post("/calendar")
@login_required
def change():
    """Set or clear the school's own day; 403 for others, 422 with the errors beside the fields."""
    principal = current_principal()
    schools = _schools()
    school = request.form.get("school", "")
    if school not in schools:
        return error_page(404, "学校不存在。", "学校不存在")
    if not access.can_edit_calendar(principal, school):
        return error_page(403, "只有本校校长或系统管理员可以修改校历。", "无权修改校历")
    raw_day, kind = request.form.get("date", "").strip(), request.form.get("kind", "")
    note = request.form.get("note", "").strip()
    values, errors = {"date": raw_day, "kind": kind, "note": note}, {}
    day = _parse_day(raw_day)
    if day is None:
        errors["date"] = "请填写有效日期（年-月-日）" if raw_day else "请填写日期"
    elif not FIRST_YEAR <= day.year <= LAST_YEAR:
        errors["date"] = f"日期应在 {FIRST_YEAR} 至 {LAST_YEAR} 年之间"
    if kind not in KINDS:
        errors["kind"] = "请选择要做的设置"
    if len(note) > MAX_NOTE:
        errors["note"] = f"说明不能超过 {MAX_NOTE} 字"
    if errors:
        month = day.replace(day=1) if day and not errors.get("date") else _today().replace(day=1)
        return _render(schools, school, month, values=values, errors=errors, status=422)
    eng = engine()
    try:
        with eng.db.transaction() as session:
            before = set_school_day(session, school, day, None if kind == "clear" else kind == "on", note,
                                    actor=principal.username, now=eng.clock())
    except IntegrityError:   # the same day set at the same moment by someone else
        return _render(schools, school, day.replace(day=1), values=values, status=409,
                       errors={"": "该日期刚被他人同时修改，请刷新后重试。"})
    if kind == "clear":
        flash(f"已清除 {day.isoformat()} 的本校设置，恢复法定安排。" if before else
              f"{day.isoformat()} 没有本校设置，无需清除。", "success" if before else "info")
    else:
        flash(f"已将 {day.isoformat()} 设为{'上课日' if kind == 'on' else '放假'}。"
              "考勤和期限从现在起按新校历计算（已报送的考勤不变）。", "success")
    return redirect("/calendar?" + urlencode({"school": school, "month": day.strftime("%Y-%m")}))


# ------------------------------------------------------------------ helpers

def _render(schools: dict, school: str, month: date, *, values=None, errors=None, status=200):
    principal = current_principal()
    eng = engine()
    last = date(month.year, month.month, month_grid.monthrange(month.year, month.month)[1])
    with eng.db.read() as session:
        calendar = school_calendar(session, eng.zone)
        chain = _chain(session, school)
        rows = session.scalars(select(SchoolCalendarDay).where(
            SchoolCalendarDay.org_unit_code.in_(chain), SchoolCalendarDay.date.between(month, last)))
        own: dict[date, SchoolCalendarDay] = {}
        for row in sorted(rows, key=lambda r: chain.index(r.org_unit_code), reverse=True):
            own[row.date] = row     # the nearest unit's row (the school's own) is written last, and wins
        weeks = [[_cell(calendar, school, day, own.get(day), month) if day.month == month.month else None
                  for day in week] for week in month_grid.Calendar().monthdatescalendar(month.year, month.month)]
    prev_month = (month.replace(day=1) - month.resolution).replace(day=1)
    next_month = last + last.resolution
    return render_template(
        "calendar.html", schools=schools, school=school, month=month, weeks=weeks, weekdays=WEEKDAYS,
        fallback=calendar.uses_fallback(month.year), can_edit=access.can_edit_calendar(principal, school),
        kinds=KINDS, values=values or {}, errors=errors or {},
        own_days=[cell for week in weeks for cell in week if cell and cell["own"] is not None],
        prev_url=_url(school, prev_month) if prev_month.year >= FIRST_YEAR else None,
        next_url=_url(school, next_month) if next_month.year <= LAST_YEAR else None), status


def _cell(calendar, school: str, day: date, row, month: date) -> dict:
    """One day: is it a school day, and why (statutory holiday, make-up day, the school's own)."""
    school_day = calendar.is_business_day(day, "school", school)
    why = _statutory(calendar, day)
    if row is not None:
        who = "本校" if row.org_unit_code == school else "全镇"
        why = f"{who}{'上课' if row.is_school_day else '放假'}" + (f"：{row.note}" if row.note else "")
    return {"date": day, "school_day": school_day, "why": why,
            "own": (row.is_school_day if row is not None and row.org_unit_code == school else None)}


def _statutory(calendar, day: date) -> str:
    """The statutory reason a day is off, or a weekend day is on ("" for an ordinary day)."""
    if calendar.uses_fallback(day.year):
        return "周末" if day.weekday() >= 5 else ""
    is_holiday, name = chinese_calendar.get_holiday_detail(day)
    label = HOLIDAY_NAMES.get(name, "")
    if is_holiday:
        return label or ("周末" if day.weekday() >= 5 else "法定节假日")
    if day.weekday() >= 5:
        return f"调休上课（{label}）" if label else "调休上课"
    return ""


def _chain(session, school: str) -> list[str]:
    """The school and its ancestors, nearest first (the town's closures apply to every school)."""
    parents = dict(session.execute(select(OrgUnit.code, OrgUnit.parent_code)).all())
    chain, unit = [], school
    while unit is not None and unit not in chain:
        chain.append(unit)
        unit = parents.get(unit)
    return chain


def _schools() -> dict[str, str]:
    with engine().db.read() as session:
        return dict(session.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.kind == "school")
                                    .order_by(OrgUnit.sort, OrgUnit.code)).all())


def _my_school(schools: dict) -> str:
    """The caller's own school if they hold a role in one (or a class of one), else the first."""
    principal = current_principal()
    with engine().db.read() as session:
        for assignment in principal.assignments:
            for unit in _chain(session, assignment.org_unit):
                if unit in schools:
                    return unit
    return next(iter(schools))


def _month(raw) -> tuple[date | None, str | None]:
    raw = (raw or "").strip()
    if not raw:
        return None, None
    match = _MONTH.fullmatch(raw)
    if match and FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR and 1 <= int(match.group(2)) <= 12:
        return date(int(match.group(1)), int(match.group(2)), 1), None
    return None, f"月份格式应为 年-月（{FIRST_YEAR}–{LAST_YEAR} 年），例如 2025-10；已显示本月"


def _parse_day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if _DATE.fullmatch(raw) else None
    except ValueError:
        return None


def _today() -> date:
    eng = engine()
    return eng.clock().astimezone(eng.zone).date()


def _url(school: str, month: date) -> str:
    return "/calendar?" + urlencode({"school": school, "month": month.strftime("%Y-%m")})
