"""Signing in and out of the pages: ``/``, ``/login`` and ``/logout``.

The session is server-side (``ledger.accounts``: 30 minutes idle, 12 hours at most); the
cookie only carries its random id, HttpOnly and SameSite=Lax, and lives no longer than
the session's maximum. Failed logins are rate limited like the API's (``login_limits``):
a wrong password answers 200 with ``login_failed`` set, which the limiter counts.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, make_response, redirect, render_template, request

from ledger.accounts import SESSION_MAX, authenticate, close_web_session, open_web_session

from ..auth import SESSION_COOKIE, current_principal
from ..ratelimit import login_limits
from .common import cookie_secure, engine

bp = Blueprint("login", __name__)

DEFAULT_NEXT = "/inbox"
TOO_MANY = "登录失败次数过多，请 5 分钟后再试。"
WRONG = "用户名或密码错误"


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else /inbox (no open redirect).

    Rejects absolute and scheme-relative URLs (``//evil``), backslashes (browsers read
    ``/\\evil`` as ``//evil``) and control characters.
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return DEFAULT_NEXT
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        return DEFAULT_NEXT
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith(("/login", "/logout")):
        return DEFAULT_NEXT
    return target


@bp.get("/")
def index():
    return redirect("/inbox" if current_principal() else "/login")


@bp.get("/login")
def login_form():
    if current_principal() is not None:
        return redirect(safe_next(request.args.get("next")))
    return render_template("login.html", next=safe_next(request.args.get("next")), username="")


@bp.post("/login")
@login_limits
def login():
    """Check the credentials; on success open a session and go to ``next`` (a local path)."""
    username = request.form.get("username", "").strip()[:120]
    password = request.form.get("password", "")[:200]
    target = safe_next(request.form.get("next"))
    eng = engine()
    user = None
    if username and password:
        with eng.db.transaction() as session:
            user = authenticate(session, username, password)
            secret = open_web_session(session, user, eng.clock()) if user is not None else None
    if user is None:
        response = make_response(render_template("login.html", next=target, username=username, error=WRONG))
        response.login_failed = True  # counted by login_limits (a 200 page, not a 401)
        return response
    old = request.cookies.get(SESSION_COOKIE)
    if old:  # a fresh id on every login: a planted cookie never becomes a live session
        with eng.db.transaction() as session:
            close_web_session(session, old)
    response = redirect(target)
    response.set_cookie(SESSION_COOKIE, secret, max_age=int(SESSION_MAX.total_seconds()), path="/",
                        httponly=True, samesite="Lax", secure=cookie_secure())
    return response


@bp.errorhandler(429)
def too_many(exc):
    """The limiter's answer, as the login page with the reason in Chinese."""
    target = safe_next(request.form.get("next") or request.args.get("next"))
    body = render_template("login.html", next=target, username=request.form.get("username", "")[:120],
                           error=TOO_MANY)
    return body, 429


@bp.post("/logout")
def logout():
    """Revoke the session server-side and drop the cookie."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with engine().db.transaction() as session:
            close_web_session(session, secret)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Lax", secure=cookie_secure())
    return response
