"""Routing of user tasks: lane = role code; org unit from the child register by scope kind.

DOMAIN.md: "A task for a child goes to the holders of the lane's role in that child's
school/class/village." The instance data carries only ``child_id``; the child's class,
school and village are read from the register at the moment the task becomes ready.
Where a lane needs what the data lacks, the task goes to the town's task-force deputy,
flagged unroutable, never to nobody.
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
