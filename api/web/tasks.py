"""``/tasks/<id>``: one task — instructions, the case so far, claim/release, and its form.

Visibility and permissions are ``api.taskactions``'s, the same as the REST API's: a task
the caller may not see is a 404 page; submitting runs ``taskactions.complete`` (then
``engine.runtime.complete_task``). The form is built server-side by ``api.web.forms``.
The 文书 section links the case's printable documents (``ledger.documents.available``).
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, StepFailed, TooLarge
from ledger import access, documents, inspection_documents, signatures
from ledger.inspection import PROCESSES as INSPECTION_PROCESSES
from ledger.inspection_figures import task_view as inspection_view
from ledger.inbox import handed_to
from ledger.task_photos import REQUEST_MAX

from .. import taskactions
from ..auth import current_principal, login_required
from ..casehistory import waiting_for
from ..taskview import form_choices, log_case_view, task_detail
from ..uploads import uploads
from .cases import child_visible
from .common import display_names, engine, error_page
from .forms import build_fields, initial_values, parse_submission, posted_values

bp = Blueprint("tasks", __name__)

NOT_VISIBLE = "任务不存在，或您无权查看此任务。"


@bp.get("/tasks/<task_id>")
@login_required
def show(task_id):
    principal = current_principal()
    try:
        row = taskactions.visible_task(engine(), principal, task_id)
    except NotFound:
        return error_page(404, NOT_VISIBLE, "任务不存在")
    return _render(row, principal)


@bp.post("/tasks/<task_id>")
@login_required
def submit(task_id):
    """Complete the task with the posted form (``multipart/form-data`` when it has photo
    fields: ``api.uploads``); 422 with the errors beside their fields, 413 for a photo too
    large."""
    principal = current_principal()
    eng = engine()
    try:
        row = taskactions.visible_task(eng, principal, task_id)
    except NotFound:
        return error_page(404, NOT_VISIBLE, "任务不存在")
    fields = _fields(row)
    try:
        result = taskactions.complete(eng, principal, task_id, parse_submission(fields, request.form),
                                      uploads(request.files))
    except (InvalidInput, TooLarge) as exc:     # a photo too large is a 413, the rest 422: nothing stored
        return _render(row, principal, fields=fields, values=posted_values(fields, request.form),
                       errors=_field_errors(exc.errors, fields), status=exc.status)
    except StepFailed as exc:
        notice = (f"提交未能完成：流程的后续步骤出错，已生成故障记录（编号 {exc.incident_id}）。"
                  "请联系系统管理员处理后再试。")
        return _render(eng.tasks.get(task_id), principal, values=posted_values(fields, request.form),
                       notice=notice, status=409)
    except (Conflict, Forbidden):
        fresh = eng.tasks.get(task_id)
        notice, status = _refusal(fresh, principal)
        return _render(fresh, principal, notice=notice, status=status)
    handed = handed_to(eng, result.next_tasks)
    if handed:
        flash("已提交。已转交: " + "、".join(handed), "success")
    elif result.status == "completed":
        flash("已提交。此案件已办结。", "success")
    elif result.running:
        flash("已提交。流程仍在后台运行，后续任务稍后出现在待办中。", "success")
    else:
        waits = waiting_for(eng, result.instance_id)
        flash("已提交。" + ("下一步由系统在以下情况发生时自动启动：" + "；".join(waits) if waits
                           else "此案件当前没有待办，也没有等待的事项。"), "success")
    return redirect("/inbox")


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id):
    return _claim_or_release(task_id, taskactions.claim, "已认领此任务。")


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id):
    return _claim_or_release(task_id, taskactions.unclaim, "已释放此任务，其他候选人可以认领。")


def _claim_or_release(task_id, action, done: str):
    principal = current_principal()
    eng = engine()
    try:
        action(eng, principal, task_id)
        flash(done, "success")
    except NotFound:
        return error_page(404, NOT_VISIBLE, "任务不存在")
    except (Conflict, Forbidden):
        flash(_refusal(eng.tasks.get(task_id), principal)[0], "error")
    return redirect(f"/tasks/{task_id}")


SUSPENDED = "本案件已由系统管理员暂停：暂停期间不能认领或办理此任务，恢复后可继续办理。"


def _refusal(row, principal) -> tuple[str, int]:
    """Why an action on this task was refused, in words for the person, and the status."""
    if row.status != "open":
        who = display_names([row.completed_by]).get(row.completed_by, row.completed_by)
        by = f"（由 {who} 提交）" if who else ""
        return f"此任务已办结{by}，无需再次提交。您的本次提交未被保存。", 409
    if engine().runtime.get(row.instance_id).status == "suspended":
        return SUSPENDED, 409
    if row.assignee and row.assignee != principal.username:
        who = display_names([row.assignee]).get(row.assignee, row.assignee)
        return f"该任务已由 {who} 认领，只有认领人可以办理或释放。", 409
    if not access.can_work(principal, row):
        return "您不是该任务的办理人，不能进行此操作。", 403
    if engine().runtime.get(row.instance_id).status == "error":
        return taskactions.IN_ERROR + "。", 409
    return "任务状态已变化（可能已被他人认领或释放），请刷新页面后重试。", 409


def _fields(row):
    """The task's form fields, from the form files of the instance's own process version."""
    eng = engine()
    forms = eng.repository.forms(eng.runtime.get(row.instance_id).definition_id)
    return build_fields(forms.schema(row.form_key) if row.form_key else None,
                        forms.schema(row.ui_form_key) if row.ui_form_key else None,
                        _offered(form_choices(eng, row)))


def _offered(choices: dict) -> dict:
    """``taskview.form_choices`` as ``build_fields`` takes them: ``{field: [(value, label)]}``."""
    return {name: [(c["value"], c["label"]) for c in offered] for name, offered in choices.items()}


def _initial(fields, detail, principal) -> dict:
    """A fresh form's values: the schema's defaults, and the caller's own name in a field
    that names who confirms (``ledger.signatures``: no other name is taken)."""
    values = initial_values(fields)
    for name in signatures.account_name_fields(detail["form"]["schema"]):
        values[name] = principal.display_name
    return values


def _field_errors(errors, fields) -> dict:
    """The engine's {path: 中文} as {field name: message}; the rest under "" (shown on top)."""
    names = {f.name for f in fields}
    mapped: dict[str, str] = {}
    items = errors.items() if isinstance(errors, dict) else [("", str(e)) for e in errors or []]
    for path, message in items:
        head = str(path).split(".", 1)[0]
        key = head if head in names else ""
        mapped[key] = f"{mapped[key]}；{message}" if key in mapped and message not in mapped[key] else message
    return mapped


def _documents(eng, row, principal, inspection) -> list[dict]:
    """The printable documents a task page links: a round's notice and summary for an inspection
    task (``ledger.inspection_documents``), else the case's (``ledger.documents``)."""
    if row.process_key in INSPECTION_PROCESSES:
        return inspection_documents.available(eng, row.instance_id, principal, inspection and inspection["unit"])
    return documents.available(eng, row.instance_id, principal)


def _render(row, principal, *, fields=None, values=None, errors=None, notice=None, status=200):
    eng = engine()
    if notice is None and row.status == "open" and eng.runtime.get(row.instance_id).status == "suspended":
        notice = SUSPENDED
    detail = task_detail(eng, row, principal)
    log_case_view(eng, principal.username, row.instance_id, "task", row.id,   # the page shows the case
                  fields=(detail["subject"] or {}).get("shown"))
    if fields is None:
        fields = build_fields(detail["form"]["schema"], detail["form"]["ui_schema"],
                              _offered(detail["form"]["choices"]))
    history = detail["history"]
    inspection = inspection_view(eng, row)    # an inspection task: the unit's figures and sampled cases
    people = display_names([row.assignee, row.completed_by])  # the history brings its own actor_name
    body = render_template(
        "task.html", task=detail, row=row, fields=fields, rights=taskactions.rights(eng, principal, row),
        values=values if values is not None else _initial(fields, detail, principal), errors=errors or {},
        notice=notice, history=history, people=people,
        # A form that signs in one's own name asks before it is sent (static/confirm.js).
        signing=principal.display_name if signatures.account_name_fields(detail["form"]["schema"]) else None,
        child_link=bool(detail["subject"]) and child_visible(principal, detail["subject"]["child_id"]),
        documents=_documents(eng, row, principal, inspection),   # the case's printable documents
        inspection=inspection,
        photo_request_max=REQUEST_MAX)
    return body, status
