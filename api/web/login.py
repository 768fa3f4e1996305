"""Signing in and out of the pages: ``/``, ``/login`` and ``/logout``.

The session is server-side (``ledger.accounts``: 30 minutes idle, 12 hours at most); the
cookie only carries its random id, HttpOnly and SameSite=Lax, and lives no longer than
the session's maximum. Failed logins are throttled with the API's counts (``api.ratelimit``,
``ledger.login_throttle``): a source that must wait gets the login page with 429, the wait in
Chinese and ``Retry-After``. A successful login also leaves a device cookie (``baoxue_device``,
path /login, HttpOnly, 90 days): this browser is then trusted for this user, so failures made
elsewhere never keep it out.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request

from ledger.accounts import SESSION_MAX, close_web_session, open_web_session
from ledger.login_throttle import TRUST_FOR

from ..auth import SESSION_COOKIE, current_principal
from ..ratelimit import DEVICE_COOKIE, TooManyFailures, sign_in
from .common import cookie_secure, engine

bp = Blueprint("login", __name__)

DEFAULT_NEXT = "/inbox"
TOO_MANY = "登录失败次数过多，请 {minutes} 分钟后再试。"
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
def login():
    """Check the credentials; on success open a session and go to ``next`` (a local path).
    A wrong password: 200 with the error; a source that must wait: 429 (``Retry-After``)."""
    username = request.form.get("username", "").strip()[:120]
    password = request.form.get("password", "")[:200]
    target = safe_next(request.form.get("next"))
    eng = engine()
    try:
        signed_in = sign_in(username, password, lambda session, user: open_web_session(session, user, eng.clock()),
                            device_cookie=True) if username and password else None
    except TooManyFailures as exc:
        body = render_template("login.html", next=target, username=username,
                               error=TOO_MANY.format(minutes=exc.minutes))
        return body, 429, exc.headers
    if signed_in is None:
        return render_template("login.html", next=target, username=username, error=WRONG)
    old = request.cookies.get(SESSION_COOKIE)
    if old:  # a fresh id on every login: a planted cookie never becomes a live session
        with eng.db.transaction() as session:
            close_web_session(session, old)
    response = redirect(target)
    response.set_cookie(SESSION_COOKIE, signed_in.credential, max_age=int(SESSION_MAX.total_seconds()), path="/",
                        httponly=True, samesite="Lax", secure=cookie_secure())
    if signed_in.new_device:
        response.set_cookie(DEVICE_COOKIE, signed_in.new_device, max_age=int(TRUST_FOR.total_seconds()),
                            path="/login", httponly=True, samesite="Lax", secure=cookie_secure())
    return response


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
