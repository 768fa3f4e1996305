"""Who holds which role where: the directory the engine's routing and the inbox ask.

Membership is read at query time, never copied into tasks, so a newly appointed head
teacher sees the open tasks of the class at once (issue: staff inbox).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import OrgUnit, RoleAssignment, User
from .roles import ROLE_BY_CODE, SYSTEM_ADMIN


@dataclass(frozen=True)
class Assignment:
    role: str
    org_unit: str


def town_code(session: Session) -> str:
    """The root org unit (kind ``town``). Raises LookupError if the town is not set up."""
    code = session.scalar(select(OrgUnit.code).where(OrgUnit.kind == "town", OrgUnit.parent_code.is_(None)))
    if code is None:
        raise LookupError("no town org unit: run `baoxue init --demo` or create the town first")
    return code


def assignments_of(session: Session, user_id: int) -> list[Assignment]:
    rows = session.execute(select(RoleAssignment.role, RoleAssignment.org_unit_code)
                           .where(RoleAssignment.user_id == user_id)
                           .order_by(RoleAssignment.role, RoleAssignment.org_unit_code))
    return [Assignment(role, org) for role, org in rows]


def holders(session: Session, role: str, org_unit: str) -> list[User]:
    """Active users holding ``role`` in ``org_unit``."""
    return list(session.scalars(
        select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role == role, RoleAssignment.org_unit_code == org_unit, User.active.is_(True))
        .order_by(User.username)))


def subtree(session: Session, code: str) -> set[str]:
    """``code`` and every org unit below it (a school's grades and classes, say)."""
    units = session.execute(select(OrgUnit.code, OrgUnit.parent_code)).all()
    children: dict[str | None, list[str]] = {}
    for unit_code, parent in units:
        children.setdefault(parent, []).append(unit_code)
    found, stack = set(), [code]
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(children.get(current, []))
    return found


def is_admin(assignments: list[Assignment]) -> bool:
    return any(a.role == SYSTEM_ADMIN for a in assignments)


def describe(assignment: Assignment, names: dict[str, str]) -> str:
    """"班主任 蛟潭中心学校三年级2班" style label."""
    return f"{role_name(assignment.role)} {names.get(assignment.org_unit, assignment.org_unit)}"


def unit_names(session: Session, codes) -> dict[str, str]:
    codes = {c for c in codes if c}
    if not codes:
        return {}
    return dict(session.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.code.in_(codes))).all())


def role_name(code: str | None) -> str:
    role = ROLE_BY_CODE.get(code or "")
    return role.name_zh if role else ("系统管理员" if code == SYSTEM_ADMIN else (code or ""))
