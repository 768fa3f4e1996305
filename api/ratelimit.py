"""Failed-login rate limits, per username and per client address (Flask-Limiter).

Only failures count (a 401 response), so a user who types the password right is never
held back by someone else's attempts from another address. Storage is in-process by
default; set ``BAOXUE_RATELIMIT_STORAGE`` (e.g. ``redis://127.0.0.1:6379``) when several
gunicorn workers must share the counts.
"""
from __future__ import annotations

import os

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

PER_USERNAME = "5 per 5 minutes"
PER_ADDRESS = "20 per 5 minutes"

limiter = Limiter(key_func=get_remote_address,
                  storage_uri=os.environ.get("BAOXUE_RATELIMIT_STORAGE", "memory://"),
                  strategy="moving-window")


def _username() -> str:
    data = request.get_json(silent=True) if request.is_json else request.form
    name = (data or {}).get("username", "") if isinstance(data, dict) or hasattr(data, "get") else ""
    return f"user:{str(name).strip().lower()[:120]}"


def _failed(response) -> bool:
    return response.status_code == 401 or (response.status_code == 200 and getattr(response, "login_failed", False))


def login_limits(view):
    """Decorate a login endpoint with both limits (failures only)."""
    view = limiter.limit(PER_USERNAME, key_func=_username, deduct_when=_failed,
                         error_message="登录失败次数过多，请5分钟后再试 (too many failed logins for this user)")(view)
    return limiter.limit(PER_ADDRESS, deduct_when=_failed,
                         error_message="登录失败次数过多，请5分钟后再试 (too many failed logins from this address)")(view)
