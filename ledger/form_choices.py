"""People a form may name: the ``form_choices`` hook of the engine (``x-choicesFrom``).

A form field that names colleagues (the teachers of a home-teaching plan, issue 11) holds
their usernames, chosen from a list, never typed: a name typed as text cannot route a task
to its person. The field's schema says whom it offers::

    "plan_teacher": {"type": "string", "x-choicesFrom": {"accounts": ["home_teacher", "head_teacher"],
                                                         "within": "school"}}

``accounts``: role codes (``ledger.roles``); ``within``: ``"school"`` (the school of the
task's org unit, its grades and classes included) or ``"unit"`` (default: the task's org
unit and the units below it). A task sent to the fallback (the town) looks in its child's
school instead. Offered: the active users holding one of the roles there, as ``(username,
"display name（role names）")``, ordered by display name (code point order, the same on
every database). The engine refuses any other value with
422 naming the field (``engine.runtime.formvalidation``); pages draw the same list
(``engine.tasks.choices``). A rule this module does not know offers nobody.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.runtime.hooks import ChoiceContext

from .directory import role_name, subtree
from .models import Child, OrgUnit, RoleAssignment, User
from .roles import ROLE_BY_CODE

WITHIN = ("unit", "school")


def form_choices(task: ChoiceContext, rule) -> list[tuple[str, str]]:
    """The engine's ``form_choices`` hook (see the module); runs in the caller's session."""
    roles, within = _rule(rule)
    session = task.session
    if not roles or session is None:
        return []
    base = task.org_unit if within == "unit" else school_of(session, task.org_unit) or _child_school(session, task)
    if not base:
        return []
    units = subtree(session, base)
    held: dict[str, tuple[str, list[str]]] = {}
    for username, name, role in session.execute(
            select(User.username, User.display_name, RoleAssignment.role)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.role.in_(roles), RoleAssignment.org_unit_code.in_(units), User.active.is_(True))
            .order_by(RoleAssignment.role)):
        entry = held.setdefault(username, (name, []))
        if role_name(role) not in entry[1]:
            entry[1].append(role_name(role))
    # Sorted here, not by the database: its collation would order names differently per engine.
    return [(username, f"{name}（{'、'.join(titles)}）")
            for username, (name, titles) in sorted(held.items(), key=lambda item: (item[1][0], item[0]))]


def _rule(rule) -> tuple[list[str], str]:
    """(known role codes, within) of a rule; ([], ...) for one this module does not know."""
    if not isinstance(rule, dict) or not isinstance(rule.get("accounts"), list):
        return [], "unit"
    within = rule.get("within", "unit")
    if within not in WITHIN:
        return [], "unit"
    return [code for code in rule["accounts"] if isinstance(code, str) and code in ROLE_BY_CODE], within


def school_of(session: Session, unit_code: str | None) -> str | None:
    """The school ``unit_code`` is (or lies under: a grade, a class), else None."""
    seen = set()
    while unit_code and unit_code not in seen:
        seen.add(unit_code)
        unit = session.get(OrgUnit, unit_code)
        if unit is None:
            return None
        if unit.kind == "school":
            return unit.code
        unit_code = unit.parent_code
    return None


def _child_school(session: Session, task: ChoiceContext) -> str | None:
    try:
        child = session.get(Child, int(task.subject_id)) if task.subject_id else None
    except (TypeError, ValueError):
        return None
    return child.school_code if child else None


def display_names(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    """``{username: display name}`` of the accounts named (a username no account has is left out)."""
    wanted = {u for u in usernames if isinstance(u, str) and u}
    if not wanted:
        return {}
    return dict(session.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all())


def named(usernames, names: dict[str, str]) -> str:
    """One username or a list of them as the people's display names, joined by "、"; an
    account gone shows as 已删除账号 (a login is never shown for a name)."""
    listed = usernames if isinstance(usernames, list) else [usernames] if usernames else []
    return "、".join(names.get(u, "已删除账号") for u in listed if isinstance(u, str) and u)
