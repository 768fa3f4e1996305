"""``/processes``: the deployed processes and their versions (issue 14 "Process list and versions").

* ``GET /processes``: each process key with its name, latest version, who deployed it and
  when, the deploy note and its running cases per version (``Repository.summary``).
* ``GET /processes/<key>``: the version history (``Repository.history``), one version's
  diagram (``?version=``, the latest by default) and the diff of two (``?from=&to=``,
  ``Repository.diff``); for administrators links to the editor and to migration (other pages).
* ``GET /processes/<key>/versions/<n>/diagram-state`` and ``.../bpmn?process=``: what the
  plain diagram viewer (``api/static/trace_diagram.js``, ``data-plain``) loads.

Who: administrators, the task-force leader and the discipline inspector (read-only; the page
changes nothing for anyone); anyone else gets the Chinese 403 page. No child's data is shown,
so nothing is written to the access log.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request

from engine.errors import EngineError, InvalidInput, NotFound
from ledger.roles import ROLES, SYSTEM_ADMIN

from ..auth import current_principal
from .common import display_names, engine, error_page

bp = Blueprint("processes", __name__)
READERS = {SYSTEM_ADMIN, "task_force_leader", "discipline_inspector"}
ROLE_NAMES = {role.code: role.name_zh for role in ROLES}

TYPE_LABELS = {
    "process": "流程", "userTask": "用户任务", "scriptTask": "脚本任务", "serviceTask": "服务任务",
    "manualTask": "手工任务", "sendTask": "发送任务", "receiveTask": "接收任务", "businessRuleTask": "决策任务",
    "task": "任务", "callActivity": "调用流程", "subProcess": "子流程", "transaction": "事务子流程",
    "startEvent": "开始事件", "endEvent": "结束事件", "intermediateCatchEvent": "中间事件（等待）",
    "intermediateThrowEvent": "中间事件（抛出）", "boundaryEvent": "边界事件", "exclusiveGateway": "排他网关",
    "parallelGateway": "并行网关", "inclusiveGateway": "包容网关", "eventBasedGateway": "事件网关",
    "sequenceFlow": "连线", "dataObject": "数据对象", "dataObjectReference": "数据对象引用",
    "textAnnotation": "注释", "association": "关联",
}
FIELD_LABELS = {
    "name": "名称", "type": "类型", "lane": "泳道（角色）", "incoming": "流入连线", "outgoing": "流出连线",
    "source": "起点", "target": "终点", "condition": "条件", "calledElement": "调用的流程",
    "attachedTo": "附着于", "cancelActivity": "触发时中断任务", "event": "事件", "timer": "定时",
    "script": "脚本", "loop": "多实例设置", "instructions": "办理说明", "preScript": "办理前脚本",
    "postScript": "办理后脚本", "messagePayload": "消息内容", "messageVariable": "消息变量",
    "formJsonSchemaFilename": "表单文件", "formUiSchemaFilename": "表单界面文件", "dueIn": "办理期限",
    "dueDays": "期限计日方式", "subjectFields": "案件摘要字段", "variableName": "变量名",
    "payloadExpression": "传递内容", "calculatedVariable": "计算变量",
}
FORM_CHANGES = {"added": "新增", "removed": "删除", "changed": "内容有改动"}


@bp.before_request
def _readers_only():
    principal = current_principal()
    if principal is None:
        return redirect(f"/login?next={quote(request.full_path.rstrip('?'), safe='/')}")
    if not {a.role for a in principal.assignments} & READERS:
        return error_page(403, "流程与版本仅供系统管理员、专班组长和督查人员查看。", "无权访问")
    return None


def _with_names(rows: list[dict]) -> list[dict]:
    """``rows`` with ``deployed_by_name``: the deployer's display name (the username if gone)."""
    names = display_names(row["deployed_by"] for row in rows)
    return [{**row, "deployed_by_name": names.get(row["deployed_by"], row["deployed_by"])} for row in rows]


@bp.get("/processes")
def index():
    """Every process key, latest version first in mind (module doc)."""
    return render_template("processes.html", rows=_with_names(engine().repository.summary()),
                           is_admin=current_principal().is_admin)


def _version_arg(name: str, known: set[int], errors: dict) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) not in known:
        errors[name] = f"没有第 {raw[:12]} 版" if raw.isdigit() else "版本应为数字"
        return None
    return int(raw)


@bp.get("/processes/<process_key>")
def process(process_key: str):
    """One process's versions, a version's diagram and the diff of two (module doc). A version
    that does not exist is named beside its field (422), never a 500."""
    versions = _with_names(engine().repository.history(process_key))
    if not versions:
        return error_page(404, f"没有流程 {process_key}。", "流程不存在")
    known, errors = {v["version"] for v in versions}, {}
    latest = versions[-1]["version"]
    shown = _version_arg("version", known, errors) or latest
    base, target = _version_arg("from", known, errors), _version_arg("to", known, errors)
    diff = None
    if base and target:
        diff = engine().repository.diff(process_key, base, target)
    elif request.args.get("from") or request.args.get("to"):
        errors.setdefault("from" if not base else "to", "请选择两个版本")
    return render_template(
        "process.html", key=process_key, versions=versions, latest=versions[-1], shown=shown, errors=errors,
        base=base or max(latest - 1, 1), target=target or latest, diff=diff, is_admin=current_principal().is_admin,
        type_labels=TYPE_LABELS, field_labels=FIELD_LABELS, form_changes=FORM_CHANGES,
        shown_value=_shown_value), 422 if errors else 200


@bp.post("/processes/<process_key>/redeploy")
def redeploy(process_key: str):
    """Put an older version back as the newest (administrators; ``version``, ``note`` and the
    confirmation box required: ``Repository.redeploy``). A refusal shows the page again with
    its 4xx and the reason."""
    principal = current_principal()
    if not principal.is_admin:
        return error_page(403, "重新发布旧版本仅限系统管理员。", "无权操作")
    raw = request.form.get("version", "")
    try:
        if not raw.isdigit() or not request.form.get("confirm"):
            raise InvalidInput("version and confirm are required", errors={"version": "请选择版本并勾选确认框"})
        done = engine().repository.redeploy(process_key, int(raw), note=request.form.get("note", ""),
                                            actor=principal.username)
    except EngineError as exc:
        detail = exc.errors if isinstance(exc.errors, dict) else {}
        flash("未重新发布：" + ("；".join(map(str, detail.values())) or exc.message), "error")
        body, _ = process(process_key)
        return body, exc.status
    flash(f"第 {raw} 版已重新发布为第 {done.version} 版：新案件按此版本办理；运行中的案件仍在原版本，可在“迁移运行中案件”中迁移。", "ok")
    return redirect(f"/processes/{quote(process_key)}")


def _shown_value(field: str, value) -> str:
    """A changed field's value for people: role names for lanes, lists joined, （无） for none."""
    if value is None or value == [] or value == "":
        return "（无）"
    if field == "lane":
        return ROLE_NAMES.get(value, value)
    if isinstance(value, list):
        return "、".join(map(str, value))
    return str(value)


def _definition(process_key: str, version: int):
    try:
        return engine().repository.version(process_key, version)
    except NotFound:
        return None


@bp.get("/processes/<process_key>/versions/<int:version>/diagram-state")
def diagram_state(process_key: str, version: int):
    """The plain viewer's state (``trace_diagram.js``): the version's process with no runs,
    no path, no calls, and the lanes' role names."""
    if _definition(process_key, version) is None:
        return jsonify({"code": "not_found", "message": f"流程 {process_key} 没有第 {version} 版"}), 404
    base = f"/processes/{quote(process_key, safe='')}/versions/{version}"
    return jsonify({"process_id": process_key, "version": version, "plain": True, "calls": {},
                    "processes": {process_key: {"bpmn_url": f"{base}/bpmn", "elements": {}, "flows": []}},
                    "lane_names": ROLE_NAMES})


@bp.get("/processes/<process_key>/versions/<int:version>/bpmn")
def bpmn(process_key: str, version: int):
    """The BPMN file of that version holding the process (its embedded sub-processes with it)."""
    definition = _definition(process_key, version)
    if definition is None:
        return jsonify({"code": "not_found", "message": f"流程 {process_key} 没有第 {version} 版"}), 404
    return Response(engine().repository.files(definition.id)[definition.file_name], mimetype="application/xml")
