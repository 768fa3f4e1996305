"""Account administration: list, create, change, disable users; grant and revoke (role, org unit).

The use cases behind ``/api/v1/users`` and ``baoxue users``. Each takes the caller's session
(one transaction) and the actor's username; every change writes an ``AccessLog`` row
(action ``change``, subject ``user:<id>``) in that same transaction. Passwords and hashes are
never returned or logged.

Rules (DOMAIN.md "Organisations and roles"; CONTRACT.md error statuses):
* username: 2-120 of ``A-Z a-z 0-9 _ . -``, unique ignoring case → 422 / 409;
* password: ``ledger.passwords.problem`` (8-128 characters after NFKC, not only spaces, not
  the username, not common or guessable) → 422;
* role: a domain role (``ledger.roles``) or ``admin``; the org unit must exist and be of the
  kind the role's scope names (a head teacher sits at a class, a grid worker at a village;
  town- and county-scope roles and ``admin`` at the town, where ledger.routing sends
  their tasks) → 422 with ``errors`` keyed ``roles.<i>.role`` / ``roles.<i>.org_unit``
  (``role`` / ``org_unit`` for a single grant);
* disabling keeps the account, its assignments, tasks and history; it ends the user's web
  sessions and API tokens at once (so does a password reset). An admin cannot disable
  themselves or drop their own ``admin`` grant (409): that would lock the town out.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.audit import append_event, instance_stream
from engine.errors import Conflict, InvalidInput, NotFound
from engine.persistence.models import HumanTask
from engine.runtime.locking import lock_instances

from . import passwords
from .accounts import hash_password
from .directory import role_name, unit_names
from .access_log import log_access
from .models import ApiToken, OrgUnit, RoleAssignment, User, WebSession
from .roles import ROLE_BY_CODE, SYSTEM_ADMIN

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,119}$")
PHONE = re.compile(r"^[0-9+\- ]{3,32}$")
_KINDS_FOR_SCOPE = {"town": "town", "county": "town", "school": "school", "class": "class", "village": "village"}
UPDATABLE = ("display_name", "phone", "active", "password")


def list_users(session: Session, *, role: str | None = None, org_unit: str | None = None,
               q: str | None = None) -> list[dict]:
    """Users by username; ``role``/``org_unit`` filter on one held pair, ``q`` on username or name."""
    query = select(User).order_by(User.username)
    if role or org_unit:
        held = select(RoleAssignment.user_id)
        if role:
            held = held.where(RoleAssignment.role == role)
        if org_unit:
            held = held.where(RoleAssignment.org_unit_code == org_unit)
        query = query.where(User.id.in_(held))
    if q and q.strip():
        text = q.strip()
        query = query.where(User.username.icontains(text, autoescape=True)
                            | User.display_name.icontains(text, autoescape=True))
    return _views(session, list(session.scalars(query)))


def get_user(session: Session, user_id: int) -> dict:
    """One user with ``claimed_open_tasks`` (open tasks they hold: a supervisor may reassign them)."""
    user = _user(session, user_id)
    view = _views(session, [user])[0]
    view["claimed_open_tasks"] = session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.status == "open", HumanTask.assignee == user.username))
    return view


def create_account(session: Session, actor: str, *, username: str, display_name: str, password: str,
                   now: datetime, phone: str | None = None, roles: list[dict] = ()) -> dict:
    """Create an active user holding ``roles`` ([{role, org_unit}]); 422 on bad input, 409 if taken."""
    username, display_name = (username or "").strip(), (display_name or "").strip()
    errors = {}
    if not USERNAME.match(username):
        errors["username"] = "用户名须为2-120位字母、数字或 _ . - (letters, digits, _ . - only)"
    _check_display_name(display_name, errors)
    _check_phone(phone, errors)
    _check_password(password, username, display_name, errors)
    pairs = []
    for i, item in enumerate(roles):
        pair = (item.get("role"), item.get("org_unit"))
        _check_grant(session, *pair, errors, prefix=f"roles.{i}.")
        if pair in pairs:
            errors[f"roles.{i}.role"] = "重复的角色分配 (duplicate assignment)"
        pairs.append(pair)
    if errors:
        raise InvalidInput("账号信息有误 (invalid account)", errors=errors)
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise Conflict(f"用户名 {username} 已存在 (username taken)", errors={"username": "用户名已存在 (taken)"})
    user = User(username=username, display_name=display_name, phone=phone or None, active=True,
                password_hash=hash_password(password), created_at=now)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:   # a concurrent create won the race for the name
        raise Conflict(f"用户名 {username} 已存在 (username taken)", errors={"username": "用户名已存在 (taken)"})
    session.add_all(RoleAssignment(user_id=user.id, role=r, org_unit_code=o) for r, o in pairs)
    _log(session, actor, user.id, now, op="create", username=username,
         roles=[f"{r}@{o}" for r, o in pairs])
    session.flush()
    return get_user(session, user.id)


def update_account(session: Session, actor: str, user_id: int, changes: dict, now: datetime) -> dict:
    """Apply any of ``display_name, phone, active, password``; disabling or a new password
    revokes the user's sessions and tokens. 404 unknown user, 409 self-disable, 422 bad value."""
    user = _user(session, user_id)
    changes = {key: value for key, value in changes.items() if key in UPDATABLE}
    if not changes:
        return get_user(session, user.id)
    errors = {}
    if "display_name" in changes:
        changes["display_name"] = (changes["display_name"] or "").strip()
        _check_display_name(changes["display_name"], errors)
    if "phone" in changes:
        _check_phone(changes["phone"], errors)
    if "password" in changes:
        _check_password(changes["password"], user.username, changes.get("display_name") or user.display_name,
                        errors)
    if "active" in changes and not isinstance(changes["active"], bool):
        errors["active"] = "须为 true 或 false (must be a boolean)"
    if errors:
        raise InvalidInput("账号信息有误 (invalid account)", errors=errors)
    if changes.get("active") is False and user.username == actor:
        raise Conflict("不能停用自己的账号 (you cannot disable your own account)")
    if "display_name" in changes:
        user.display_name = changes["display_name"]
    if "phone" in changes:
        user.phone = changes["phone"] or None
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
    if "active" in changes and changes["active"] != user.active:
        user.active = changes["active"]
        user.disabled_at = None if user.active else now
    if changes.get("active") is False or "password" in changes:
        _revoke_credentials(session, user.id, now)
    if changes.get("active") is False:
        _release_claims(session, actor, user.username, now, reason="account disabled")
    logged = {key: value for key, value in changes.items() if key != "password"}
    _log(session, actor, user.id, now, op="update", fields=sorted(changes), **logged)
    session.flush()
    return get_user(session, user.id)


def grant(session: Session, actor: str, user_id: int, role: str, org_unit: str, now: datetime) -> dict:
    """Give the user (role, org unit); 409 if already held. Takes effect on their next request."""
    user = _user(session, user_id)
    errors = {}
    _check_grant(session, role, org_unit, errors)
    if errors:
        raise InvalidInput("角色分配有误 (invalid assignment)", errors=errors)
    if _assignment(session, user.id, role, org_unit) is not None:
        raise Conflict(f"{user.username} 已有 {role_name(role)}@{org_unit} (already held)")
    session.add(RoleAssignment(user_id=user.id, role=role, org_unit_code=org_unit))
    _log(session, actor, user.id, now, op="grant", role=role, org_unit=org_unit)
    session.flush()
    return get_user(session, user.id)


def revoke(session: Session, actor: str, user_id: int, role: str, org_unit: str, now: datetime) -> dict:
    """Take (role, org unit) away; 404 if not held, 409 for one's own ``admin``.

    The person's claims on open tasks of that (role, org unit) are released in the same
    transaction (audited as unclaims), as disabling an account does: the pair's new holders
    can take them at once. Access follows the pairs held, so the person's access to those
    tasks and their children ends with this commit (ledger.access). Returns the user's view
    with ``released_tasks``: how many claims went back.
    """
    user = _user(session, user_id)
    row = _assignment(session, user.id, role, org_unit)
    if row is None:
        raise NotFound(f"{user.username} 没有 {role_name(role)}@{org_unit} (not held)")
    if role == SYSTEM_ADMIN and user.username == actor:
        raise Conflict("不能撤销自己的管理员角色 (you cannot drop your own admin role)")
    session.delete(row)
    released = _release_claims(session, actor, user.username, now, reason="role revoked",
                               only=(HumanTask.candidate_role == role, HumanTask.org_unit == org_unit))
    _log(session, actor, user.id, now, op="revoke", role=role, org_unit=org_unit, released_tasks=released)
    session.flush()
    return {**get_user(session, user.id), "released_tasks": released}


def unit_kind_for(role: str | None) -> str | None:
    """The kind of org unit ``role`` is granted at (``class``, ``school``, ``village`` or ``town``),
    None for an unknown role: the rule ``grant`` and ``create_account`` check, for forms to offer."""
    scope = "town" if role == SYSTEM_ADMIN else getattr(ROLE_BY_CODE.get(role or ""), "scope", None)
    return _KINDS_FOR_SCOPE[scope] if scope else None


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在 (user not found)")
    return user


def _assignment(session: Session, user_id: int, role: str, org_unit: str) -> RoleAssignment | None:
    return session.scalar(select(RoleAssignment).where(
        RoleAssignment.user_id == user_id, RoleAssignment.role == role, RoleAssignment.org_unit_code == org_unit))


def _check_display_name(name: str, errors: dict) -> None:
    if not name or len(name) > 120:
        errors["display_name"] = "显示名须为1-120个字符 (1-120 characters)"


def _check_phone(phone, errors: dict) -> None:
    if phone and not (isinstance(phone, str) and PHONE.match(phone)):
        errors["phone"] = "电话号码格式不正确 (digits, +, - only)"


def _check_password(password, username: str, display_name: str, errors: dict) -> None:
    message = passwords.problem(password, username, display_name)
    if message:
        errors["password"] = message


def valid_roles() -> list[str]:
    """Every role code an account may hold: the domain's (``ledger.roles``), then ``admin``."""
    return [*ROLE_BY_CODE, SYSTEM_ADMIN]


def _check_grant(session: Session, role, org_unit, errors: dict, prefix: str = "") -> None:
    scope = "town" if role == SYSTEM_ADMIN else getattr(ROLE_BY_CODE.get(role or ""), "scope", None)
    if scope is None:
        errors[prefix + "role"] = f"未知角色 {role!r} (unknown role); 可选 (valid): {', '.join(valid_roles())}"
        return
    kind = session.scalar(select(OrgUnit.kind).where(OrgUnit.code == org_unit)) if org_unit else None
    if kind is None:
        errors[prefix + "org_unit"] = f"未知单位 {org_unit!r} (unknown org unit)"
    elif kind != _KINDS_FOR_SCOPE[scope]:
        errors[prefix + "org_unit"] = (f"{role_name(role)}须分配到{_KIND_ZH[_KINDS_FOR_SCOPE[scope]]}，"
                                       f"{org_unit} 是{_KIND_ZH.get(kind, kind)} (wrong kind of org unit)")


_KIND_ZH = {"town": "镇", "school": "学校", "grade": "年级", "class": "班级", "village": "村（场、社区）",
            "teaching_point": "教学点"}


def _revoke_credentials(session: Session, user_id: int, now: datetime) -> None:
    session.execute(update(WebSession).where(WebSession.user_id == user_id, WebSession.revoked.is_(False))
                    .values(revoked=True))
    session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                    .values(revoked_at=now))


def _release_claims(session: Session, actor: str, username: str, now: datetime, *, reason: str,
                    only: tuple = ()) -> int:
    """The person's claimed open tasks (those matching ``only``, SQL conditions) go back to
    their candidates, audited as unclaims with ``reason``, so colleagues can take them
    instead of waiting for a supervisor (a disabled account, a revoked role). Returns how many."""
    # Instances locked in id order first (engine.runtime.locking), then rows in that order.
    claimed = (select(HumanTask).where(HumanTask.status == "open", HumanTask.assignee == username, *only)
               .order_by(HumanTask.instance_id, HumanTask.id))
    lock_instances(session, [task.instance_id for task in session.scalars(claimed)])
    released = 0
    for task in session.scalars(claimed.execution_options(populate_existing=True)):
        released += 1
        task.assignee = None
        append_event(session, instance_stream(task.instance_id), "task_unclaimed", at=now, actor=actor,
                     instance_id=task.instance_id, element_id=task.element_id, task_id=task.id,
                     data={"assignee": None, "previous": username, "reason": reason})
    return released


def _log(session: Session, actor: str, user_id: int, now: datetime, **detail) -> None:
    log_access(session, actor, "change", f"user:{user_id}", detail, now)


def _views(session: Session, users: list[User]) -> list[dict]:
    """``{id, username, display_name, phone, active, created_at, disabled_at, roles: [{role,
    role_name, org_unit, org_unit_name}]}`` per user (two queries for any number of users)."""
    ids = [u.id for u in users]
    rows = session.execute(select(RoleAssignment.user_id, RoleAssignment.role, RoleAssignment.org_unit_code)
                           .where(RoleAssignment.user_id.in_(ids))
                           .order_by(RoleAssignment.role, RoleAssignment.org_unit_code)).all() if ids else []
    names = unit_names(session, {org for _, _, org in rows})
    roles: dict[int, list[dict]] = {}
    for user_id, role, org in rows:
        roles.setdefault(user_id, []).append({"role": role, "role_name": role_name(role), "org_unit": org,
                                              "org_unit_name": names.get(org, org)})
    return [{"id": u.id, "username": u.username, "display_name": u.display_name, "phone": u.phone,
             "active": u.active, "created_at": u.created_at, "disabled_at": u.disabled_at,
             "roles": roles.get(u.id, [])} for u in users]
