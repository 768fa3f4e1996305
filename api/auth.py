"""Who is calling: bearer tokens for /api, server-side sessions for pages.

The REST API accepts only ``Authorization: Bearer`` tokens, never the session cookie, so
it needs no CSRF token; pages use the session cookie and CSRF-protected forms.
``current_principal()`` is resolved once per request and carries the caller's roles.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from urllib.parse import quote

from flask import current_app, g, redirect, request

from engine.errors import EngineError, Forbidden
from ledger.accounts import resolve_token, resolve_web_session
from ledger.directory import Assignment, assignments_of
from ledger.roles import SYSTEM_ADMIN

SESSION_COOKIE = "baoxue_session"


class Unauthorized(EngineError):
    status = 401


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    assignments: tuple[Assignment, ...]

    @property
    def is_admin(self) -> bool:
        return any(a.role == SYSTEM_ADMIN for a in self.assignments)

    def holds(self, role: str, org_unit: str | None = None) -> bool:
        return any(a.role == role and (org_unit is None or a.org_unit == org_unit) for a in self.assignments)

    def units(self, role: str) -> set[str]:
        return {a.org_unit for a in self.assignments if a.role == role}

    def pairs(self) -> set[tuple[str, str]]:
        return {(a.role, a.org_unit) for a in self.assignments}


def _engine():
    return current_app.extensions["baoxue.engine"]


def _principal_for(resolve, secret: str) -> Principal | None:
    engine = _engine()
    with engine.db.transaction() as session:
        user = resolve(session, secret, engine.clock())
        if user is None:
            return None
        return Principal(user.id, user.username, user.display_name,
                         tuple(assignments_of(session, user.id)))


def current_principal() -> Principal | None:
    if "principal" not in g:
        g.principal = None
        if request.path.startswith("/api/"):
            header = request.headers.get("Authorization", "")
            if header.startswith("Bearer ") and header[7:].strip():
                g.principal = _principal_for(resolve_token, header[7:].strip())
        else:
            secret = request.cookies.get(SESSION_COOKIE)
            if secret:
                g.principal = _principal_for(resolve_web_session, secret)
    return g.principal


def api_user() -> Principal:
    """The caller of an API endpoint; raises 401 without a valid bearer token."""
    principal = current_principal()
    if principal is None:
        raise Unauthorized("missing, expired or revoked bearer token")
    return principal


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("administrators only")


def login_required(view):
    """For pages: redirect to /login when there is no live session."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_principal() is None:
            return redirect(f"/login?next={quote(request.full_path.rstrip('?'), safe='/')}")
        return view(*args, **kwargs)
    return wrapper
