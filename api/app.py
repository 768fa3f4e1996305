"""The Flask application factory."""
from __future__ import annotations

from flask import Flask, jsonify, request
from flask_smorest import Api
from werkzeug.middleware.proxy_fix import ProxyFix

from .errors import register_error_handlers
from .settings import Settings
from .uploads import allow_photo_uploads
from .web import register as register_pages
from .wiring import build_engine

API_TITLE = "Baoxue 保学 API"


def create_app(settings: Settings | None = None, engine=None) -> Flask:
    """Build the app. ``engine`` may be given (tests share one); else it is built from settings."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        JSON_AS_ASCII=False,
        API_TITLE=API_TITLE,
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.json.ensure_ascii = False
    app.extensions["baoxue.settings"] = settings
    if settings.proxies:   # the client's address and scheme, as the trusted proxies saw them
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxies, x_proto=settings.proxies)
    app.extensions["baoxue.engine"] = engine or build_engine(settings)

    # Before any hook reads the body (CSRF, the text checks): completions may carry photos.
    app.before_request(allow_photo_uploads)
    api = Api(app)
    from .rest import (agreements, attendance, check, children, definitions, drafts, incidents, inspections, instances,
                       lifecycle, messages, metrics, session, tasks, trace, users)
    for module in (session, tasks, instances, trace, messages, definitions, drafts, users, attendance, incidents,
                   check, children, agreements, inspections, lifecycle, metrics):
        api.register_blueprint(module.blp)
    register_pages(app)  # staff pages; CSRFProtect for all but /api (api/web/__init__.py)
    from .vendor import bp as vendor
    app.register_blueprint(vendor)  # bpmn-js from node_modules (api/vendor.py)

    @app.get("/healthz")
    def healthz():
        """Readiness: ``200 {"status": "ok"}`` when the database answers and its schema is at
        the migrations' head; ``503 {"status": "not_ready", "reason"}`` when it cannot be
        reached or is behind (a request would fail: run ``baoxue init``)."""
        from sqlalchemy.exc import OperationalError, ProgrammingError
        try:
            behind = app.extensions["baoxue.engine"].schema_behind()
        except (OperationalError, ProgrammingError) as exc:
            reason = f"database unreachable: {type(getattr(exc, 'orig', None) or exc).__name__}"
            return jsonify({"status": "not_ready", "reason": reason}), 503
        if behind is not None:
            return jsonify({"status": "not_ready", "reason": f"{behind} (run baoxue init)"}), 503
        return jsonify({"status": "ok"})

    register_error_handlers(app)
    app.after_request(_no_store)
    return app


def _no_store(response):
    """``Cache-Control: no-store`` on every response but static files: pages and API answers
    carry children's data and must stay in no browser or proxy cache (issue 8)."""
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
