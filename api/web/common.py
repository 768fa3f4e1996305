"""What every page shares: cookie flags, local time, the header, Chinese error pages."""
from __future__ import annotations

from urllib.parse import urlencode

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from urllib.parse import quote

from flask import current_app, redirect, render_template, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from engine.errors import EngineError
from ledger.directory import describe, unit_names
from ledger.models import User

from ..auth import current_principal

log = logging.getLogger(__name__)

STATUS_MESSAGES = {
    400: "请求有误。", 403: "您无权进行此操作。", 404: "页面不存在，或您无权查看。",
    405: "不支持此操作。", 409: "操作冲突：数据已被他人修改，请刷新后重试。", 413: "提交的内容过大。",
    422: "填写的内容不符合要求。", 500: "系统出错，已记录日志。请稍后再试。",
}


def engine():
    return current_app.extensions["baoxue.engine"]


def settings():
    return current_app.extensions["baoxue.settings"]


def cookie_secure() -> bool:
    """The Secure flag for cookies set now (``BAOXUE_SECURE_COOKIES``: auto = over https)."""
    mode = settings().secure_cookies
    return mode == "1" or (mode == "auto" and request.is_secure)


class FlagSessionInterface(SecureCookieSessionInterface):
    """Flask's signed session cookie (CSRF secret, flash messages) with Secure decided per request."""

    def get_cookie_secure(self, app) -> bool:
        return cookie_secure()


def local_time(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An aware datetime or ISO-8601 string in the town's time zone (``BAOXUE_TIMEZONE``)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:  # the engine stores UTC; a naive value is UTC too
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo(settings().timezone)).strftime(fmt)


def display_names(usernames) -> dict[str, str]:
    """{username: display name} for the people named on a page (claims, history)."""
    names = {u for u in usernames if u}
    if not names:
        return {}
    with engine().db.transaction() as session:
        return dict(session.execute(select(User.username, User.display_name).where(User.username.in_(names))).all())


def page_context() -> dict:
    """For the header: who is signed in and as what ("班主任 三年级1班")."""
    principal = current_principal() if not request.path.startswith("/api/") else None
    if principal is None:
        return {"me": None, "my_roles": []}
    with engine().db.transaction() as session:
        names = unit_names(session, {a.org_unit for a in principal.assignments})
    return {"me": principal, "my_roles": [describe(a, names) for a in principal.assignments]}


def error_page(status: int, message: str | None = None, title: str | None = None):
    if status == 413 and message is None:   # the body was not read: say the limit passed
        from ..uploads import too_large_message
        message = too_large_message() + "请用浏览器的“返回”回到上一页修改。"
    body = render_template("error.html", status=status, title=title or f"错误 {status}",
                           message=message or STATUS_MESSAGES.get(status, "出错了。"))
    return body, status


def admins_only(message: str):
    """A ``before_request`` for administrators' pages: a stranger is sent to /login, anyone
    else gets the Chinese 403 page with ``message``, before a form is read."""
    def guard():
        principal = current_principal()
        if principal is None:
            return redirect(f"/login?next={quote(request.full_path.rstrip('?'), safe='/')}")
        if not principal.is_admin:
            return error_page(403, message, "无权访问")
        return None
    return guard


def page_error_handlers(blueprint) -> None:
    """Errors raised in page views answer with a Chinese HTML page, not the API's JSON."""

    @blueprint.errorhandler(EngineError)
    def engine_error(exc: EngineError):
        return error_page(exc.status)

    @blueprint.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return error_page(exc.code or 500)

    @blueprint.errorhandler(OverflowError)
    @blueprint.errorhandler(DataError)
    def number_too_large(exc: Exception):
        # An id beyond what the database stores (/admin/users/99999999999999999999).
        return error_page(400, "输入的值超出范围或格式不对（如过大的编号），请检查后重试。")

    @blueprint.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_page(500)


def page_number(raw) -> int:
    """The ``?page=`` of a list page: 1..10000, anything else is page 1."""
    try:
        return min(max(int(raw), 1), 10_000)
    except (TypeError, ValueError):
        return 1


def page_url(path: str, filters: dict, page: int) -> str:
    """``path`` with the list's filters and ``page`` as the query string."""
    return f"{path}?" + urlencode({**filters, "page": page})
