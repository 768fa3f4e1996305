"""The process editor (issue 14 "Editor"): ``/processes/<key>/edit``, administrators only.

The page (templates/process_edit.html, scripts in static/editor/) edits one process's BPMN
file and its forms in bpmn-js's modeler. Its JavaScript talks to the JSON routes below over
the page session (cookie + ``X-CSRFToken`` header; api/web/__init__.py checks the token on
every POST/PUT/DELETE outside /api/). They call the same engine services as the REST API:

``GET  /processes/<key>/edit/source``     {file_name, version, bpmn, forms: [file name]} of the latest
                                          version (404 unknown key)
``GET  /processes/<key>/edit/forms/<name>`` one form file's text: the latest version's, else forms/
``GET  /processes/<key>/drafts``          [draft] of that key, newest first
``POST /processes/<key>/drafts``          {title, files, base_version} -> 201 draft
``GET|PUT|DELETE /processes/drafts/<id>`` a draft; PUT {title, files, row_version}, DELETE {row_version}
                                          (409 when stale)
``POST /processes/drafts/<id>/deploy``    {note (required), row_version} -> {processes, warnings}; 422 {errors}
``POST /processes/validate``              {files: {name: text}} -> the dry run (deploy validation,
                                          nothing stored, resolved as a draft's deploy): {valid, errors,
                                          warnings, processes}
``POST /processes/forms/preview``         {schema, uischema} -> {html}: the task page's fields
``POST /processes/instructions/preview``  {text} -> {html}: the task page's instructions renderer

A draft is ``{id, process_key, title, base_version, files: {name: text}, created_by, created_at,
updated_by, updated_at, row_version, deployed_version}`` (engine.drafts, times ISO 8601 UTC). JSON errors are
``{message, errors}`` with a Chinese message; 403 for anyone but an administrator.
"""
from __future__ import annotations

import json
import re

from flask import Blueprint, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from engine.errors import EngineError, InvalidInput, NotFound
from ledger.roles import ROLES

from ..auth import current_principal
from ..taskview import render_instructions
from ..zh_messages import zh_deploy
from . import process_drafts
from .common import STATUS_MESSAGES, admins_only, engine, error_page, settings
from .forms import build_fields

FORBIDDEN = "流程编辑仅限系统管理员。"
_CJK = re.compile(r"[\u4e00-\u9fff]")
_ENGLISH_TAIL = re.compile(r"\s*\([\x20-\x7e]*\)\s*$")   # " (draft 2 changed since it was loaded)"
MAX_PREVIEW_CHARS = 200_000   # a form or instructions text being typed; the deploy limit is the app's

bp = Blueprint("process_editor", __name__)
bp.before_request(admins_only(FORBIDDEN))


@bp.get("/processes/<process_key>/edit")
def edit_page(process_key: str):
    """The editor page; 404 page for a process key never deployed."""
    definition = engine().repository.latest(process_key)
    roles = [{"code": r.code, "name": r.name_zh} for r in ROLES]
    return render_template("process_edit.html", definition=definition, roles=roles,
                           boot=json.dumps({"process_key": process_key, "version": definition.version,
                                            "name": definition.name, "file_name": definition.file_name,
                                            "roles": roles, "timezone": settings().timezone}, ensure_ascii=False).replace("</", "<\\/"))


api = Blueprint("process_editor_api", __name__)
api.before_request(admins_only(FORBIDDEN))


@api.errorhandler(EngineError)
def _engine_error(exc: EngineError):
    errors = exc.errors
    if isinstance(errors, list):   # a refused deploy: the checks' messages, in Chinese first
        errors = [{**e, "message": zh_deploy(e.get("message"))} if isinstance(e, dict) else e for e in errors]
    return jsonify(message=_chinese(exc.status, str(exc)), errors=errors), exc.status


@api.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return jsonify(message=STATUS_MESSAGES.get(exc.code or 500, "出错了。"), errors=None), exc.code or 500


def _chinese(status: int, text: str) -> str:
    """One Chinese sentence: the engine writes "中文 (english)", people read the Chinese part;
    a message with no Chinese gets the status's Chinese sentence in front."""
    if not _CJK.search(text):
        return f"{STATUS_MESSAGES.get(status, '出错了。')}（{text}）"
    text = _ENGLISH_TAIL.sub("", text).rstrip("，。；： ")
    return f"{text}。"


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("a JSON object is required", errors={"body": "应为 JSON 对象"})
    return body


@api.get("/processes/<process_key>/edit/source")
def source(process_key: str):
    """The latest version's BPMN text and the form files it was deployed with."""
    repo = engine().repository
    definition = repo.latest(process_key)
    files = repo.files(definition.id)
    return jsonify(process_key=process_key, version=definition.version, file_name=definition.file_name,
                   bpmn=files[definition.file_name].decode("utf-8"),
                   forms=sorted(set(_deployed_forms(files)) | set(_folder_forms())))


@api.get("/processes/<process_key>/edit/forms/<name>")
def form_file(process_key: str, name: str):
    """One form file's text, from the latest version if it has it, else from forms/; 404 else."""
    repo = engine().repository
    files = repo.files(repo.latest(process_key).id)
    if name in _deployed_forms(files):
        return jsonify(name=name, text=files[name].decode("utf-8"))
    if name in _folder_forms():
        return jsonify(name=name, text=(settings().forms_dir / name).read_text("utf-8"))
    raise NotFound(f"form {name} not found", errors={"name": "无此表单文件"})


def _deployed_forms(files) -> list[str]:
    return [n for n in files if n.endswith(".json")]


def _folder_forms() -> list[str]:
    folder = settings().forms_dir
    return sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []


@api.post("/processes/forms/preview")
def form_preview():
    """{schema, uischema} (objects) -> {html}: the fields exactly as the task page shows them
    (forms.build_fields + templates/_fields.html). 422 naming the field when one is not an object."""
    body = _body()
    schema, ui_schema = body.get("schema"), body.get("uischema") or {}
    problems = {}
    if not isinstance(schema, dict):
        problems["schema"] = "表单结构（JSON Schema）应为 JSON 对象"
    if not isinstance(ui_schema, dict):
        problems["uischema"] = "界面设置（UI Schema）应为 JSON 对象"
    if problems:
        raise InvalidInput("form preview needs two JSON objects", errors=problems)
    fields = build_fields(schema, ui_schema)
    return jsonify(html=render_template("_form_preview.html", fields=fields))


@api.post("/processes/instructions/preview")
def instructions_preview():
    """{text} -> {html}: the task page's renderer (taskview.render_instructions) over no task
    data, so a ``{{ variable }}`` shows empty here."""
    text = _body().get("text")
    if not isinstance(text, str) or len(text) > MAX_PREVIEW_CHARS:
        raise InvalidInput("text must be a string", errors={"text": "应为文本"})
    return jsonify(html=render_instructions(text, {})[1])


@api.post("/processes/validate")
def validate():
    """The deploy's validation over ``files`` ({name: text}), nothing stored."""
    return jsonify(process_drafts.dry_run(engine(), process_drafts.files_of(_body())))


@api.get("/processes/<process_key>/drafts")
def list_drafts(process_key: str):
    """The drafts of this process not deployed yet, newest change first."""
    return jsonify([process_drafts.view(d) for d in process_drafts.service(engine()).list(process_key)])


@api.post("/processes/<process_key>/drafts")
def create_draft(process_key: str):
    body = _body()
    draft = process_drafts.service(engine()).create(
        process_key, process_drafts.files_of(body), title=process_drafts.title_of(body),
        base_version=body.get("base_version"), actor=current_principal().username)
    return jsonify(process_drafts.view(draft)), 201


@api.get("/processes/drafts/<int:draft_id>")
def get_draft(draft_id: int):
    return jsonify(process_drafts.view(process_drafts.service(engine()).get(draft_id)))


@api.put("/processes/drafts/<int:draft_id>")
def update_draft(draft_id: int):
    body = _body()
    draft = process_drafts.service(engine()).update(
        draft_id, row_version=_row_version(body), title=process_drafts.title_of(body),
        files=process_drafts.files_of(body), actor=current_principal().username)
    return jsonify(process_drafts.view(draft))


@api.delete("/processes/drafts/<int:draft_id>")
def delete_draft(draft_id: int):
    process_drafts.service(engine()).delete(draft_id, row_version=_row_version(_body()),
                                            actor=current_principal().username)
    return "", 204


@api.post("/processes/drafts/<int:draft_id>/deploy")
def deploy_draft(draft_id: int):
    """{note, row_version} -> 201 {processes, warnings}; 422 without a note or for invalid
    files (``errors``: [{file, element_id, line, message}]); 409 stale or superseded."""
    body = _body()
    note = body.get("note")
    if not isinstance(note, str) or not note.strip():
        raise InvalidInput("a deploy note is required", errors={"note": "请填写发布说明"})
    results = process_drafts.service(engine()).deploy(draft_id, note=note.strip(), row_version=_row_version(body),
                                                      actor=current_principal().username)
    return jsonify(process_drafts.deployed(results)), 201


def _row_version(body: dict) -> int:
    row_version = body.get("row_version")
    if not isinstance(row_version, int) or isinstance(row_version, bool):
        raise InvalidInput("row_version is required", errors={"row_version": "缺少版本号，请刷新页面"})
    return row_version
