"""Daily attendance (每日报平安, DOMAIN.md "Monitoring rhythm"): check, store, count, hand off.

``record_day(engine, school_code, day, records, reported_by)`` with ``records`` =
``[{child_id: int, status: present|absent_excused|absent_unexcused, reason?: str}]``
(an upload may add ``name`` and ``class`` to cross-check the register) returns an
``AttendanceResult`` ``{recorded, changed, outcomes, cases_started, messages_sent,
case_errors}``; an outcome is ``{child_id, status, consecutive_unexcused, returned}``, the
count in school days (``ledger.absence_runs`` has the rule).

* Every row is checked before anything is stored (unknown child, not of this school, not
  in the reporter's classes, bad status, duplicate, a child whose 就学状态 says they are not
  expected in class: ``ledger.case_outcomes.NOT_EXPECTED_AT_SCHOOL``); so are the date (not in the future
  by the engine clock's local date; a school day of this school) and the school. Any
  problem raises InvalidInput (422) with ``errors`` {``records.<i>`` | ``date`` |
  ``school_code``: 中文}, and nothing is stored.
* The last report for a child and day wins. A row equal to the stored one changes
  nothing; only rows whose status is new or different count as ``changed``, get an
  outcome and may reach a case: re-sending a day never starts a second case or message.
* The events for the children's persuasion cases are written in the same transaction as
  the records (an outbox, ``ledger.case_handoff``) and applied after the commit, exactly
  once: unexcused with a count ≥ 1 → ``absence``; present after an absence that included
  an unexcused day, or a correction of this day from unexcused to present, or present
  while the child's case waits for the return → ``returned``. An excused day of a child with
  an open case → ``excused`` (the case pauses its thresholds, issue 10 §2); otherwise nothing.
* A correction of a past day re-counts the child's latest reported day and hands on that
  count (a case must not keep a run the correction broke or lengthened).
* Re-sending a day repairs: an unexcused child whose latest day this is, with no open
  case, no event pending and no case closed since, gets its ``absence`` again.
* Intermittent absence (issue 10 §4, a local setting: ``ledger.local_rules``): every
  ``absence`` carries ``recent``, the unexcused school days within the last window (default
  5 within 20 opens a case as a dropout tendency or moves an open one to the home visit).
  While ``recent`` is at the threshold, a present day after a short run (fewer than the
  plan's 3 days of the home visit) is not a ``returned``: the pattern goes on (a present day
  after a longer run is a real return). The present day on which ``recent`` falls below the
  threshold is the return, for a case that waits for one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Collection, Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.errors import Conflict, InvalidInput

from . import case_handoff
from .absence_runs import absence_runs, recent_unexcused
from .attendance_cases import EngineCaseSink
from .attendance_models import EXCUSED, PRESENT, STATUSES, UNEXCUSED, AttendanceRecord
from .case_handoff import ABSENCE, EXCUSED_DAY, RETURNED, CaseEvent
from .case_outcomes import expected_at_school, status_label
from .child_status import apply_now
from .directory import unit_names
from .local_rules import local_rules
from .access_log import log_access
from .models import Child, OrgUnit
from .school_calendar import DEFAULT_ZONE, school_calendar

__all__ = ["AttendanceResult", "CaseEvent", "EngineCaseSink", "Outcome", "record_day", "apply_handoffs"]
MAX_RECORDS = 3000        # a whole school's day in one request
MAX_REASON = 200
HOME_VISIT_DAYS = 3       # DOMAIN.md: 3 days absent → home visit (a run that long is no "intermittent" absence)


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
    handoff_ids: list[int] = field(default_factory=list)     # the outbox rows this report wrote
    cases_started: list[dict] = field(default_factory=list)   # [{child_id, instance_id}]
    messages_sent: list[dict] = field(default_factory=list)   # [{child_id, message, status, reached}]
    case_errors: list[dict] = field(default_factory=list)     # [{child_id, message}]: the case failed on it
    pending: list[dict] = field(default_factory=list)         # [{child_id, message}]: applied later, by the worker

    def to_dict(self) -> dict:
        return {"recorded": self.recorded, "changed": self.changed,
                "outcomes": [o.to_dict() for o in self.outcomes], "cases_started": self.cases_started,
                "messages_sent": self.messages_sent, "case_errors": self.case_errors, "pending": self.pending}


@dataclass(frozen=True)
class _Row:
    child_id: int
    status: str
    reason: str | None
    class_code: str | None


def record_day(target, school_code: str, day: date, records: Sequence[Mapping], reported_by: str, *,
               allowed_classes: Collection[str] | None = None, today: date | None = None,
               row_keys: Sequence[str] | None = None,
               known_errors: Mapping[str, str] | None = None) -> AttendanceResult:
    """Check and store one school's day with the events it hands to persuasion cases, then
    apply those events.

    ``target``: the ProcessEngine (its own transaction; the events are applied after the
    commit and the result says what they did), or a Session (the caller's transaction: the
    events are stored with the records; call ``apply_handoffs(engine, result)`` after the
    commit, or leave them to the worker). ``allowed_classes``: a head teacher's classes
    (None = the whole school). ``row_keys``: error key of each row (default
    ``records.<i>``); ``known_errors``: problems the caller found already (an upload's
    unreadable rows), reported with these and blocking the store. ``today``: the local date
    that bounds ``day`` (default: the engine clock's date in its zone). Raises InvalidInput
    (422, nothing stored), Conflict (409, a concurrent report of the same children).
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
    return apply_handoffs(target, result)


def apply_handoffs(engine, result: AttendanceResult) -> AttendanceResult:
    """Apply the events of a committed report now and say in ``result`` what they did.
    One child's setback does not stop the others; nothing is lost by it (the event stays
    pending for the worker, or belongs to the case's incident)."""
    for event in case_handoff.dispatch(engine, result.handoff_ids):
        if event.kind == "started":
            result.cases_started.append(event.detail)
        elif event.kind == "message":
            result.messages_sent.append(event.detail)
        elif event.kind == "error":
            result.case_errors.append({"child_id": event.detail["child_id"], "message": event.detail["message"]})
        elif "child_id" in event.detail:
            result.pending.append({"child_id": event.detail["child_id"],
                                   "message": "已记录，稍后自动转交案件 (stored; handed to the case shortly)"})
    apply_now(engine)     # a return may have moved a child's status (ledger.child_status)
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
    result = AttendanceResult(school_code, day, len(rows), len(changed), outcomes)
    result.handoff_ids = _handoffs(session, calendar, school_code, day, rows, outcomes, reported_by, now)
    return result


def _handoffs(session, calendar, school_code, day, rows, outcomes, reported_by, now) -> list[int]:
    """Write the outbox rows of this report (see the module docstring); returns their ids."""
    latest = dict(session.execute(select(AttendanceRecord.child_id, func.max(AttendanceRecord.date)).where(
        AttendanceRecord.child_id.in_([row.child_id for row in rows])).group_by(AttendanceRecord.child_id)).all())
    rules = local_rules()
    recent = recent_unexcused(session, calendar, school_code, day, [row.child_id for row in rows],
                              rules.intermittent_window)
    pattern = {child_id for child_id, r in recent.items()
               if r.now >= rules.intermittent_days and r.run_before < HOME_VISIT_DAYS}
    events: list[tuple] = []            # (kind, child_id, day, count, first_day, corrected)
    on_leave = case_handoff.with_open_case(session, [o.child_id for o in outcomes if o.status == EXCUSED
                                                     and latest.get(o.child_id, day) <= day])
    for outcome in outcomes:
        if latest.get(outcome.child_id, day) > day:
            continue                    # a past day: the latest day is re-counted below
        if outcome.status == UNEXCUSED and outcome.consecutive_unexcused >= 1:
            events.append((ABSENCE, outcome.child_id, day, outcome.consecutive_unexcused, outcome.first_absence, False))
        elif outcome.returned and outcome.child_id not in pattern:
            events.append((RETURNED, outcome.child_id, day, 0, None, outcome.corrected))
        elif outcome.child_id in on_leave:
            events.append((EXCUSED_DAY, outcome.child_id, day, 0, None, False))
    events += _recounts(session, calendar, school_code, day, outcomes, latest)
    handled = {event[1] for event in events}
    events += _repairs(session, calendar, school_code, day, rows, latest, handled | pattern)
    events += _pattern_ends(session, day, rows, recent, rules, {event[1] for event in events} | pattern)
    ids = []
    for kind, child_id, on, count, first_day, corrected in events:
        # A recount's day may be later than this one: its window is that day's.
        window = recent if on == day else recent_unexcused(session, calendar, school_code, on, [child_id],
                                                           rules.intermittent_window)
        row = case_handoff.enqueue(session, kind, child_id, on, reported_by, now, count=count,
                                   first_day=first_day, corrected=corrected,
                                   recent=window[child_id].now if child_id in window else 0)
        session.flush()
        ids.append(row.id)
    return ids


def _recounts(session, calendar, school_code, day, outcomes, latest) -> list[tuple]:
    """A correction of a past day changes the run at each later reported day: hand on the
    run at the child's latest reported day when that day is an unexcused absence."""
    later: dict[date, list[int]] = {}
    for outcome in outcomes:
        if latest.get(outcome.child_id, day) > day:
            later.setdefault(latest[outcome.child_id], []).append(outcome.child_id)
    events = []
    for on, child_ids in sorted(later.items()):
        statuses = dict(session.execute(select(AttendanceRecord.child_id, AttendanceRecord.status).where(
            AttendanceRecord.date == on, AttendanceRecord.child_id.in_(child_ids))).all())
        absent = [child_id for child_id in child_ids if statuses.get(child_id) == UNEXCUSED]
        for child_id, run in sorted(absence_runs(session, calendar, school_code, on, absent).items()):
            events.append((ABSENCE, child_id, on, run.count, run.first_day, False))
    return events


def _repairs(session, calendar, school_code, day, rows, latest, handled) -> list[tuple]:
    """What the cases lack although nothing changed (a re-sent day, data from before the
    outbox): an unexcused child at its latest day with no open case, no event pending and no
    case closed since → absence; a present child whose case waits for the return → returned."""
    unexcused = [r.child_id for r in rows if r.status == UNEXCUSED and r.child_id not in handled
                 and latest.get(r.child_id) == day]
    present = [r.child_id for r in rows if r.status == PRESENT and r.child_id not in handled]
    events = []
    missing = case_handoff.without_case(session, unexcused, day)
    for child_id, run in sorted(absence_runs(session, calendar, school_code, day, missing).items()):
        if run.count >= 1:
            events.append((ABSENCE, child_id, day, run.count, run.first_day, False))
    for child_id in sorted(case_handoff.awaiting_return(session, present, day)):
        events.append((RETURNED, child_id, day, 0, None, False))
    return events


def _pattern_ends(session, day, rows, recent, rules, handled) -> list[tuple]:
    """A present child whose intermittent pattern ends today (below the threshold now, at it
    the school day before) and whose case waits for the return → returned."""
    ending = [r.child_id for r in rows if r.status == PRESENT and r.child_id not in handled
              and r.child_id in recent and recent[r.child_id].now < rules.intermittent_days <= recent[r.child_id].before]
    return [(RETURNED, child_id, day, 0, None, False)
            for child_id in sorted(case_handoff.waiting_for_return(session, ending))]


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
    if allowed_classes is not None and (child is None or child.school_code != school_code
                                        or child.class_code not in allowed_classes):
        # A reporter limited to classes learns only "not mine": one message whether the id is
        # another class's child, another school's or nobody's (issue 8: no probing the register).
        child = None
        problems.append(f"儿童 {child_id} 不在您的班级")
    elif child is None or child.school_code != school_code:
        # One message for both: a reporter must not learn which ids exist in other schools.
        problems.append(f"儿童 {child_id} 不存在或不在该校")
    else:
        # Cross-checks from an upload; the message never echoes the register's value.
        name, klass = _text(raw.get("name")), _text(raw.get("class"))
        if name and name != child.name:
            problems.append(f"儿童 {child_id} 的姓名与学籍不符")
        if klass and klass not in (child.class_code, class_names.get(child.class_code)):
            problems.append(f"儿童 {child_id} 的班级与学籍不符")
    if child is not None and not problems and not expected_at_school(child.enrolment_status):
        # The register says the child is not expected in class (转出, 休学, 死亡 ...): an
        # absence would open a persuasion case for a child who is lawfully elsewhere (issue 10
        # review §1). The status is the registry's to change (复学 through the registrar).
        problems.append(f"儿童 {child_id} 的就学状态为「{status_label(child.enrolment_status)}」，不在每日考勤名单中，"
                        "无需报送；如已复学，请先由学籍管理员办理复学")
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
