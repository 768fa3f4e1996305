"""Who may see and do what, by role and org scope (one place, checked on every request).

* work a task: hold the task's (candidate role, org unit);
* supervise a task (see it, reassign it): the principal of the school whose subtree holds
  the task's org unit, or the town's task-force leader or deputy;
* trace a case read-only: the discipline inspector, anyone who holds or held a task of it,
  and its supervisors;
* report a school's attendance: its principal or registrar (every class), a head teacher
  (their own classes only).
Administrators manage accounts; they do not read children's cases.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.persistence.models import HumanTask

from .directory import subtree
from .models import Child
from .roles import ROLE_BY_CODE

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


def may_start(session: Session, principal, start_lanes: set, child: Child | None) -> bool:
    """May this person start a process whose start events lie in ``start_lanes``?

    The task force may start anything. Otherwise the person must hold a start lane's role,
    and for a case about a child hold it in that child's class, school or village (the
    scope the lane's role routes to). A start outside any lane is for town roles only.
    """
    if any(principal.holds(role) for role in TOWN_SUPERVISORS):
        return True
    roles = {lane for lane in start_lanes if lane}
    if not roles:
        return any(principal.holds(role) for role in TOWN_ACTORS)
    units = {a.org_unit for a in principal.assignments if a.role in roles}
    if child is None:
        return bool(units)
    return bool(units & {child.class_code, child.school_code, child.village_code}) or (
        any(ROLE_BY_CODE.get(r) and ROLE_BY_CODE[r].scope == "town" for r in roles) and bool(units))


def attendance_classes(session: Session, principal, school_code: str) -> set[str] | None:
    """Which classes of ``school_code`` this person may report attendance for.

    ``None`` means every class (the school's principal or registrar); a set means those
    classes only (a head teacher's own classes in that school); an empty set means none.
    """
    if principal.holds("principal", school_code) or principal.holds("registrar", school_code):
        return None
    return principal.units("head_teacher") & subtree(session, school_code)
