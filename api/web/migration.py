"""Running cases, for administrators (issue 14): suspend, resume and terminate a case from
its page; move running cases to another version of their process after a dry run.

* ``POST /instances/<id>/suspend|resume|terminate`` {reason, confirm}: the case page's
  management panel (``_case_admin.html``); a reason and the confirmation box are required
  (the page runs no script: the box is the confirmation). Flash message, back to the case.
* ``GET /instances/<id>/migrate?to_version=N`` (default: the latest version): the dry run for
  one case (can it move, and why not: each reason names the element), with the management
  panel too; ``POST`` the same with ``confirm`` migrates it.
* ``GET /processes/<key>/migrate``: the running cases of every older version with the dry
  run's verdict for each against the latest version; ``POST`` migrates every case of one
  version that can move, then shows the moved and refused counts.

Administrators only (a stranger to /login, anyone else the 403 page). These pages show case
numbers, versions, steps and reasons, never a child's data: an administrator need not be
able to trace the case (``ledger.access``) to move it.
"""
from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request
from sqlalchemy import func, select

from engine.errors import Conflict, EngineError, InvalidInput
from engine.lifecycle import REASON_MAX
from engine.persistence.models import HumanTask, Incident, ProcessDefinition, ProcessInstance
from engine.versions import RUNNING

from ..auth import current_principal
from .common import admins_only, engine, error_page

bp = Blueprint("migration", __name__)
bp.before_request(admins_only("案件暂停、终止与版本迁移仅限系统管理员使用。"))

ACTS = {"suspend": ("暂停", "案件已暂停：其待办不能认领或办理，到期的定时和收到的消息在恢复后处理。"),
        "resume": ("恢复", "案件已恢复办理。"),
        "terminate": ("终止", "案件已终止：待办、定时与消息等待均已取消。")}
STATUS_NAMES = {"active": "办理中", "suspended": "已暂停", "error": "出错待处理"}


def admin_panel(eng, principal, instance) -> dict | None:
    """What the case page's management panel (``_case_admin.html``) offers an administrator:
    ``{acts: [(act, label)], incidents: [ids of open incidents], versions: [other version
    numbers]}``; None for anyone else or a closed case."""
    if principal is None or not principal.is_admin or instance.status not in RUNNING:
        return None
    acts = {"active": ["suspend", "terminate"], "suspended": ["resume", "terminate"],
            "error": ["terminate"]}[instance.status]
    with eng.db.read() as session:
        incidents = list(session.scalars(select(Incident.id).where(
            Incident.instance_id == instance.id, Incident.status == "open")))
        versions = list(session.scalars(select(ProcessDefinition.version).where(
            ProcessDefinition.process_key == instance.process_key,
            ProcessDefinition.id != instance.definition_id).order_by(ProcessDefinition.version.desc())))
    return {"acts": [(act, ACTS[act][0]) for act in acts], "incidents": incidents, "versions": versions,
            "reason_max": REASON_MAX}


@bp.post("/instances/<int:instance_id>/<any(suspend, resume, terminate):act>")
def act_on_case(instance_id: int, act: str):
    label, done = ACTS[act]
    refused = None
    if not request.form.get("confirm"):
        refused = (422, f"未{label}：请勾选确认框。")
    else:
        try:
            getattr(engine().lifecycle, act)(instance_id, request.form.get("reason", ""),
                                             actor=current_principal().username)
        except InvalidInput:
            refused = (422, f"未{label}：请填写原因（不超过 {REASON_MAX} 字）。")
        except Conflict as exc:
            refused = (409, f"未{label}：{_zh(exc)}")
    # Back where the form was: the case page, or the migration page (an administrator who
    # does not trace cases manages them there). A refusal shows that page again with a 4xx.
    to_migrate = request.form.get("back") == "migrate"
    if refused is None:
        flash(done, "ok")
        return redirect(f"/instances/{instance_id}/migrate" if to_migrate else f"/instances/{instance_id}")
    flash(refused[1], "error")
    from .cases import show as case_page   # cases imports admin_panel from here
    page = migrate_case(instance_id)[0] if to_migrate else case_page(instance_id)
    response = make_response(page)
    response.status_code = refused[0]
    return response


# ------------------------------------------------------------------ one case

@bp.route("/instances/<int:instance_id>/migrate", methods=["GET", "POST"])
def migrate_case(instance_id: int):
    eng = engine()
    raw = request.values.get("to_version", "")
    instance = eng.runtime.get(instance_id)
    if not raw.isdigit():
        latest = eng.repository.latest(instance.process_key)
        raw = str(latest.version)
    status = 200
    try:
        if request.method == "POST" and request.path.endswith("/migrate") and request.form.get("confirm"):
            result = eng.versions.migrate(instance_id, int(raw), actor=current_principal().username)
            flash(f"案件 #{instance_id} 已迁移到第 {result['to']['version']} 版。", "ok")
            return redirect(f"/processes/{instance.process_key}/migrate")
        if request.method == "POST" and request.path.endswith("/migrate"):
            flash("未迁移：请勾选确认框。", "error")
            status = 422
        current = eng.repository.get(instance.definition_id).version
        # On that version already (the latest, by default): nothing to check, the panel stays.
        verdict = None if int(raw) == current else eng.versions.dry_run(instance_id, int(raw))
    except EngineError as exc:
        return error_page(exc.status, f"不能迁移：{_zh(exc)}", "版本迁移")
    instance = eng.runtime.get(instance_id)
    name = eng.repository.get(instance.definition_id).name or instance.process_key
    return render_template("migrate_case.html", instance=instance, verdict=verdict, back="migrate", current=current,
                           process_name=name,
                           admin=admin_panel(eng, current_principal(), instance),
                           status_name=STATUS_NAMES.get(instance.status, instance.status),
                           steps=_open_steps([instance_id]).get(instance_id, [])), status


# ------------------------------------------------------------------ a process's versions

@bp.route("/processes/<process_key>/migrate", methods=["GET", "POST"])
def migrate_process(process_key: str):
    eng = engine()
    try:
        latest = eng.repository.latest(process_key)
    except EngineError:
        return error_page(404, f"没有流程 {process_key}。", "版本迁移")
    result, status = None, 200
    if request.method == "POST":
        version = request.form.get("version", "")
        if not version.isdigit() or not request.form.get("confirm"):
            flash("未迁移：请选择版本并勾选确认框。", "error")
            status = 422
        else:
            try:
                result = eng.versions.migrate_version(process_key, int(version), latest.version,
                                                      actor=current_principal().username)
                flash(f"第 {version} 版：已迁移 {result['counts']['moved']} 件，"
                      f"未迁移 {result['counts']['refused']} 件。", "ok")
            except EngineError as exc:
                flash(f"未迁移：{_zh(exc)}", "error")
                status = exc.status
    groups = [eng.versions.dry_run_version(process_key, version, latest.version)
              for version in _older_versions_running(process_key, latest.version)]
    steps = _open_steps([v["instance_id"] for g in groups for v in g["instances"]])
    return render_template("migrate.html", process_key=process_key, latest=latest, groups=groups,
                           result=result, steps=steps, status_names=STATUS_NAMES), status


def _older_versions_running(process_key: str, latest: int) -> list[int]:
    with engine().db.read() as session:
        return list(session.scalars(
            select(ProcessDefinition.version).join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
            .where(ProcessDefinition.process_key == process_key, ProcessDefinition.version < latest,
                   ProcessInstance.status.in_(RUNNING))
            .group_by(ProcessDefinition.version).having(func.count() > 0).order_by(ProcessDefinition.version)))


def _open_steps(instance_ids: list[int]) -> dict[int, list[str]]:
    """{instance id: names of its open tasks}: where each case stands, without its child."""
    steps: dict[int, list[str]] = {}
    if not instance_ids:
        return steps
    with engine().db.read() as session:
        for instance_id, name, element in session.execute(select(
                HumanTask.instance_id, HumanTask.name, HumanTask.element_id).where(
                HumanTask.instance_id.in_(instance_ids), HumanTask.status == "open").order_by(HumanTask.created_at)):
            steps.setdefault(instance_id, []).append(name or element)
    return steps


def _zh(exc: EngineError) -> str:
    from ..zh_messages import zh
    return zh(exc.message)
