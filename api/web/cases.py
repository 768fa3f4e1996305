"""``/instances/<id>``: one case as a file: its child, where it stands, its open tasks, its
documents and its history (``api.casehistory``).

Who may open it is who may trace it (``ledger.access.can_trace_instance``: the holders of a
pair of one of its tasks, its supervisors, the discipline inspector); anyone else gets the
same 404 as for a case that does not exist. The child is shown masked here (the task page
shows a task's candidates what that task needs), and every view is logged.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from engine.errors import NotFound
from engine.persistence.models import HumanTask, ProcessInstance
from ledger import access, documents
from ledger.inbox import describe_tasks

from ..auth import current_principal, login_required
from ..casehistory import case_history, waiting_for
from ..taskview import log_case_view
from ..tracing import trace_timeline
from .common import engine, error_page
from .migration import admin_panel

bp = Blueprint("cases", __name__)

NOT_VISIBLE = "案件不存在，或您无权查看此案件。"
STATUS_NAMES = {"active": "办理中", "suspended": "已暂停（系统管理员暂停，待办暂不能办理）", "completed": "已办结",
                "error": "出错，等待系统管理员处理", "terminated": "已终止"}


@bp.get("/instances/<int:instance_id>")
@login_required
def show(instance_id: int):
    principal = current_principal()
    eng = engine()
    with eng.db.transaction() as session:
        visible = access.can_trace_instance(session, principal, instance_id)
    try:
        instance = eng.runtime.get(instance_id) if visible else None
    except NotFound:
        instance = None
    if instance is None:
        return error_page(404, NOT_VISIBLE, "案件不存在")
    log_case_view(eng, principal.username, instance_id, "case")
    with eng.db.read() as session:
        rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)
                                    .order_by(HumanTask.created_at, HumanTask.id)))
    tasks = describe_tasks(eng, rows, eng.clock())
    subject = next((t["subject"] for t in tasks if t["subject"]), None)
    open_tasks = [t for t in tasks if t["status"] == "open"]
    definition = eng.repository.get(instance.definition_id)
    full = request.args.get("timeline") == "full"
    history = trace_timeline(eng, instance_id, instance.definition_id) if full else \
        case_history(eng, instance_id, definition_id=instance.definition_id)
    chain = eng.history.verify_chain(instance_id)   # a changed record is never shown as if sound
    return render_template(
        "case.html", chain_ok=chain.ok, back=("/instances", "← 返回案件查询") if principal_traces_all(principal)
        else ("/inbox", "← 返回待办"), instance=instance, status_name=STATUS_NAMES.get(instance.status, instance.status),
        process_name=definition.name or definition.process_key, process_version=definition.version,
        subject=subject, child_link=subject is not None and child_visible(principal, subject["child_id"]),
        open_tasks=open_tasks, waits=waiting_for(eng, instance_id) if instance.status == "active" and not open_tasks
        else [], history=history, full_timeline=full,
        documents=documents.available(eng, instance_id, principal), linked=linked_cases(principal, instance_id),
        admin=admin_panel(eng, principal, instance))


def principal_traces_all(principal) -> bool:
    """Those who read every case come to a case from the case list, not from an inbox."""
    return any(principal.holds(role) for role in access.CASE_READERS)


def linked_cases(principal, instance_id: int) -> list[dict]:
    """The cases linked to this one by its messages that ``principal`` may trace:
    ``[{id, relation, process_name, status_name}]`` (relation 由此案件发起 / 发起本案件 — e.g. a
    persuasion case and the support measures it opened). Others are left out, not masked."""
    eng = engine()
    links = eng.messages.linked(instance_id)
    rows = []
    with eng.db.read() as session:
        for relation, ids in (("发起本案件", links["started_by"]), ("由此案件发起", links["started"])):
            for other in ids:
                if not access.can_trace_instance(session, principal, other):
                    continue
                instance = session.get(ProcessInstance, other)
                definition = eng.repository.get(instance.definition_id, session)
                rows.append({"id": other, "relation": relation, "status_name": STATUS_NAMES.get(instance.status,
                             instance.status), "process_name": definition.name or definition.process_key})
    return rows


def child_visible(principal, child_id: int) -> bool:
    """May ``principal`` open ``/children/<child_id>``? Pages link to it only then."""
    with engine().db.read() as session:
        return child_id in access.visible_children(session, principal, [child_id])
