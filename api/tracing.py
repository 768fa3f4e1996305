"""One case traced for the people who check it (issue 13): the runs of an element of its
diagram, the verification of its record in words, and the whole trace as one document.

Shared by the REST endpoints (``api.rest.trace``) and the case page (``api.web.cases``);
the caller has checked that the principal may trace the case and logs the view.
"""
from __future__ import annotations

import json
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from SpiffWorkflow.exceptions import TaskNotFoundException

from engine.errors import InvalidInput, NotFound
from engine.persistence.models import HumanTask
from engine.runtime.path import PATH_EVENT, diagram_process
from ledger.directory import role_name, unit_names
from ledger.document_models import DocumentVersion
from ledger.document_versions import KIND as REPORT_KIND
from ledger.documents import KINDS
from ledger.roles import ROLES
from ledger.form_choices import display_names

from .casehistory import case_history, system_actor
from .taskview import masked_data

# What a broken link means, for pages (engine.audit.chain.ChainReport.findings kinds)
FINDING_WORDS = {
    "missing": "缺失（被删除或重新编号）",
    "unlinked": "与前一条记录不衔接（其前有记录被删除、插入或改动）",
    "altered": "写入后被修改（校验值不符）",
    "downgraded": "被降级为无密钥记录（伪造）",
    "unknown_key": "使用了未知的签名密钥",
    "head_missing": "记录链的末端标记缺失",
    "head_mismatch": "记录链末端与末端标记不符（最新记录被删除或回滚）",
    "task_row": "任务表中的办结信息与审计记录不符",
}


def verification(engine, instance_id: int) -> dict:
    """The hash-chain check of the case's record: ``{ok, count, first_bad, findings: [{seq,
    position, problem}]}`` where ``position`` says in Chinese which record (第 N 条) and
    ``problem`` what was found. Seq 0 is the chain as a whole (its end, or a task row)."""
    report = engine.history.verify_chain(instance_id)
    findings = [{"seq": seq, "position": f"第 {seq} 条记录" if seq else "记录整体",
                 "problem": FINDING_WORDS.get(kind or "", "记录不可信")}
                for seq, kind in report.findings]
    return {"ok": report.ok, "count": report.count, "first_bad": report.first_bad, "findings": findings}


def element_runs(engine, instance_id: int, process_id: str, element_id: str) -> dict:
    """The runs of one element of the case's diagram, oldest first::

        {"element_id", "name", "runs": [{"task_id", "status", "ready_at", "completed_at", "actor",
          "actor_name", "role_name", "org_unit_name", "due_at", "met", "fields": [{label, value}]}]}

    A user task's runs are its task rows (``status`` open, completed, or cancelled when the
    case moved on without it; ``completed_at`` None while open); ``met`` is True when it was
    done by its due time, False when done late or open past it, None when it had no due time
    or was cancelled. Other elements' runs are their recorded completions. ``fields`` are
    the submitted form values in the form's words, masked where the form says so. Raises
    InvalidInput (``process``/``element``) for a process or element the version lacks."""
    instance = engine.runtime.get(instance_id)
    diagram = engine.repository.diagrams(instance.definition_id).get(process_id)
    if diagram is None:
        raise InvalidInput("流程图中没有该流程 (no such process in this case's version)",
                           errors={"process": "本案件所用版本中没有该流程"})
    if element_id not in diagram.names:
        raise InvalidInput("流程图中没有该环节 (no such element)", errors={"element": "该流程中没有此环节"})
    now = engine.clock()
    with engine.db.read() as session:
        rows = list(session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.element_id == element_id).order_by(HumanTask.created_at)))
        units = unit_names(session, {r.org_unit for r in rows})
    path_runs = [r for r in engine.tracing.path(instance_id).runs
                 if r.process_id == process_id and r.element_id == element_id]
    workflow = engine.runtime.workflow(instance_id)
    rows = [r for r in rows if _in_process(workflow, r.id, process_id)]
    answers = {h["task_id"]: h["answers"] for h in case_history(engine, instance_id, definition_id=instance.definition_id)
               if h["kind"] == "task_completed" and h["task_id"]}
    actors = {r.completed_by for r in rows}
    with engine.db.read() as session:
        names = display_names(session, [a for a in actors if a])
    runs = [{"task_id": r.id, "status": r.status, "ready_at": _iso(r.created_at), "completed_at": _iso(r.completed_at),
             "actor": r.completed_by, "actor_name": _who(r.completed_by, names) if r.status == "completed" else None,
             "role_name": role_name(r.candidate_role), "org_unit_name": units.get(r.org_unit),
             "due_at": _iso(r.due_at), "met": None if r.status == "cancelled" else _met(r.due_at, r.completed_at, now),
             "fields": answers.get(r.id, [])} for r in rows]
    if not rows:   # not a user task: each recorded completion is a run
        runs = [{"task_id": r.task_id, "status": "completed", "ready_at": None, "completed_at": _iso(r.at), "actor": None,
                 "actor_name": "系统（自动）", "role_name": None, "org_unit_name": None,
                 "due_at": None, "met": None, "fields": []} for r in path_runs]
    return {"element_id": element_id, "name": diagram.names.get(element_id), "runs": runs}


def _in_process(workflow, task_id: str, process_id: str) -> bool:
    """Task rows carry an element id only: an element id used in two processes of the case
    (a called process's own ``start``) keeps each run with the process it ran in. A task
    compacted away (a finished loop round) is known by its element id alone."""
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except (KeyError, ValueError, TaskNotFoundException):
        return True
    return task is None or diagram_process(task.workflow) == process_id


def _who(actor: str | None, names: dict) -> str:
    return system_actor(actor) or names.get(actor) or "已删除账号"


def _met(due_at, completed_at, now) -> bool | None:
    if due_at is None:
        return None
    if completed_at is None:
        return False if due_at < now else None
    return completed_at <= due_at


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def with_bpmn_urls(state: dict, base: str) -> dict:
    """``state`` (``TraceService.diagram_state``) with each process's ``bpmn_url``: ``base``
    (``/instances/5`` for pages, ``/api/v1/process-instances/5`` for the API) + ``/bpmn?process=``,
    and ``lane_names`` ({role code: Chinese name}: lanes are named by role codes)."""
    for process_id, entry in state["processes"].items():
        entry["bpmn_url"] = f"{base}/bpmn?process={process_id}"
    state["lane_names"] = {role.code: role.name_zh for role in ROLES}
    return state


def case_bpmn(eng, instance_id: int, process_id: str | None) -> bytes:
    """The BPMN file holding ``process_id`` (default: the case's process) in the case's
    version. Raises NotFound when that version has no such process."""
    instance = eng.runtime.get(instance_id)
    diagram = eng.repository.diagrams(instance.definition_id).get(process_id or instance.process_key)
    if diagram is None:
        raise NotFound(f"本案件所用版本中没有流程 {process_id} (no such process in this case's version)")
    return eng.repository.files(instance.definition_id)[diagram.file_name]


def trace_document(eng, instance_id: int) -> dict:
    """The export's content (see ``export``)."""
    instance = eng.runtime.get(instance_id)
    definition = eng.repository.get(instance.definition_id)
    forms = eng.repository.forms(instance.definition_id)
    state = eng.tracing.diagram_state(instance_id)
    events = [{"seq": e.seq, "kind": e.kind, "actor": e.actor, "at": e.at.isoformat(), "element_id": e.element_id,
               "task_id": e.task_id, "hash": e.hash,
               "data": json.loads(e.data) if e.kind == PATH_EVENT else masked_data(json.loads(e.data), forms)}
              for e in eng.history.events(instance_id)]
    element_ids = sorted({(p, e) for p, entry in state["processes"].items() for e in entry["elements"]})
    return {"instance_id": instance_id, "process_key": instance.process_key, "process_name": definition.name,
            "version": definition.version, "business_key": instance.business_key, "status": instance.status,
            "started_at": instance.created_at.isoformat(),
            "completed_at": instance.completed_at.isoformat() if instance.completed_at else None,
            "diagram": state, "runs": [element_runs(eng, instance_id, p, e) for p, e in element_ids],
            "events": events, "verification": verification(eng, instance_id),
            "exported_at": eng.clock().isoformat()}


def trace_timeline(eng, instance_id: int, definition_id: int) -> list[dict]:
    """The full timeline of a case (``case_history(full=True)``) with the confirmed versions
    of its dropout report, which are sealed in their own table rather than on the chain
    (``ledger.document_versions``): ``{kind: "document_confirmed", title, detail: SHA-256}``."""
    entries = case_history(eng, instance_id, definition_id=definition_id, full=True)
    with eng.db.read() as session:
        versions = list(session.scalars(select(DocumentVersion).where(
            DocumentVersion.instance_id == instance_id, DocumentVersion.kind == REPORT_KIND)
            .order_by(DocumentVersion.version)))
        names = display_names(session, [v.confirmed_by for v in versions if v.confirmed_by])
    for v in versions:
        entries.append({"kind": "document_confirmed", "label": "文书定稿", "at": v.confirmed_at.isoformat(),
                        "recorded_at": v.confirmed_at.isoformat(), "late": False, "actor": v.confirmed_by,
                        "actor_name": _who(v.confirmed_by, names), "system": not v.confirmed_by,
                        "element_id": None, "title": f"{KINDS[REPORT_KIND].title} 第{v.version}版",
                        "detail": f"SHA-256 {v.sha256}" if v.sha256 else None, "role_name": None,
                        "org_unit_name": None, "task_id": None, "answers": []})
    entries.sort(key=lambda e: datetime.fromisoformat(e["at"]))   # stable: equal times keep their order
    return entries


def path_steps(eng, instance_id: int) -> list[dict]:
    """The elements the case completed, in order, for paper (the printed diagram shows only
    the top plane): ``[{at, process, name}]``; unnamed elements (plain gateways, the engine's
    own steps) are left out. Names come from the case's version."""
    instance = eng.runtime.get(instance_id)
    diagrams = eng.repository.diagrams(instance.definition_id)
    steps = []
    for run in eng.tracing.path(instance_id).runs:
        diagram = diagrams.get(run.process_id)
        name = diagram.names.get(run.element_id) if diagram else None
        if name:
            steps.append({"at": run.at, "process": diagram.name or run.process_id, "name": name})
    return steps
