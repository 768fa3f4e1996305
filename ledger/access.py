"""Who may see and do what, by role and org scope (one place, checked on every request).

* work a task: hold the task's (candidate role, org unit); a task whose route named one person
  (a personal agreement, ``reserved_for``) only that person;
* supervise a task (see it, reassign it): the principal of the school whose subtree holds
  the task's org unit, or the town's task-force leader or deputy;
* trace a case read-only (``case_scope``, one rule for the case list and every case view):
  the discipline inspector, the town's task force and the county bureau (every case,
  ``CASE_READERS``); a principal the cases of their school, a village secretary those of
  their village (a task routed to the unit or below it, or a case about a child of the
  unit); anyone else the cases of which they hold the (role, org unit) of a task; a
  town-wide case (an agreement campaign) only the town's offices and the inspector;
Every right follows the (role, org unit) pairs a person holds now, never a name on a task
(assignee, completed by): losing a role ends the access it gave at once (issue 9), and a
claim is only ever held by a candidate (revoking the pair releases it, ledger.users).
* report a school's attendance: its principal or registrar (every class), a head teacher
  (their own classes only);
* see a child of the register (``child_scope``): a head teacher their classes' children; a
  principal, registrar or moral-education office their school's; a village secretary or
  grid worker their village's; the task force, livelihood office, town government and
  discipline inspector the town's. Others (司法所, 残联, 民政) see only cases referred to them;
* flag a dropout tendency: the child's head teacher, school principal, or the task force;
* refer a disabled child to home teaching: the same, and the child's village secretary;
* change a school's calendar: its principal, or an administrator;
* change a child's register fields (``register_fields_for``; groups: ``ledger.register_fields``):
  the registrar or principal of the child's school its identity, schooling and census fields;
  the secretary of the child's village its identity, residence (household, guardians) and
  census fields. Nobody else: not the head teacher (who flags a tendency instead), not the
  town (which compiles the ledgers the units keep, DOMAIN.md "Ledgers"), not an administrator.
Administrators manage accounts; they do not read children's cases.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import Session

from engine.persistence.models import AuditEvent, HumanTask, ProcessInstance

from .access_log import log_access  # noqa: F401 - the one writer of AccessLog, used as access.log_access
from .case_children import cases_of_children
from .directory import subtree
from .models import Child, OrgUnit
from .register_fields import FIELDS_OF_GROUP
from .roles import ROLE_BY_CODE

TOWN_SUPERVISORS = ("task_force_leader", "task_force_deputy")
# Tasks routed to one named person even when released (processes/agreement_person.bpmn).
PERSONAL_TASKS = frozenset({"sign_personal"})
INSPECTOR = "discipline_inspector"
TOWN_ACTORS = frozenset({*TOWN_SUPERVISORS, "livelihood_office", "town_government"})
# Cases about the whole town's people (a year's agreement campaign, a quarter's inspection round),
# traced whole only by these: a unit's head sees their own part through their task.
TOWN_WIDE_CASES = frozenset({"responsibility_agreements", "inspection", "inspection_unit"})
TOWN_WIDE_READERS = frozenset({*TOWN_ACTORS, INSPECTOR})
COUNTY_BUREAU = "county_bureau"
# Who traces every case read-only (issue 13 "Access"): decided here and nowhere else.
CASE_READERS = frozenset({INSPECTOR, *TOWN_SUPERVISORS, COUNTY_BUREAU})
# Unit heads who trace every case of their unit (its subtree): the school's, the village's.
CASE_UNIT_HEADS = ("principal", "village_secretary")


def can_work(principal, task: HumanTask) -> bool:
    return (task.candidate_role, task.org_unit) in principal.pairs()


def reserved_for(session: Session, task: HumanTask) -> str | None:
    """The one person a task is for, when its route named one (``Route.assignee``, recorded in
    its ``task_ready`` audit event): a personal responsibility agreement. Only that person may
    claim or complete it, even after a supervisor released it or a role change let it go."""
    if task.assignee is None and task.element_id not in PERSONAL_TASKS:
        return None
    data = session.scalar(select(AuditEvent.data).where(  # instance_id is indexed: one case's events
        AuditEvent.instance_id == task.instance_id, AuditEvent.task_id == task.id,
        AuditEvent.kind == "task_ready").limit(1))
    return json.loads(data or "{}").get("assignee")


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
    return can_work(principal, task) or can_supervise(session, principal, task) or principal.holds(INSPECTOR)


@dataclass(frozen=True)
class CaseScope:
    """Which cases a person may trace read-only: every case (``every``), else those with a
    task of one of ``pairs`` (role, org unit), those with a task in ``units`` or about a child
    of ``units`` (a unit head's units with their subtrees), and the town-wide cases when
    ``town_wide``. Town-wide cases are otherwise left out even when a task of them is one's own
    (a signer sees their own agreement through their task, never the campaign)."""

    every: bool
    pairs: frozenset[tuple[str, str]] = frozenset()
    units: frozenset[str] = frozenset()
    town_wide: bool = False

    def condition(self):
        """A WHERE clause on ``ProcessInstance`` selecting exactly the traceable cases: one
        query, so a list of a county's cases is filtered in the database, never in Python."""
        if self.every:
            return true()
        own = []
        if self.pairs:
            own.append(ProcessInstance.id.in_(select(HumanTask.instance_id).where(or_(*(
                and_(HumanTask.candidate_role == role, HumanTask.org_unit == unit)
                for role, unit in sorted(self.pairs))))))
        if self.units:
            units = sorted(self.units)
            own.append(ProcessInstance.id.in_(select(HumanTask.instance_id).where(HumanTask.org_unit.in_(units))))
            own.append(cases_of_children(or_(Child.school_code.in_(units), Child.class_code.in_(units),
                                             Child.village_code.in_(units))))
        town_wide = ProcessInstance.process_key.in_(sorted(TOWN_WIDE_CASES))
        if self.town_wide:
            return or_(town_wide, *own)
        return and_(~town_wide, or_(*own)) if own else false()


def case_scope(session: Session, principal) -> CaseScope:
    """The cases this person may trace (see the module doc): the list of cases and each case's
    pages read this one rule (``can_trace_instance``)."""
    if any(principal.holds(role) for role in CASE_READERS):
        return CaseScope(True)
    units: set[str] = set()
    for role in CASE_UNIT_HEADS:
        for unit in principal.units(role):
            units |= subtree(session, unit)
    return CaseScope(False, frozenset(principal.pairs()), frozenset(units),
                     any(principal.holds(role) for role in TOWN_WIDE_READERS))


def can_trace_instance(session: Session, principal, instance_id: int) -> bool:
    """May this person trace case ``instance_id`` (``case_scope``)? False when it does not
    exist. The inspector, the task force and the county bureau trace every case (also one
    with no task yet, e.g. waiting for a message); a town-wide case (a responsibility-agreement
    campaign: every unit's and person's signing) only the town (``TOWN_WIDE_READERS``)."""
    return session.scalar(select(ProcessInstance.id).where(
        ProcessInstance.id == instance_id, case_scope(session, principal).condition())) is not None


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


def reporting_classes(session: Session, principal) -> dict[str, str]:
    """Every class this person may report attendance for: ``{class code: school code}``.

    Agrees with ``attendance_classes``: a class belongs to its nearest school above it; the
    principal or registrar of that school reports it, and so does its head teacher.
    """
    rows = session.execute(select(OrgUnit.code, OrgUnit.kind, OrgUnit.parent_code)).all()
    kinds = {code: kind for code, kind, _ in rows}
    parents = {code: parent for code, _, parent in rows}
    whole = principal.units("principal") | principal.units("registrar")
    own = principal.units("head_teacher")
    found: dict[str, str] = {}
    for code, kind, _ in rows:
        if kind != "class":
            continue
        school, seen = parents.get(code), set()
        while school is not None and kinds.get(school) != "school" and school not in seen:
            seen.add(school)
            school = parents.get(school)
        if school is not None and kinds.get(school) == "school" and (school in whole or code in own):
            found[code] = school
    return found


CHILD_TOWN_READERS = frozenset({*TOWN_SUPERVISORS, "livelihood_office", "town_government", INSPECTOR})
CHILD_UNIT_READERS = ("head_teacher", "principal", "registrar", "moral_education_office",
                      "village_secretary", "grid_worker")


@dataclass(frozen=True)
class ChildScope:
    """Which children of the register a person may see: the whole town, or those whose
    school, class or village is in ``units`` (each held unit with its subtree)."""

    town: bool
    units: frozenset[str]

    @property
    def empty(self) -> bool:
        return not self.town and not self.units

    def allows(self, child: Child) -> bool:
        return self.town or bool(self.units & {child.school_code, child.class_code, child.village_code})

    def condition(self):
        """A WHERE clause on ``Child`` selecting exactly the children ``allows``."""
        if self.town:
            return Child.id.is_not(None)
        if not self.units:
            return false()
        units = sorted(self.units)
        return or_(Child.school_code.in_(units), Child.class_code.in_(units), Child.village_code.in_(units))


def child_scope(session: Session, principal) -> ChildScope:
    """The children this person may see (DOMAIN.md "Personal data": only what the role and
    org unit need; DOMAIN-REFERENCE §7.2 item 3, jurisdiction-scoped access)."""
    if any(principal.holds(role) for role in CHILD_TOWN_READERS):
        return ChildScope(True, frozenset())
    units: set[str] = set()
    for role in CHILD_UNIT_READERS:
        for unit in principal.units(role):
            units |= subtree(session, unit)
    return ChildScope(False, frozenset(units))


def visible_children(session: Session, principal, child_ids) -> set[int]:
    """Those of ``child_ids`` whose child page this person may open (``child_scope``): pages
    link a child's name only then."""
    ids = {int(i) for i in child_ids}
    if not ids:
        return set()
    scope = child_scope(session, principal)
    return set(session.scalars(select(Child.id).where(Child.id.in_(ids), scope.condition())))


def can_flag_tendency(principal, child: Child) -> bool:
    """May this person flag ``child``'s dropout tendency (start the school's first
    persuasion, DOMAIN.md "Three-tier persuasion")? The child's head teacher, the principal
    of the child's school, or the town's task-force leader or deputy."""
    return (bool(child.class_code) and principal.holds("head_teacher", child.class_code)) or (
        bool(child.school_code) and principal.holds("principal", child.school_code)) or any(
        principal.holds(role) for role in TOWN_SUPERVISORS)


def can_refer_home_teaching(principal, child: Child) -> bool:
    """May this person refer ``child`` to home teaching (送教上门, a disabled child who cannot
    attend class: issue 11 "Starting a case")? The child's head teacher, the principal of the
    child's school, the secretary of the child's village, or the town's task-force leader or
    deputy."""
    return can_flag_tendency(principal, child) or (
        bool(child.village_code) and principal.holds("village_secretary", child.village_code))


def can_edit_calendar(principal, school_code: str) -> bool:
    """May this person set or clear ``school_code``'s own school days? Its principal, or an
    administrator (DOMAIN-REFERENCE §6: each school keeps its own 校历)."""
    return principal.is_admin or principal.holds("principal", school_code)


SCHOOL_KEEPERS = ("registrar", "principal")
VILLAGE_KEEPERS = ("village_secretary",)


def register_fields_for(principal, child: Child) -> frozenset[str]:
    """The fields of ``child``'s register record this person may change (module doc; DOMAIN.md
    "Ledgers": the village keeps the census, the school its pupils' registry and risk)."""
    groups: set[str] = set()
    if child.school_code and any(principal.holds(role, child.school_code) for role in SCHOOL_KEEPERS):
        groups |= {"identity", "school", "census"}
    if child.village_code and any(principal.holds(role, child.village_code) for role in VILLAGE_KEEPERS):
        groups |= {"identity", "residence", "census"}
    return frozenset().union(*(FIELDS_OF_GROUP[g] for g in groups))
