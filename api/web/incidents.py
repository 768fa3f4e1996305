"""``/admin/incidents`` and ``/admin/check``: the system administrator handles failed steps and
sees the last consistency check.

An incident is a step of a case that failed (a script, a condition, a timer expression): the
case waits in error until the administrator either retries the failed operation (after
putting its data right) or resolves the incident without retrying, with a note saying how the
case was put right. Both are ``engine.incidents``' use cases, as in ``/api/v1/incidents``:

* administrators only (a stranger is sent to /login, anyone else gets the 403 page);
* every form is CSRF-protected (app-wide) and redirects with a Chinese flash message when
  done; a resolve without a note comes back (422) with the message beside the field; a retry
  that fails again shows the new message (409); a refusal by the rules is a flash message;
* incident messages are shown through ``engine.incidents.public_message`` (never database
  text) and escaped by Jinja.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request

from engine.errors import Conflict, InvalidInput, NotFound, StepFailed
from engine.incidents import IncidentQuery
from engine.instances import NOTE_MAX

from ..auth import current_principal
from .common import admins_only, engine, error_page, page_number, page_url

bp = Blueprint("incidents", __name__, url_prefix="/admin")
bp.before_request(admins_only("故障处理仅限系统管理员使用。"))

PER_PAGE = 50
NO_INCIDENT = "故障记录不存在。"
STATUS_NAMES = {"open": "待处理", "resolved": "已处理"}
RESOLUTION_NAMES = {"retried": "重试成功", "resolved": "未重试，人工处理"}
INSTANCE_STATUS_NAMES = {"active": "进行中", "error": "出错暂停", "completed": "已完成", "terminated": "已终止"}
COMMAND_NAMES = {"start": "启动流程", "complete_task": "提交任务", "fire_timers": "定时器到期",
                 "catch_message": "接收消息", "set_variables": "修改变量"}
# What "resolve without retry" does to each kind of failed operation (RuntimeService.resolve_incident).
ABANDON_EFFECTS = {
    "complete_task": "任务重新开放，由办理人重新提交。",
    "fire_timers": "定时器仍然到期，后台会再次触发它：请先修正导致出错的数据。",
    "catch_message": "这条消息不再投递给本案件。",
}
CHECK_NAMES = {"workflow_state": "流程状态无法读取", "human_task": "待办索引不一致", "timer_job": "定时器不一致",
               "message_subscription": "消息订阅不一致", "uncorrelatable": "等待消息但缺少关联值",
               "audit_chain": "审计链异常", "incidents": "案件出错",
               "check": "检查本身出错"}


# ------------------------------------------------------------------ list

@bp.get("/incidents")
def incident_list():
    status = request.args.get("status", "open")
    status = status if status in ("open", "resolved", "all") else "open"
    processes = _process_names()
    process_key = request.args.get("process_key", "")
    process_key = process_key if process_key in processes else ""
    instance = request.args.get("instance", "").strip()
    instance_id = int(instance) if instance.isdigit() and 0 < int(instance) < 2**31 else None
    page = page_number(request.args.get("page"))
    query = IncidentQuery(status=None if status == "all" else status, process_key=process_key or None,
                          instance_id=instance_id, page=page, per_page=PER_PAGE)
    items, total = engine().incidents.list(query)
    pages = max(1, -(-total // PER_PAGE))
    filters = {k: v for k, v in (("status", status), ("process_key", process_key),
                                 ("instance", str(instance_id) if instance_id else "")) if v}
    return render_template(
        "admin_incidents.html", items=items, total=total, page=page, pages=pages, status=status,
        process_key=process_key, instance=str(instance_id) if instance_id else "", processes=processes,
        bad_instance=bool(instance) and instance_id is None, last_check=engine().consistency.last(),
        names=_names(), filtered=filters != {"status": "open"},
        prev_url=page_url("/admin/incidents", filters, page - 1) if page > 1 else None,
        next_url=page_url("/admin/incidents", filters, page + 1) if page < pages else None)


# ------------------------------------------------------------------ one incident

@bp.get("/incidents/<int:incident_id>")
def incident_detail(incident_id):
    return _render(incident_id)


@bp.post("/incidents/<int:incident_id>/retry")
def retry(incident_id):
    eng = engine()
    try:
        result = eng.incidents.retry(incident_id, actor=current_principal().username)
    except NotFound:
        return error_page(404, NO_INCIDENT, "故障不存在")
    except StepFailed:
        detail = eng.incidents.get(incident_id)
        return _render(incident_id, notice=f"重试仍然失败：{detail['message']}。故障仍待处理，请先修正数据再重试，"
                                           "或在下方说明后不重试直接处理。", status=409)
    except Conflict:
        return _refused(incident_id)
    after = "流程已结束" if result.status == "completed" else "案件已恢复办理"
    flash(f"已重试成功，{after}。", "success")
    return redirect(f"/admin/incidents/{incident_id}")


@bp.post("/incidents/<int:incident_id>/resolve")
def resolve(incident_id):
    note = request.form.get("note", "")
    try:
        outcome = engine().incidents.resolve(incident_id, note, actor=current_principal().username)
    except NotFound:
        return error_page(404, NO_INCIDENT, "故障不存在")
    except InvalidInput:
        message = "请填写处理说明：您是如何处理这个案件的" if not note.strip() else f"处理说明不能超过 {NOTE_MAX} 字"
        return _render(incident_id, note=note, errors={"note": message}, status=422)
    except Conflict:
        return _refused(incident_id)
    if outcome.status == "terminated":
        flash("已处理：这次启动已放弃，案件已终止，该学生可以重新发起。处理说明已记入案件的办理经过。", "success")
    else:
        flash("已处理：失败的操作已放弃，案件恢复办理。处理说明已记入案件的办理经过。", "success")
    return redirect(f"/admin/incidents/{incident_id}")


def _refused(incident_id: int):
    """A refusal by the rules (409), said as why, on the incident's page."""
    detail = engine().incidents.get(incident_id)
    if detail["status"] != "open":
        flash("该故障已处理，无需再次操作。", "error")
    else:
        flash("案件刚被他人改动，本次操作未执行。请刷新页面后重试。", "error")
    return redirect(f"/admin/incidents/{incident_id}")


def _render(incident_id: int, *, note: str = "", errors: dict | None = None, notice: str | None = None,
            status: int = 200):
    try:
        detail = engine().incidents.get(incident_id)
    except NotFound:
        return error_page(404, NO_INCIDENT, "故障不存在")
    body = render_template(
        "admin_incident.html", i=detail, names=_names(), processes=_process_names(), note=note,
        errors=errors or {}, notice=notice, note_max=NOTE_MAX, effect=ABANDON_EFFECTS.get(detail["command"]))
    return body, status


# ------------------------------------------------------------------ the consistency check

@bp.get("/check")
def check():
    return render_template("admin_check.html", report=engine().consistency.last(), check_names=CHECK_NAMES)


# ------------------------------------------------------------------ helpers

def _names() -> dict:
    return {"status": STATUS_NAMES, "resolution": RESOLUTION_NAMES, "instance": INSTANCE_STATUS_NAMES,
            "command": COMMAND_NAMES}


def _process_names() -> dict[str, str]:
    """{process key: name of its latest version} of every deployed process."""
    names = {}
    for definition in engine().repository.list():   # by key, then version: the latest name wins
        names[definition.process_key] = definition.name or definition.process_key
    return names
