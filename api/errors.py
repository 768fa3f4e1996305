"""JSON errors for the API: ``{code, message, errors?}`` with the status of CONTRACT.md.

Anything a user or an administrator can send gets a 4xx with the reason; a 500 is a bug
and says only that (details go to the log, never to the client).
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from engine.errors import EngineError, StepFailed

log = logging.getLogger(__name__)

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
         422: "invalid", 500: "server_error"}


def error_body(status: int, message: str, errors=None, **extra) -> dict:
    body = {"code": CODES.get(status, "error"), "message": message}
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return body


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(EngineError)
    def engine_error(exc: EngineError):
        extra = {}
        if isinstance(exc, StepFailed):
            extra = {"instance_id": exc.instance_id, "incident_id": exc.incident_id, "element_id": exc.element_id}
        return jsonify(error_body(exc.status, exc.message, exc.errors, **extra)), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # flask-smorest puts marshmallow messages in exc.data["messages"]
        messages = getattr(exc, "data", {}).get("messages") if hasattr(exc, "data") else None
        status = exc.code or 500
        if status == 422 and messages:
            return jsonify(error_body(422, "request is invalid", _flatten(messages))), 422
        return jsonify(error_body(status, exc.description or exc.name)), status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return jsonify(error_body(500, "internal error; it has been logged")), 500


def _flatten(messages) -> dict:
    """marshmallow's {location: {field: [msg]}} → {field: "msg; msg"}."""
    flat = {}
    for location in messages.values() if isinstance(messages, dict) else []:
        if isinstance(location, dict):
            for name, problems in location.items():
                flat[name] = "; ".join(map(str, problems)) if isinstance(problems, list) else str(problems)
    return flat
