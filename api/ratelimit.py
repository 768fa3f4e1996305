"""Signing in with the failed-login throttle, for ``POST /login`` and ``POST /api/v1/auth/token``.

The policy and its figures are ``ledger.login_throttle``'s (README "Sign-in limits"); its
counts are rows in the database, so every server process and both front doors share them.
Here: the client's address (``request.remote_addr``; behind reverse proxies set
``BAOXUE_PROXIES`` so it is the client's, see ``api.app``), the pages' device cookie
(``baoxue_device``: a random id naming this browser, set after a successful sign-in; the
REST API reads no cookies and relies on trusted addresses), and the 429 answer.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Callable

from flask import current_app, request

from engine.errors import EngineError
from ledger import login_throttle
from ledger.accounts import authenticate

DEVICE_COOKIE = "baoxue_device"


class TooManyFailures(EngineError):
    """429: this source must wait ``retry_after`` seconds before trying again."""

    status = 429

    def __init__(self, verdict: login_throttle.Verdict):
        minutes = -(-verdict.retry_after // 60)
        super().__init__(f"登录失败次数过多，请 {minutes} 分钟后再试 (too many failed sign-ins; "
                         f"retry after {verdict.retry_after} s)")
        self.retry_after = verdict.retry_after
        self.minutes = minutes
        self.reason = verdict.reason
        self.headers = {"Retry-After": str(verdict.retry_after)}


@dataclass(frozen=True)
class SignedIn:
    """What ``sign_in`` gives on success: ``issue``'s result, and a new device secret to set
    as the device cookie (None when the browser already had one, or for the API)."""

    credential: object
    new_device: str | None


def sign_in(username: str, password: str, issue: Callable, *, device_cookie: bool) -> SignedIn | None:
    """Check the credentials under the throttle; ``issue(session, user)`` makes the session or
    token in the same transaction. None for wrong credentials (counted); raises
    ``TooManyFailures`` when this source must wait (the password is then not checked)."""
    engine = current_app.extensions["baoxue.engine"]
    device = request.cookies.get(DEVICE_COOKIE) if device_cookie else None
    attempt = login_throttle.Attempt(username, request.remote_addr or "unknown", (device or "")[:64] or None)
    with engine.db.transaction() as session:
        verdict = login_throttle.begin(session, attempt, engine.clock())
    if not verdict.allowed:
        raise TooManyFailures(verdict)
    with engine.db.transaction() as session:
        user = authenticate(session, username, password)
        if user is None:
            return None
        new_device = secrets.token_urlsafe(32) if device_cookie and attempt.device is None else None
        login_throttle.succeeded(session, replace(attempt, device=attempt.device or new_device), engine.clock())
        return SignedIn(issue(session, user), new_device)
