"""What the figures read, loaded once per request: the children of a unit, each child's status
history, the persuasion cases with their tasks, and the return days' first absences.

A child's 就学状态 at a moment is rebuilt from the case events (``case_event`` rows:
``ledger.child_status`` writes one, with the status before and after, for every change a case
makes): the status after the last event before the moment; before a child's first event, the
status before it; a child without events has had its register status all along. A status set
by hand in the register (no case event) is taken as it is now, for every month: the register
keeps no dated history of such changes yet (issue 15 "The child register" adds one).

A child belongs to a unit by the register's school or village now (the town: every child).
A town's register is a few thousand children: it is read whole, and every month of a trend is
computed from the same rows (the case list, whose size follows a county's cases, stays in SQL).
"""
from __future__ import annotations

import json
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from engine.persistence.models import HumanTask, ProcessInstance

from ..attendance_models import CaseHandoff
from ..case_children import CHILD_KEY
from ..models import Child, OrgUnit
from ..status_models import CaseEventRecord

CASE_PROCESS = "persuasion"            # the three-tier persuasion case (processes/persuasion.bpmn)
CLOSED = ("completed", "terminated")


@dataclass
class Case:
    """A persuasion case: when it began and closed (None: open), its child, the element ids of
    its tasks with when each was created, and the first day of the absence that started it."""
    id: int
    child_id: int
    created_at: datetime
    closed_at: datetime | None
    tasks: list[tuple[str, datetime]] = field(default_factory=list)
    first_absence: date | None = None


@dataclass
class Register:
    children: dict[int, Child]
    events: dict[int, list[CaseEventRecord]]      # child id → events, oldest first
    cases: dict[int, Case]
    units: dict[str, OrgUnit]

    def status_at(self, child_id: int, moment: datetime) -> str:
        """The child's 就学状态 just before ``moment`` (module doc)."""
        rows = self.events.get(child_id)
        if not rows:
            return self.children[child_id].enrolment_status
        index = bisect_left([r.at for r in rows], moment)
        return rows[index - 1].status_after if index else rows[0].status_before

    def part(self, unit: OrgUnit) -> "Register":
        """The register of a school or village of this (town's) register, sharing its rows."""
        column = "school_code" if unit.kind == "school" else "village_code"
        children = {i: c for i, c in self.children.items() if getattr(c, column) == unit.code}
        return Register(children, {i: e for i, e in self.events.items() if i in children},
                        {i: c for i, c in self.cases.items() if c.child_id in children}, self.units)

    def changes(self, child_ids, first: datetime, end: datetime):
        """The status changes of ``child_ids`` made in ``first`` ≤ at < ``end``, oldest first."""
        for child_id in child_ids:
            for row in self.events.get(child_id, []):
                if first <= row.at < end and row.status_before != row.status_after:
                    yield row


def load(session, unit: OrgUnit) -> Register:
    """The register of ``unit`` (a town, school or village: module doc)."""
    query = select(Child)
    if unit.kind == "school":
        query = query.where(Child.school_code == unit.code)
    elif unit.kind == "village":
        query = query.where(Child.village_code == unit.code)
    children = {c.id: c for c in session.scalars(query)}
    events: dict[int, list] = {}
    ids = sorted(children)
    for row in _in_chunks(session, select(CaseEventRecord).order_by(CaseEventRecord.at, CaseEventRecord.id),
                          CaseEventRecord.child_id, ids):
        events.setdefault(row.child_id, []).append(row)
    for rows in events.values():
        rows.sort(key=lambda r: (r.at, r.id))
    return Register(children, events, _cases(session, children), {u.code: u for u in session.scalars(select(OrgUnit))})


def _in_chunks(session, query, column, ids, size: int = 900):
    # SQLite allows a limited number of bound parameters: a town's children go in chunks.
    for start in range(0, len(ids), size):
        yield from session.scalars(query.where(column.in_(ids[start:start + size])))


def _cases(session, children: dict[int, Child]) -> dict[int, Case]:
    keys = {f"{CHILD_KEY}{child_id}": child_id for child_id in children}
    cases: dict[int, Case] = {}
    rows = session.execute(select(ProcessInstance.id, ProcessInstance.business_key, ProcessInstance.status,
                                  ProcessInstance.created_at, ProcessInstance.completed_at,
                                  ProcessInstance.updated_at).where(
        ProcessInstance.process_key == CASE_PROCESS, ProcessInstance.business_key.like(f"{CHILD_KEY}%")))
    for case_id, key, status, created, completed, updated in rows:
        if key in keys:   # a terminated case has no completion stamp: its last change closed it
            closed = (completed or updated) if status in CLOSED else None
            cases[case_id] = Case(case_id, keys[key], created, closed)
    ids = sorted(cases)
    for start in range(0, len(ids), 900):
        for instance_id, element_id, created in session.execute(
                select(HumanTask.instance_id, HumanTask.element_id, HumanTask.created_at)
                .where(HumanTask.instance_id.in_(ids[start:start + 900]))):
            cases[instance_id].tasks.append((element_id, created))
    _first_absences(session, cases)
    return cases


def _first_absences(session, cases: dict[int, Case]) -> None:
    """The first day of the absence run that started each case: the attendance hand-off that
    started it records the run's first day and, in its result, the case it started."""
    if not cases:
        return
    child_ids = sorted({c.child_id for c in cases.values()})
    for row in _in_chunks(session, select(CaseHandoff).where(CaseHandoff.kind == "absence"),
                          CaseHandoff.child_id, child_ids):
        try:
            started = json.loads(row.result or "{}").get("instance_id")
        except (ValueError, AttributeError):
            continue
        if started in cases:
            cases[started].first_absence = row.first_day or row.day
