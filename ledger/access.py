"""Who may see and do what, by role and org scope (one place, checked on every request).

* work a task: hold the task's (candidate role, org unit);
* supervise a task (see it, reassign it): the principal of the school whose subtree holds
  the task's org unit, or the town's task-force leader or deputy;
* trace a case read-only: the discipline inspector, anyone who holds or held a task of it,
  and its supervisors.
Administrators manage accounts; they do not read children's cases.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.persistence.models import HumanTask

from .directory import subtree
from .models import Child

TOWN_SUPERVISORS = ("task_force_leader", "task_force_deputy")
INSPECTOR = "discipline_inspector"
TOWN_ACTORS = frozenset({*TOWN_SUPERVISORS, "livelihood_office", "town_government"})


def can_work(principal, task: HumanTask) -> bool:
    return (task.candidate_role, task.org_unit) in principal.pairs()


def supervised_units(session: Session, principal) -> set[str] | None:
    """Org units whose tasks this person supervises; None means the whole town."""
    if any(principal.holds(role) for role in TOWN_SUPERVISORS):
        return None
    units: set[str] = set()
    for school in principal.units("principal"):
        units |= subtree(session, school)
    return units


def can_supervise(session: Session, principal, task: HumanTask) -> bool:
    units = supervised_units(session, principal)
    return units is None or task.org_unit in units


def can_view_task(session: Session, principal, task: HumanTask) -> bool:
    return (can_work(principal, task) or task.assignee == principal.username
            or task.completed_by == principal.username or can_supervise(session, principal, task)
            or principal.holds(INSPECTOR))


def can_trace_instance(session: Session, principal, instance_id: int) -> bool:
    if principal.holds(INSPECTOR):
        return True
    tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).all()
    return any(can_work(principal, t) or principal.username in (t.assignee, t.completed_by)
               or can_supervise(session, principal, t) for t in tasks)


def can_act_for_child(session: Session, principal, child: Child) -> bool:
    """May start a case about this child: a role in the child's class, school or village, or the town."""
    if principal.holds(INSPECTOR) and len(principal.assignments) == 1:
        return False  # inspectors trace, they do not act
    roles = {a.role for a in principal.assignments}
    if roles & TOWN_ACTORS:
        return True
    mine = {a.org_unit for a in principal.assignments}
    return bool(mine & {child.class_code, child.school_code, child.village_code})
