"""JSON errors for the API: ``{code, message, errors?}`` with the status of CONTRACT.md.

Anything a user or an administrator can send gets a 4xx with the reason; a 500 is a bug
and says only that (details go to the log, never to the client).
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from engine.errors import EngineError, StepFailed
from engine.incidents import public_message

from .zh_messages import zh, zh_errors

log = logging.getLogger(__name__)

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
         422: "invalid", 429: "too_many_requests", 500: "server_error"}
MAX_JSON_DEPTH = 64


def error_body(status: int, message: str, errors=None, **extra) -> dict:
    """``{code, message, errors?, ...extra}``; English texts of the engine and of marshmallow
    get their Chinese first (``api.zh_messages``)."""
    body = {"code": CODES.get(status, "error"), "message": zh(message)}
    if errors is not None:
        body["errors"] = zh_errors(errors)
    body.update(extra)
    return body


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(EngineError)
    def engine_error(exc: EngineError):
        extra, message = {}, exc.message
        if isinstance(exc, StepFailed):
            # What failed inside a step is shown bounded and never as database text (incidents).
            extra = {"instance_id": exc.instance_id, "incident_id": exc.incident_id, "element_id": exc.element_id}
            message = public_message(message)
        # An error may name headers of its own (a 429's Retry-After: api.ratelimit).
        return jsonify(error_body(exc.status, message, exc.errors, **extra)), exc.status, getattr(exc, "headers", {})

    @app.before_request
    def refuse_unstorable_input():
        """NUL characters, lone surrogates and absurdly deep JSON cannot be stored or hashed
        (PostgreSQL refuses NUL in text; UTF-8 refuses surrogates): 400 before any work."""
        if not request.path.startswith("/api/"):
            return _refuse_unstorable_form()
        problem = _bad_text(request.query_string.decode("latin-1"), "query") if b"%00" in request.query_string.lower() else None
        for key, value in request.args.items(multi=True):
            problem = problem or _bad_text(key, "query") or _bad_text(value, f"query.{key}")
        if problem is None and request.is_json and request.content_length:
            try:
                body = request.get_json(silent=True)
            except RecursionError:
                body, problem = None, ("body", "JSON nested too deeply")
            problem = problem or _walk(body)
        if problem:
            where, reason = problem
            return jsonify(error_body(400, f"invalid input: {reason}", {where: reason})), 400
        return None

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not request.path.startswith("/api/"):
            from .web.common import error_page   # pages answer in Chinese HTML
            return error_page(exc.code or 500)
        # flask-smorest puts marshmallow messages in exc.data["messages"]
        messages = getattr(exc, "data", {}).get("messages") if hasattr(exc, "data") else None
        status = exc.code or 500
        if status == 422 and messages:
            return jsonify(error_body(422, "request is invalid", _flatten(messages))), 422
        if status == 413:   # the body was not read: say the limit, in the shape of every 4xx
            from .uploads import too_large_message
            message = too_large_message()
            return jsonify(error_body(413, message, {"body": message})), 413
        return jsonify(error_body(status, exc.description or exc.name)), status

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def number_too_large(exc: Exception):
        """An id or number beyond what the database stores (99999999999999999999): bad input.
        SQLite's driver raises OverflowError, PostgreSQL DataError (pages: ``api.web.common``)."""
        return jsonify(error_body(400, "输入的值超出范围或格式不对 (a value is out of range)")), 400

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return jsonify(error_body(500, "internal error; it has been logged")), 500


def _refuse_unstorable_form():
    """Pages: the same refusal for posted form fields, as a Chinese page (nothing is stored)."""
    if request.method != "POST" or not request.form:
        return None
    for key, value in request.form.items(multi=True):
        if _bad_text(key, "form") or _bad_text(value, key):
            from .web.common import error_page
            return error_page(400, "提交的内容含有无法保存的字符（如空字符 NUL），本次操作未执行。请删除这些字符后重试。")
    return None


def _flatten(messages) -> dict:
    """marshmallow's {location: {field: [msg]}} → {field: "msg; msg"}."""
    flat = {}
    for location in messages.values() if isinstance(messages, dict) else []:
        if isinstance(location, dict):
            for name, problems in location.items():
                flat[name] = "; ".join(map(str, problems)) if isinstance(problems, list) else str(problems)
    return flat


def _bad_text(text: str, where: str):
    if "\x00" in text:
        return where, "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return where, "contains an unpaired surrogate"
    return None


def _walk(value):
    """First unstorable string in a JSON document (iterative: no recursion limit to hit)."""
    stack = [("body", value, 0)]
    while stack:
        where, item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return where, "JSON nested too deeply"
        if isinstance(item, str):
            problem = _bad_text(item, where)
            if problem:
                return problem
        elif isinstance(item, dict):
            for key, child in item.items():
                problem = _bad_text(key, where)
                if problem:
                    return problem
                stack.append((f"{where}.{key}", child, depth + 1))
        elif isinstance(item, list):
            stack.extend((f"{where}.{i}", child, depth + 1) for i, child in enumerate(item))
    return None
