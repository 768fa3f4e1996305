"""The staff inbox and task views: the human-task index scoped to the caller, with subjects.

Listing reads only the index and the child register (never a workflow). Children are shown
masked (张*明) with their school/class or village.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from engine.persistence.models import HumanTask
from engine.tasks import TaskQuery

from .directory import role_name, unit_names
from .models import Child
from .privacy import mask_name


@dataclass
class InboxFilter:
    role: str | None = None
    org_unit: str | None = None
    process_key: str | None = None
    overdue: bool | None = None
    q: str | None = None
    page: int = 1
    per_page: int = 20


def inbox(engine, principal, flt: InboxFilter) -> tuple[list[dict], int]:
    """Open tasks the caller may work on (as candidate), overdue first, with a total count."""
    pairs = sorted(p for p in principal.pairs()
                   if (flt.role is None or p[0] == flt.role) and (flt.org_unit is None or p[1] == flt.org_unit))
    now = engine.clock()
    query = TaskQuery(status="open", candidates=pairs, process_key=flt.process_key,
                      overdue_at=now if flt.overdue else None, page=flt.page, per_page=flt.per_page)
    if flt.q:
        query.subject_id = _subject_by_name(engine, principal, flt.q, pairs)
        if query.subject_id is None:
            return [], 0
    rows, total = engine.tasks.list(query)
    return describe_tasks(engine, rows, now), total


def _subject_by_name(engine, principal, q, pairs) -> str | None:
    """Search by the child's full name among the caller's own tasks only (no leak by search)."""
    with engine.db.read() as session:
        ids = session.scalars(select(Child.id).where(Child.name == q.strip())).all()
    for child_id in ids:
        rows, total = engine.tasks.list(TaskQuery(status="open", candidates=pairs, subject_id=str(child_id),
                                                  per_page=1))
        if total:
            return str(child_id)
    return None


def describe_tasks(engine, rows: list[HumanTask], now: datetime) -> list[dict]:
    with engine.db.read() as session:
        children = {str(c.id): c for c in session.scalars(
            select(Child).where(Child.id.in_([int(r.subject_id) for r in rows if r.subject_id])))}
        names = unit_names(session, {r.org_unit for r in rows} | {
            code for c in children.values() for code in (c.school_code, c.class_code, c.village_code)})
    return [describe_task(row, children.get(row.subject_id), names, now) for row in rows]


def describe_task(row: HumanTask, child: Child | None, names: dict, now: datetime) -> dict:
    subject = None
    if child is not None:
        where = [names.get(child.school_code), names.get(child.class_code)] if child.class_code else []
        subject = {"child_id": child.id, "name": mask_name(child.name),
                   "school": names.get(child.school_code), "class": names.get(child.class_code),
                   "village": names.get(child.village_code),
                   "where": " ".join(filter(None, where)) or names.get(child.village_code)}
    return {
        "task_id": row.id, "name": row.element_id, "title": row.name or row.element_id,
        "process_key": row.process_key, "instance_id": row.instance_id,
        "role": row.candidate_role, "role_name": role_name(row.candidate_role),
        "org_unit": row.org_unit, "org_unit_name": names.get(row.org_unit, row.org_unit),
        "unroutable": row.unroutable, "subject": subject, "status": row.status,
        "due_at": row.due_at.isoformat() if row.due_at else None,
        "overdue": bool(row.due_at and row.due_at < now and row.status == "open"),
        "assignee": row.assignee, "created_at": row.created_at.isoformat(),
        "completed_at": row.completed_at.isoformat() if row.completed_at else None,
        "completed_by": row.completed_by,
    }


def handed_to(engine, next_tasks: list[dict]) -> list[str]:
    """"村（场、社区）书记 蛟潭村" for each task a completion opened (where the case went next)."""
    with engine.db.read() as session:
        names = unit_names(session, {t["org_unit"] for t in next_tasks})
    return [f"{role_name(t['role'])} {names.get(t['org_unit'], t['org_unit'] or '')}".strip() for t in next_tasks]
