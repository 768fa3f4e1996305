"""What an inspector sees of one unit for a quarter (issue 13 "Quarterly inspection"): its
figures, its open and overdue tasks with who holds them, and sampled cases to trace. Computed
from the registers and the task index when asked, never kept in the round's data (a figure
seen on Tuesday is Tuesday's).

* ``unit_figures``: the unit's persuasion cases (of children of the school, or living in the
  village) opened, closed and brought back in the quarter, open now; its open tasks (in the
  unit or below it: a school's classes) and the overdue ones; for a school, the school days of
  the quarter so far without an attendance report; the responsibility agreements of the unit
  and its staff still unsigned.
* ``sampled_cases``: up to ``SAMPLE_SIZE`` persuasion cases of the unit active in the quarter,
  escalated ones first (a case where a step went overdue and was escalated: a ``*_oversee`` or
  ``escalate*`` task), each group in an order drawn at random but the same every time for the
  round and unit (seeded by ``2026Q4/zx``), so two inspectors see the same sample.
Children appear by masked name only (docs/privacy.md); the case page shows the rest to whom it may.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select

from engine.persistence.models import HumanTask, ProcessInstance

from .agreement_models import Agreement
from .attendance_models import AttendanceRecord
from .directory import role_name, subtree, unit_names
from .inspection import PROCESSES, quarter_bounds, quarter_label
from .inspection_tasks import task_units
from .models import Child, OrgUnit, User
from .privacy import mask_name
from .school_calendar import school_calendar
from .status_models import CaseEventRecord

CASE_PROCESS = "persuasion"
SAMPLE_SIZE = 5
OVERDUE_LISTED = 20


def _moment(day: date, zone, end: bool = False) -> datetime:
    return datetime.combine(day + timedelta(days=1) if end else day, time(0), zone)


def unit_cases(session, unit: OrgUnit, first: date, last: date, zone) -> list[tuple]:
    """``[(instance id, status, created_at, completed_at, child)]``: the unit's persuasion
    cases active at some time in ``first``..``last`` (begun by its end, not closed before it)."""
    column = Child.school_code if unit.kind == "school" else Child.village_code
    children = {c.id: c for c in session.scalars(select(Child).where(column == unit.code))}
    if not children:
        return []
    keys = {f"child:{child_id}": child for child_id, child in children.items()}
    rows = session.execute(select(ProcessInstance.id, ProcessInstance.status, ProcessInstance.created_at,
                                  ProcessInstance.completed_at, ProcessInstance.business_key).where(
        ProcessInstance.process_key == CASE_PROCESS, ProcessInstance.business_key.in_(keys),
        ProcessInstance.created_at < _moment(last, zone, end=True),
        or_(ProcessInstance.completed_at.is_(None), ProcessInstance.completed_at >= _moment(first, zone))))
    return [(i, status, created, completed, keys[key]) for i, status, created, completed, key in rows]


def unit_figures(session, unit_code: str, year: int, quarter: int, now: datetime, zone) -> dict:
    """``{cases_opened, cases_closed, cases_returned, cases_open, tasks_open, tasks_overdue,
    overdue: [{task_id, title, role_name, org_unit_name, holder, due_at, instance_id}],
    attendance_missing: int | None (None: a village), attendance_missing_days: [ISO],
    agreements_unsigned}`` for the unit in the quarter (module doc). LookupError: no such
    school or village."""
    unit = session.get(OrgUnit, unit_code)
    if unit is None or unit.kind not in ("school", "village"):
        raise LookupError(f"{unit_code} is not a school or village")
    first, last = quarter_bounds(year, quarter)
    start, end = _moment(first, zone), _moment(last, zone, end=True)
    cases = unit_cases(session, unit, first, last, zone)
    returned = set(session.scalars(select(CaseEventRecord.instance_id).where(
        CaseEventRecord.instance_id.in_([c[0] for c in cases] or [-1]), CaseEventRecord.event == "returned",
        CaseEventRecord.at >= start, CaseEventRecord.at < end)))
    units = subtree(session, unit_code)
    tasks = list(session.scalars(select(HumanTask).where(HumanTask.status == "open", HumanTask.org_unit.in_(units))
                                 .order_by(HumanTask.due_at, HumanTask.created_at)))
    overdue = [t for t in tasks if t.due_at is not None and t.due_at < now]
    figures = {
        "cases_opened": sum(start <= c[2] < end for c in cases),
        "cases_closed": sum(c[3] is not None and start <= c[3] < end for c in cases),
        "cases_returned": len(returned), "cases_open": sum(c[1] == "active" for c in cases),
        "tasks_open": len(tasks), "tasks_overdue": len(overdue),
        "overdue": _overdue_rows(session, overdue[:OVERDUE_LISTED]),
    }
    figures["agreements_unsigned"] = len(session.scalars(select(Agreement.id).where(
        Agreement.unit_code == unit_code, Agreement.status.in_(("pending", "refused")))).all())
    missing = _attendance_missing(session, unit, first, min(last, now.astimezone(zone).date()), zone) \
        if unit.kind == "school" else None
    figures["attendance_missing"] = None if missing is None else len(missing)
    figures["attendance_missing_days"] = [d.isoformat() for d in (missing or [])][:31]
    return figures


def _overdue_rows(session, rows: list[HumanTask]) -> list[dict]:
    names = unit_names(session, {r.org_unit for r in rows})
    people = dict(session.execute(select(User.username, User.display_name).where(
        User.username.in_({r.assignee for r in rows if r.assignee}))).all()) if rows else {}
    return [{"task_id": r.id, "title": r.name or r.element_id, "role_name": role_name(r.candidate_role),
             "org_unit_name": names.get(r.org_unit, r.org_unit or ""),
             "holder": people.get(r.assignee, r.assignee) if r.assignee else f"未认领（{role_name(r.candidate_role)}）",
             "due_at": r.due_at.isoformat(), "instance_id": r.instance_id} for r in rows]


def _attendance_missing(session, unit: OrgUnit, first: date, last: date, zone) -> list[date]:
    """The school days (the school's calendar over the statutory one) in ``first``..``last``
    on which the school reported no attendance at all."""
    if last < first:
        return []
    calendar = school_calendar(session, zone)
    reported = set(session.scalars(select(AttendanceRecord.date).where(
        AttendanceRecord.school_code == unit.code, AttendanceRecord.date >= first, AttendanceRecord.date <= last)
        .distinct()))
    days, day = [], first
    while day <= last:
        if calendar.is_business_day(day, "school", unit.code) and day not in reported:
            days.append(day)
        day += timedelta(days=1)
    return days


def sampled_cases(session, unit_code: str, year: int, quarter: int, ref: str, zone) -> list[dict]:
    """``[{instance_id, child, status, escalated, started_on, closed_on}]`` (module doc)."""
    unit = session.get(OrgUnit, unit_code)
    if unit is None:
        return []
    first, last = quarter_bounds(year, quarter)
    cases = sorted(unit_cases(session, unit, first, last, zone), key=lambda c: c[0])
    escalated = set(session.scalars(select(HumanTask.instance_id).where(
        HumanTask.instance_id.in_([c[0] for c in cases] or [-1]),
        or_(HumanTask.element_id.like("%\\_oversee", escape="\\"), HumanTask.element_id.like("escalate%")))))
    draw = random.Random(f"{ref}/{unit_code}")
    hot, rest = [c for c in cases if c[0] in escalated], [c for c in cases if c[0] not in escalated]
    draw.shuffle(hot)
    draw.shuffle(rest)
    return [{"instance_id": i, "child": mask_name(child.name), "status": status, "escalated": i in escalated,
             "started_on": created.astimezone(zone).date().isoformat(),
             "closed_on": completed.astimezone(zone).date().isoformat() if completed else None}
            for i, status, created, completed, child in (hot + rest)[:SAMPLE_SIZE]]


def task_view(engine, row: HumanTask) -> dict | None:
    """What an inspection task's page shows of its unit: ``{unit, unit_name, round_ref,
    quarter_label, figures, samples}``; None for a task that inspects no unit."""
    if row.process_key not in PROCESSES:
        return None
    instance = engine.runtime.get(row.instance_id)
    ref = (instance.business_key or "").partition(":")[2]
    with engine.db.read() as session:
        unit_code = task_units(session, [row]).get(row.id)
        if unit_code is None or "Q" not in ref:
            return None
        year, quarter = int(ref[:4]), int(ref[5:])
        figures = unit_figures(session, unit_code, year, quarter, engine.clock(), engine.zone)
        samples = sampled_cases(session, unit_code, year, quarter, ref, engine.zone)
        name = unit_names(session, {unit_code}).get(unit_code, unit_code)
    return {"unit": unit_code, "unit_name": name, "round_ref": ref, "quarter_label": quarter_label(year, quarter),
            "figures": figures, "samples": samples}
