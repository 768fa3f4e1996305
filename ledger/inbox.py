"""The staff inbox and task views: the human-task index scoped to the caller, with subjects.

Listing reads only the index and the child register (never a workflow). What is shown of a
task's child follows docs/privacy.md "What a task shows of its child": the task's candidates
see the full name and gender (an inbox lists only one's own candidate tasks), plus the contact
fields the task declares it needs (``subjectFields``); everyone else sees the masked name
(张*明) with the school/class or village. Whoever shows unmasked values logs them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from engine.persistence.models import HumanTask
from engine.tasks import TaskQuery

from .access_log import log_access
from .agreement_tasks import parties
from .directory import role_name, unit_names
from .inspection_tasks import inspected
from .models import Child
from .privacy import mask_name
from .task_marks import marks_of

CANDIDATE_FIELDS = frozenset({"name", "gender"})       # what every candidate of a task sees
CONTACT_FIELDS = ("guardian", "phone", "address")      # what a task may declare it needs


def needed_fields(properties: dict) -> frozenset[str]:
    """The contact fields a user task declares in its ``subjectFields`` property (comma list
    of guardian, phone, address), e.g. a call needs guardian and phone, a visit the address."""
    declared = {part.strip() for part in str(properties.get("subjectFields") or "").split(",")}
    return frozenset(declared & set(CONTACT_FIELDS))


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
    """Open tasks the caller may work on (as candidate), overdue first, with a total count; a
    task whose route named another person (``TaskQuery.viewer``: a colleague's own agreement)
    is not listed, as the caller could not act on it.
    Their children are shown by full name and gender, and each child listed gets an
    access-log row (``view``, detail ``{view: inbox, fields}``)."""
    pairs = sorted(p for p in principal.pairs()
                   if (flt.role is None or p[0] == flt.role) and (flt.org_unit is None or p[1] == flt.org_unit))
    now = engine.clock()
    query = TaskQuery(status="open", candidates=pairs, process_key=flt.process_key, viewer=principal.username,
                      overdue_at=now if flt.overdue else None, page=flt.page, per_page=flt.per_page)
    if flt.q:
        query.subject_id = _subject_by_name(engine, principal, flt.q, pairs)
        if query.subject_id is None:
            return [], 0
    rows, total = engine.tasks.list(query)
    items = describe_tasks(engine, rows, now, shown=CANDIDATE_FIELDS)
    children = sorted({item["subject"]["child_id"] for item in items if item["subject"]})
    if children:
        with engine.db.transaction() as session:
            for child_id in children:
                log_access(session, principal.username, "view", f"child:{child_id}",
                           {"view": "inbox", "fields": sorted(CANDIDATE_FIELDS)}, now)
    return items, total


def _subject_by_name(engine, principal, q, pairs) -> str | None:
    """Search by the child's full name among the caller's own tasks only (no leak by search)."""
    with engine.db.read() as session:
        ids = session.scalars(select(Child.id).where(Child.name == q.strip())).all()
    for child_id in ids:
        rows, total = engine.tasks.list(TaskQuery(status="open", candidates=pairs, subject_id=str(child_id),
                                                  viewer=principal.username, per_page=1))
        if total:
            return str(child_id)
    return None


def describe_tasks(engine, rows: list[HumanTask], now: datetime, *, shown: frozenset[str] = frozenset()) -> list[dict]:
    """Task views (``describe_task``); ``shown``: the child's fields to show unmasked, for
    callers who are the tasks' candidates (the caller logs what was shown). ``party``: whose
    responsibility agreement the task is about (``ledger.agreement_tasks.parties``: ``{ref,
    tier, label, unit_name}``), or the unit an inspection task inspects
    (``ledger.inspection_tasks.inspected``: the same keys and ``kind: inspection``), else None."""
    with engine.db.read() as session:
        children = {str(c.id): c for c in session.scalars(
            select(Child).where(Child.id.in_([int(r.subject_id) for r in rows if r.subject_id])))}
        names = unit_names(session, {r.org_unit for r in rows} | {
            code for c in children.values() for code in (c.school_code, c.class_code, c.village_code)})
        marks = marks_of(session, [r.id for r in rows])
        agreements = {**parties(session, rows), **inspected(session, rows)}
    return [{**describe_task(row, children.get(row.subject_id), names, now, shown=shown, marks=marks.get(row.id, [])),
             "party": agreements.get(row.id)} for row in rows]


def describe_task(row: HumanTask, child: Child | None, names: dict, now: datetime, *,
                  shown: frozenset[str] = frozenset(), marks: list[dict] | None = None) -> dict:
    """One task as pages and the API show it: ``{task_id, name, title, process_key,
    instance_id, role, role_name, org_unit, org_unit_name, unroutable, subject, status,
    due_at, overdue, assignee, created_at, completed_at, completed_by, marks}``; ``subject`` is
    None or ``{child_id, name, school, class, village, where, shown}`` plus ``gender``,
    ``guardian``, ``phone``, ``address`` when in ``shown`` (else the name is masked);
    ``marks`` ``[{kind, name, at}]`` what the domain noted on the task, e.g. ``reminded``
    已催办 (``ledger.task_marks``)."""
    subject = None
    if child is not None:
        where = [names.get(child.school_code), names.get(child.class_code)] if child.class_code else []
        subject = {"child_id": child.id, "name": child.name if "name" in shown else mask_name(child.name),
                   "school": names.get(child.school_code), "class": names.get(child.class_code),
                   "village": names.get(child.village_code),
                   "where": " ".join(filter(None, where)) or names.get(child.village_code),
                   "shown": sorted(shown)}
        subject.update(_contact(child, shown))
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
        "completed_by": row.completed_by, "marks": marks or [],
    }


def _contact(child: Child, shown: frozenset[str]) -> dict:
    values = {"gender": child.gender,
              "guardian": "".join(filter(None, [child.guardian_name, f"（{child.guardian_relation}）"
                                                if child.guardian_relation else None])) or None,
              "phone": child.guardian_phone, "address": child.address}
    return {key: value for key, value in values.items() if key in shown}


def handed_to(engine, next_tasks: list[dict]) -> list[str]:
    """"村（场、社区）书记 蛟潭村" for each task a completion opened (where the case went next)."""
    with engine.db.read() as session:
        names = unit_names(session, {t["org_unit"] for t in next_tasks})
    return [f"{role_name(t['role'])} {names.get(t['org_unit'], t['org_unit'] or '')}".strip() for t in next_tasks]
