"""Accounts: passwords, web sessions and API tokens.

Passwords are hashed with werkzeug's scrypt, in the NFKC form ``ledger.passwords`` checks. Session ids and tokens are random, given to
the client once, and stored only as SHA-256 hashes, so a database leak does not leak
live credentials.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from engine.errors import InvalidInput

from .models import ApiToken, RoleAssignment, User, WebSession
from .passwords import normalise, problem

SESSION_IDLE = timedelta(minutes=30)
SESSION_MAX = timedelta(hours=12)
TOKEN_LIFETIME = timedelta(hours=12)
# Compared against when the username is unknown, so both paths cost one scrypt check.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


# werkzeug's default scrypt cost (N=2**15). The hash records its own cost, so checking a
# password reads it from there; the test suite lowers this for its seeded users only.
PASSWORD_METHOD = "scrypt"


def hash_password(password: str) -> str:
    """The stored hash of ``password`` (NFKC-normalised). Checks nothing: callers setting a
    person's password check it first (``ledger.passwords.problem``)."""
    return generate_password_hash(normalise(password), method=PASSWORD_METHOD)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost either way). The username
    matches whatever its case, as it is unique whatever its case (``ledger.users``)."""
    user = session.scalar(select(User).where(func.lower(User.username) == (username or "").strip().lower()))
    password = normalise(password)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def create_user(session: Session, username: str, display_name: str, password: str, *, now: datetime,
                phone: str | None = None, roles: list[tuple[str, str]] = ()) -> User:
    """Create an active user without the checks of ``ledger.users.create_account`` (seeding),
    except the password rule: InvalidInput ``{password: 中文}`` for a weak password."""
    message = problem(password, username, display_name)
    if message:
        raise InvalidInput("密码不符合要求 (weak password)", errors={"password": message})
    user = User(username=username, display_name=display_name, phone=phone, active=True,
                password_hash=hash_password(password), created_at=now)
    session.add(user)
    session.flush()
    for role, org in roles:
        session.add(RoleAssignment(user_id=user.id, role=role, org_unit_code=org))
    return user


def open_web_session(session: Session, user: User, now: datetime) -> str:
    """Start a web session; returns the secret for the cookie."""
    secret = secrets.token_urlsafe(32)
    session.add(WebSession(id_hash=_digest(secret), user_id=user.id, created_at=now, last_seen_at=now,
                           expires_at=now + SESSION_MAX))
    return secret


def resolve_web_session(session: Session, secret: str, now: datetime) -> User | None:
    """The user of a live session (sliding idle expiry, absolute maximum), else None."""
    row = session.get(WebSession, _digest(secret))
    if row is None or row.revoked or row.expires_at <= now or row.last_seen_at + SESSION_IDLE <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.last_seen_at = now
    return user


def close_web_session(session: Session, secret: str) -> None:
    session.execute(update(WebSession).where(WebSession.id_hash == _digest(secret)).values(revoked=True))


def issue_token(session: Session, user: User, now: datetime) -> tuple[str, datetime]:
    secret = secrets.token_urlsafe(32)
    expires = now + TOKEN_LIFETIME
    session.add(ApiToken(token_hash=_digest(secret), user_id=user.id, created_at=now, expires_at=expires))
    return secret, expires


def resolve_token(session: Session, secret: str, now: datetime) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def revoke_token(session: Session, secret: str, now: datetime) -> bool:
    result = session.execute(update(ApiToken).where(ApiToken.token_hash == _digest(secret),
                                                    ApiToken.revoked_at.is_(None)).values(revoked_at=now))
    return bool(result.rowcount)
