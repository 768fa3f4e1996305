"""Routing of user tasks: lane = role code; org unit from the child register by scope kind.

DOMAIN.md: "A task for a child goes to the holders of the lane's role in that child's
school/class/village." The instance data carries only ``child_id``; the child's class,
school and village are read from the register at the moment the task becomes ready.
Where a lane needs what the data lacks, the task goes to the town's task-force deputy,
flagged unroutable, never to nobody.

A task about a *party* rather than a child (a responsibility agreement, issue 12: a unit's
head or one named person) names its route in three task properties, each a Python
expression read against the task's data: ``partyRole`` (a role code), ``partyUnit`` (the
org unit) and optionally ``partyUser`` (a username: the task is created claimed by that
person, so no colleague holding the same role and unit can sign for them). The lane then
only draws the task in the diagram.
"""
from __future__ import annotations

from engine.runtime.hooks import Route, TaskContext

from .directory import town_code
from .models import Child
from .roles import ROLE_BY_CODE

FALLBACK_ROLE = "task_force_deputy"
# What routing (and the due policy, ledger.due) reads from a case's data: no form may set it
# (EngineConfig.protected_variables), or a completion could move the case to another child
# and its next task to another village.
ROUTING_VARIABLES = frozenset({"child_id"})
_SCOPE_FIELD = {"class": "class_code", "school": "school_code", "village": "village_code"}


def route_task(task: TaskContext) -> Route:
    """Route hook for the engine (runs inside the engine command's transaction)."""
    session = task.session
    try:
        town = town_code(session)
    except LookupError:  # no org units set up yet: keep the task visible to nobody but admins
        return Route(role=task.lane, org_unit=None, unroutable=True, notes={"reason": "no town set up"})
    if task.properties.get("partyRole"):
        return _party_route(task, town)
    child = _child(session, task.data.get("child_id"))
    subject = str(child.id) if child else None
    role = ROLE_BY_CODE.get(task.lane or "")
    if role is None:
        return _unroutable(town, subject, f"lane {task.lane!r} is not a role")
    if role.scope in ("town", "county"):
        return Route(role=role.code, org_unit=town, subject_id=subject)
    if child is None:
        return _unroutable(town, subject, f"{role.code} needs a child_id in the case data")
    org_unit = getattr(child, _SCOPE_FIELD[role.scope])
    if not org_unit:
        return _unroutable(town, subject, f"child {child.id} has no {role.scope} for {role.code}")
    return Route(role=role.code, org_unit=org_unit, subject_id=subject)


def _party_route(task: TaskContext, town: str) -> Route:
    """Route by the task's ``partyRole`` / ``partyUnit`` / ``partyUser`` expressions."""
    try:
        values = {name: task.evaluate(task.properties[name]) if task.properties.get(name) else None
                  for name in ("partyRole", "partyUnit", "partyUser")}
    except Exception as exc:  # noqa: BLE001 - a bad expression must not lose the task
        return _unroutable(town, None, f"party route: {exc}")
    role = ROLE_BY_CODE.get(str(values["partyRole"] or ""))
    if role is None or not values["partyUnit"]:
        return _unroutable(town, None, f"party route gave role {values['partyRole']!r}, unit {values['partyUnit']!r}")
    return Route(role=role.code, org_unit=str(values["partyUnit"]),
                 assignee=str(values["partyUser"]) if values["partyUser"] else None)


def _child(session, child_id):
    if child_id is None:
        return None
    try:
        return session.get(Child, int(child_id))
    except (TypeError, ValueError):
        return None


def _unroutable(town: str, subject, reason: str) -> Route:
    return Route(role=FALLBACK_ROLE, org_unit=town, unroutable=True, subject_id=subject,
                 notes={"reason": reason})
