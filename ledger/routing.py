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

A task for a child meant for one named colleague (a home-teaching visit goes to the plan's
teacher, issue 11) keeps its lane's route and names the person in the task property
``assignee``, an expression read against the task's data giving a username (chosen in an
earlier form from ``ledger.form_choices``). The task is created claimed by that person, in
the post they hold within the lane's org unit: the lane's own (role, unit) if they hold it,
else another of theirs below it (a head teacher's class within the school). A person who no
longer holds any post there gets nothing: the task goes to the lane's holders, with the
reason in the route's notes.
"""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from engine.runtime.hooks import Route, TaskContext

from .directory import subtree, town_code
from .models import Child, RoleAssignment, User
from .roles import ROLE_BY_CODE

FALLBACK_ROLE = "task_force_deputy"
# What routing (and the due policy, ledger.due) reads from a case's data: no form may set it
# (EngineConfig.protected_variables), or a completion could move the case to another child
# and its next task to another village.
ROUTING_VARIABLES = frozenset({"child_id"})
# A human task with one of these routes without its lane (the deploy's lane check knows it).
ROUTING_PROPERTIES = frozenset({"partyRole"})
_SCOPE_FIELD = {"class": "class_code", "school": "school_code", "village": "village_code"}


# Which party a task is about, noted in its route (kept in the task_ready audit event): a
# responsibility agreement (ledger.agreement_tasks), an inspected unit (ledger.inspection_tasks).
PARTY_NOTES = ("agreement_ref", "inspection_ref")


def route_task(task: TaskContext) -> Route:
    """Route hook for the engine (runs inside the engine command's transaction). A task of a
    responsibility agreement notes which agreement it is about (``agreement_ref`` in the
    route's notes, kept in its ``task_ready`` audit event: ``ledger.agreement_tasks``); a task
    of a quarterly inspection which unit it inspects (``inspection_ref`` ``2026Q4/zx``: its
    org unit is the town, or the unit's own for its rectification; ``ledger.inspection_tasks``)."""
    route = _route(task)
    for note in PARTY_NOTES:
        ref = task.data.get(note)
        if isinstance(ref, str) and ref:
            route = replace(route, notes={**route.notes, note: ref})
    return route


def _route(task: TaskContext) -> Route:
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
    route = Route(role=role.code, org_unit=org_unit, subject_id=subject)
    return _named_person(task, route) if task.properties.get("assignee") else route


def _named_person(task: TaskContext, route: Route) -> Route:
    """``route`` claimed by the person the ``assignee`` property names, in their post within
    ``route.org_unit`` (see the module); ``route`` itself when they hold none there."""
    try:
        username = task.evaluate(task.properties["assignee"])
    except Exception as exc:  # noqa: BLE001 - a bad expression must not lose the task
        return replace(route, notes={"reason": f"assignee: {exc}"})
    if not isinstance(username, str) or not username:
        return route
    units = subtree(task.session, route.org_unit)
    posts = [(role, unit) for role, unit in task.session.execute(
        select(RoleAssignment.role, RoleAssignment.org_unit_code).join(User, User.id == RoleAssignment.user_id)
        .where(User.username == username, User.active.is_(True), RoleAssignment.org_unit_code.in_(units))
        .order_by(RoleAssignment.role, RoleAssignment.org_unit_code))]
    if not posts:
        return replace(route, notes={"reason": f"{username} holds no post in {route.org_unit}"})
    role, unit = (route.role, route.org_unit) if (route.role, route.org_unit) in posts else \
        next(((r, u) for r, u in posts if r == route.role), posts[0])
    return replace(route, role=role, org_unit=unit, assignee=username)


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
