"""The staff pages (zh-CN): login, inbox, task. Server-rendered HTML, no JS framework.

``register(app)`` is called once by the factory. It sets up, for pages only:

* CSRF (Flask-WTF ``CSRFProtect``) on every POST outside ``/api/``. The REST API is exempt
  by path rather than blueprint by blueprint: it accepts only bearer tokens and never
  reads the session cookie (``api.auth.current_principal``), so a forged cross-site
  request has no credential to ride on, and a REST blueprint added later is exempt too.
* the cookies' flags: HttpOnly, SameSite=Lax, Secure per ``BAOXUE_SECURE_COOKIES``;
  security headers on HTML pages (CSP, no framing, no caching);
* Jinja helpers (local time, the header) and Chinese error pages;
* the blueprints: ``login`` (/, /login, /logout), ``inbox`` (/inbox), ``tasks`` (/tasks/<id>),
  ``admin`` (/admin/users: accounts, administrators only), ``access_log``
  (/admin/access-log: who saw which personal record, administrators only), ``incidents`` (/admin/incidents:
  failed steps, retry or resolve; /admin/check: the last consistency check), ``attendance`` (/attendance:
  daily attendance), ``children`` (/children: the register, dropout-tendency flag),
  ``calendar`` (/calendar: school days), ``documents`` (/instances/<id>/documents/<kind>:
  a case's printable documents), ``agreements`` (/agreements: responsibility agreements,
  their register and signed documents), ``photos`` (/instances/<id>/photos/<n>: photos sent
  with a case's tasks), ``ht_documents`` (/instances/<id>/home-teaching/...: a home-teaching
  case's printable plan and term record of visits), ``trace`` (/instances/<id>/verify, /print,
  /trace.json and the diagram's data: the trace of a case for those who check it),
  ``inspections`` (/inspections: quarterly inspection rounds, their notices and summary reports),
  ``case_list`` (/instances: the cases one may trace, filtered and counted, and their Excel export),
  ``processes`` (/processes: the deployed processes, their versions, diagrams and diffs),
  ``migration`` (/instances/<id>/suspend|resume|terminate|migrate, /processes/<key>/migrate: running
  cases across versions, administrators only),
  ``process_editor`` (/processes/<key>/edit: the BPMN and form editor, drafts and deploy, administrators only),
  ``dashboard`` (/dashboard: the month's figures per town, school and village, with charts and tables).
"""
from __future__ import annotations

from flask import Blueprint, Flask, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from ledger.accounts import SESSION_MAX

csrf = CSRFProtect()


def register(app: Flask) -> None:
    from . import (access_log, admin, agreements, attendance, calendar, case_list, cases, children, common,
                   dashboard, documents, ht_documents, inbox, incidents, inspections, login, migration, photos,
                   process_editor, processes, tasks, trace)

    app.config.update(
        # Checked by _protect_pages below (pages only), not by Flask-WTF's default hook.
        WTF_CSRF_CHECK_DEFAULT=False,
        # A form may stay open as long as a session may live; the session ends it anyway.
        WTF_CSRF_TIME_LIMIT=int(SESSION_MAX.total_seconds()),
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
    )
    csrf.init_app(app)
    app.before_request(_protect_pages)
    app.after_request(_page_headers)
    app.session_interface = common.FlagSessionInterface()
    app.jinja_env.filters["local_time"] = common.local_time
    app.context_processor(common.page_context)

    @app.errorhandler(CSRFError)
    def csrf_failed(exc: CSRFError):
        # A stale or missing token: nothing was done; the person should reload the page.
        return common.error_page(400, "页面已过期或来源不明，本次操作未执行。请返回并刷新页面后重试。")

    pages = Blueprint("web", __name__)
    for module in (login, inbox, tasks, case_list, cases, trace, admin, access_log, incidents, attendance, children,
                   calendar, documents, agreements, photos, ht_documents, inspections, processes, migration,
                   dashboard):
        pages.register_blueprint(module.bp)
    pages.register_blueprint(process_editor.bp)
    pages.register_blueprint(process_editor.api)
    common.page_error_handlers(pages)
    app.register_blueprint(pages)


def _protect_pages():
    # A method or path no page has (PUT /attendance) answers 405/404 from routing, not a
    # misleading "page expired" CSRF refusal; nothing is done for it either way.
    if not request.path.startswith("/api/") and request.routing_exception is None:
        csrf.protect()


PAGE_HEADERS = {
    # Pages load nothing from elsewhere and run no inline code; no framing (clickjacking of
    # the claim and submit buttons); pages about children are not kept in shared caches.
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _page_headers(response):
    # Only this package's pages: another page (a diagram editor, say) sets its own policy.
    if response.mimetype == "text/html" and (request.blueprint or "").split(".")[0] == "web":
        for name, value in PAGE_HEADERS.items():
            response.headers.setdefault(name, value)
    return response
