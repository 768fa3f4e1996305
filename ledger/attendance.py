"""Daily attendance (每日报平安, DOMAIN.md "Monitoring rhythm"): check, store, count, hand off.

``record_day(engine, school_code, day, records, reported_by)`` with ``records`` =
``[{child_id: int, status: present|absent_excused|absent_unexcused, reason?: str}]``
(an upload may add ``name`` and ``class`` to cross-check the register) returns an
``AttendanceResult`` ``{recorded, changed, outcomes, cases_started, messages_sent,
case_errors}``; an outcome is ``{child_id, status, consecutive_unexcused, returned}``, the
count in school days (``ledger.absence_runs`` has the rule).

* Every row is checked before anything is stored (unknown child, not of this school, not
  in the reporter's classes, bad status, duplicate); so are the date (not in the future
  by the engine clock's local date; a school day of this school) and the school. Any
  problem raises InvalidInput (422) with ``errors`` {``records.<i>`` | ``date`` |
  ``school_code``: 中文}, and nothing is stored.
* The last report for a child and day wins. A row equal to the stored one changes
  nothing; only rows whose status is new or different count as ``changed``, get an
  outcome and may reach a case: re-sending a day never starts a second case or message.
* Outcomes go to a ``CaseSink`` after the records are committed (``ledger.attendance_cases``
  has the engine's): unexcused with a count ≥ 1 → ``absence``; present after an absence
  that included an unexcused day, or a correction of this day from unexcused to present
  → ``returned``. An excused day sends nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Collection, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.errors import Conflict, InvalidInput

from .absence_runs import absence_runs
from .attendance_cases import CaseEvent, CaseSink, EngineCaseSink, hand_off
from .attendance_models import PRESENT, STATUSES, UNEXCUSED, AttendanceRecord
from .directory import unit_names
from .access_log import log_access
from .models import Child, OrgUnit
from .school_calendar import DEFAULT_ZONE, school_calendar

__all__ = ["AttendanceResult", "CaseEvent", "CaseSink", "EngineCaseSink", "Outcome", "record_day"]
MAX_RECORDS = 3000        # a whole school's day in one request
MAX_REASON = 200


@dataclass(frozen=True)
class Outcome:
    child_id: int
    status: str
    consecutive_unexcused: int       # school days, ending at the reported day
    returned: bool
    first_absence: date | None = None
    corrected: bool = False          # this day was unexcused before this report

    def to_dict(self) -> dict:
        return {"child_id": self.child_id, "status": self.status,
                "consecutive_unexcused": self.consecutive_unexcused, "returned": self.returned}


@dataclass
class AttendanceResult:
    school_code: str
    day: date
    recorded: int
    changed: int
    outcomes: list[Outcome]
    cases_started: list[dict] = field(default_factory=list)   # [{child_id, instance_id}]
    messages_sent: list[dict] = field(default_factory=list)   # [{child_id, message, status, reached}]
    case_errors: list[dict] = field(default_factory=list)     # [{child_id, message}]

    def to_dict(self) -> dict:
        return {"recorded": self.recorded, "changed": self.changed,
                "outcomes": [o.to_dict() for o in self.outcomes], "cases_started": self.cases_started,
                "messages_sent": self.messages_sent, "case_errors": self.case_errors}


@dataclass(frozen=True)
class _Row:
    child_id: int
    status: str
    reason: str | None
    class_code: str | None


def record_day(target, school_code: str, day: date, records: Sequence[Mapping], reported_by: str, *,
               allowed_classes: Collection[str] | None = None, sink: CaseSink | None = None,
               today: date | None = None, row_keys: Sequence[str] | None = None,
               known_errors: Mapping[str, str] | None = None) -> AttendanceResult:
    """Check and store one school's day, then hand the changes to ``sink``.

    ``target``: the ProcessEngine (its own transaction; ``sink`` defaults to
    ``EngineCaseSink(engine, reported_by)``), or a Session (the caller's transaction:
    nothing is handed off; call ``ledger.attendance_cases.hand_off(result, sink)`` after
    the commit). ``allowed_classes``: a head teacher's classes (None = the whole school).
    ``row_keys``: error key of each row (default ``records.<i>``); ``known_errors``: problems
    the caller found already (an upload's unreadable rows), reported with these and
    blocking the store. ``today``: the local date that bounds ``day`` (default: the engine
    clock's date in its zone).
    """
    checks = (allowed_classes, row_keys, known_errors)
    if isinstance(target, Session):
        now = datetime.now(DEFAULT_ZONE)
        return _record(target, school_code, day, records, reported_by, checks, today or now.date(), DEFAULT_ZONE, now)
    now = target.clock()
    try:
        with target.db.transaction() as session:
            result = _record(session, school_code, day, records, reported_by, checks,
                             today or now.astimezone(target.zone).date(), target.zone, now)
    except IntegrityError:  # another report of the same children and day committed first
        raise Conflict("同一天的考勤正在由他人同时提交，请稍后重试 (concurrent report; retry)") from None
    hand_off(result, sink or EngineCaseSink(target, actor=reported_by))
    return result


def _record(session, school_code, day, records, reported_by, checks, today, zone, now):
    calendar = school_calendar(session, zone)
    rows = _validate(session, school_code, day, records, checks, today, calendar)
    existing = {r.child_id: r for r in session.scalars(select(AttendanceRecord).where(
        AttendanceRecord.date == day, AttendanceRecord.child_id.in_([row.child_id for row in rows])))}
    changed: dict[int, str | None] = {}      # child id -> the status it had before
    written: list[int] = []                  # changed, or only the reason / class corrected
    for row in rows:
        old = existing.get(row.child_id)
        if old is None:
            session.add(AttendanceRecord(child_id=row.child_id, date=day, school_code=school_code,
                                         class_code=row.class_code, status=row.status, reason=row.reason,
                                         reported_by=reported_by, reported_at=now))
            changed[row.child_id] = None
            written.append(row.child_id)
        elif (old.status, old.reason, old.school_code, old.class_code) != (
                row.status, row.reason, school_code, row.class_code):
            if old.status != row.status:
                changed[row.child_id] = old.status
            old.status, old.reason = row.status, row.reason
            old.school_code, old.class_code = school_code, row.class_code
            old.reported_by, old.reported_at = reported_by, now
            written.append(row.child_id)
    session.flush()
    runs = absence_runs(session, calendar, school_code, day, changed)
    by_id = {row.child_id: row for row in rows}
    outcomes = []
    for child_id in sorted(changed):
        status, run, corrected = by_id[child_id].status, runs[child_id], changed[child_id] == UNEXCUSED
        returned = status == PRESENT and (run.absent_before or corrected)
        outcomes.append(Outcome(child_id, status, run.count, returned, run.first_day, corrected))
    if written:
        # Attendance is a minor's personal record: say who changed which day (DOMAIN.md "Personal data").
        log_access(session, reported_by, "change", f"attendance:{school_code}",
                   {"date": day.isoformat(), "children": sorted(written)}, now)
    return AttendanceResult(school_code, day, len(rows), len(changed), outcomes)


def _validate(session, school_code, day, records, checks, today, calendar) -> list[_Row]:
    allowed_classes, row_keys, known_errors = checks
    school = session.get(OrgUnit, school_code)
    if school is None or school.kind != "school":
        raise InvalidInput("学校不存在", errors={"school_code": f"学校 {school_code} 不存在"})
    if not records or len(records) > MAX_RECORDS:
        raise InvalidInput("考勤记录数量不对", errors={"records": f"每次应报送 1 至 {MAX_RECORDS} 条记录"})
    errors: dict[str, str] = dict(known_errors or {})
    if day > today:
        errors["date"] = f"{day.isoformat()} 是未来的日期（今天是 {today.isoformat()}）"
    elif not calendar.is_business_day(day, "school", school_code):
        errors["date"] = f"{day.isoformat()} 不是该校的上课日（周末、法定节假日或学校放假）"
    ids = [r.get("child_id") for r in records if isinstance(r, Mapping) and _is_int(r.get("child_id"))]
    children = {c.id: c for c in session.scalars(select(Child).where(Child.id.in_(ids)))} if ids else {}
    class_names = unit_names(session, {c.class_code for c in children.values()})
    rows, seen = [], {}
    for index, raw in enumerate(records):
        key = row_keys[index] if row_keys else f"records.{index}"
        problems, row = _check_row(raw, children, class_names, school_code, allowed_classes)
        if row is not None and row.child_id in seen:
            problems.append(f"儿童 {row.child_id} 重复出现（另见 {seen[row.child_id]}）")
        if problems:
            errors[key] = "；".join(problems)
        elif row is not None:
            seen[row.child_id] = key
            rows.append(row)
    if errors:
        raise InvalidInput("考勤有误，未保存任何记录 (nothing was stored)", errors=errors)
    return rows


def _check_row(raw, children, class_names, school_code, allowed_classes) -> tuple[list[str], _Row | None]:
    if not isinstance(raw, Mapping):
        return ["每条记录应为 {child_id, status}"], None
    child_id, status, reason = raw.get("child_id"), raw.get("status"), raw.get("reason")
    if not _is_int(child_id):
        return ["学生ID 缺失或不是整数"], None
    problems = []
    if status not in STATUSES:
        problems.append(f"儿童 {child_id} 的状态 {status!r} 无效（应为 present、absent_excused 或 absent_unexcused）")
    if reason is not None and not isinstance(reason, str):
        problems.append("原因应为文字")
    elif reason and len(reason.strip()) > MAX_REASON:
        problems.append(f"原因不能超过 {MAX_REASON} 字")
    child = children.get(child_id)
    if child is None or child.school_code != school_code:
        # One message for both: a reporter must not learn which ids exist in other schools.
        problems.append(f"儿童 {child_id} 不存在或不在该校")
    elif allowed_classes is not None and child.class_code not in allowed_classes:
        problems.append(f"儿童 {child_id} 不在您任教的班级")
    else:
        # Cross-checks from an upload; the message never echoes the register's value.
        name, klass = _text(raw.get("name")), _text(raw.get("class"))
        if name and name != child.name:
            problems.append(f"儿童 {child_id} 的姓名与学籍不符")
        if klass and klass not in (child.class_code, class_names.get(child.class_code)):
            problems.append(f"儿童 {child_id} 的班级与学籍不符")
    if problems or child is None:
        return problems, None
    # A present day has no reason (a reason left over from an absence must not stay stored).
    reason = None if status == PRESENT else (reason or "").strip() or None
    return [], _Row(child_id, status, reason, child.class_code)


def _is_int(value) -> bool:
    # Ids are 32-bit in the database: a larger number is no child (and must not reach SQL).
    return isinstance(value, int) and not isinstance(value, bool) and -2**31 <= value < 2**31


def _text(value) -> str:
    return str(value).strip() if value is not None else ""
