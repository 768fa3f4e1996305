"""Process instances: start, list (scoped), inspect, the audit timeline."""
from __future__ import annotations

import json

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.incidents import public_message
from engine.persistence.models import HumanTask, ProcessInstance
from ledger import access
from ledger.models import Child

from ..auth import api_user
from ..taskview import log_case_view, masked_data
from . import engine

blp = Blueprint("instances", __name__, url_prefix="/api/v1/process-instances",
                description="Process instances (cases)")


class StartArgs(Schema):
    process_key = fields.String(required=True, validate=validate.Length(min=1, max=255))
    variables = fields.Dict(load_default=dict)
    business_key = fields.String(load_default=None, validate=validate.Length(max=255))


class ListArgs(Schema):
    process_key = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(["active", "completed", "error", "terminated"]))
    org_unit = fields.String(load_default=None)
    child_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    overdue = fields.Boolean(load_default=None)


@blp.post("")
@blp.arguments(StartArgs)
def start(args):
    """Start ``process_key`` with ``variables``; returns ``{instance_id, status, running, next_tasks}``
    (``running``: a long run of engine steps goes on in the worker; its tasks appear later).

    A case about a child carries ``variables.child_id``. Who may start: the holders of the
    start event's lane role (in the child's class, school or village), or the town task
    force; a process whose start lies outside lanes, town roles only. A child has at most
    one open case per process: the business key defaults to ``child:<id>`` and a second
    open instance with the same key is a 409. Variable names must be plain identifiers.
    """
    principal = api_user()
    eng = engine()
    variables = _checked_variables(args["variables"])
    definition = eng.repository.latest(args["process_key"])
    lanes = eng.repository.start_lanes(definition)
    child_id = variables.get("child_id")
    business_key = args["business_key"] or (f"child:{child_id}" if child_id is not None else None)
    with eng.db.read() as session:
        child = session.get(Child, child_id) if child_id is not None else None
        if child_id is not None and child is None:
            raise InvalidInput("未知的儿童 (unknown child)", errors={"variables.child_id": "no such child"})
        if not access.may_start(session, principal, lanes, child):
            raise Forbidden("无权发起该流程 (your role does not start this process for this child)")
        if business_key and session.scalar(select(ProcessInstance.id).where(
                ProcessInstance.process_key == definition.process_key,
                ProcessInstance.business_key == business_key,
                ProcessInstance.status.in_(("active", "error")))):
            raise Conflict(f"已有进行中的同类案件 (an open {definition.process_key} case exists for {business_key})")
    result = eng.runtime.start(args["process_key"], variables, business_key=business_key,
                               actor=principal.username)
    return result.to_dict(), 201


MAX_ID = 2**31 - 1


def _checked_variables(variables: dict) -> dict:
    errors = {f"variables.{k}": "变量名须为字母、数字和下划线，且不以下划线开头 (plain identifier)"
              for k in variables if not (isinstance(k, str) and k.isidentifier() and not k.startswith("_"))}
    child_id = variables.get("child_id")
    if child_id is not None and (isinstance(child_id, bool) or not isinstance(child_id, int)
                                 or not 0 < child_id <= MAX_ID):
        errors["variables.child_id"] = "须为儿童编号（正整数）(a child id)"
    if errors:
        raise InvalidInput("启动参数无效 (invalid variables)", errors=errors)
    return variables


def _visible_ids(session, principal) -> set[int] | None:
    """Instance ids the caller may trace; None = all (inspector, task force)."""
    if principal.holds(access.INSPECTOR) or any(principal.holds(r) for r in access.TOWN_SUPERVISORS):
        return None
    units = access.supervised_units(session, principal) or set()
    pairs = principal.pairs()
    ids = set()
    town_wide = any(principal.holds(role) for role in access.TOWN_WIDE_READERS)
    for row in session.execute(select(HumanTask.instance_id, HumanTask.candidate_role, HumanTask.org_unit,
                                      HumanTask.process_key)):
        if town_wide or row.process_key not in access.TOWN_WIDE_CASES:   # as access.can_trace_instance
            if (row.candidate_role, row.org_unit) in pairs or row.org_unit in units:
                ids.add(row.instance_id)
    return ids


@blp.get("")
@blp.arguments(ListArgs, location="query")
def list_instances(args):
    """Instances the caller may trace, newest first (at most 500)."""
    principal = api_user()
    eng = engine()
    with eng.db.transaction() as session:
        visible = _visible_ids(session, principal)
        query = select(ProcessInstance).order_by(ProcessInstance.id.desc()).limit(500)
        if visible is not None:
            query = query.where(ProcessInstance.id.in_(visible or {-1}))
        for column, key in ((ProcessInstance.process_key, "process_key"), (ProcessInstance.status, "status")):
            if args[key] is not None:
                query = query.where(column == args[key])
        if args["child_id"] is not None or args["org_unit"] is not None or args["overdue"]:
            tasks = select(HumanTask.instance_id)
            if args["child_id"] is not None:
                tasks = tasks.where(HumanTask.subject_id == str(args["child_id"]))
            if args["org_unit"] is not None:
                tasks = tasks.where(HumanTask.org_unit == args["org_unit"])
            if args["overdue"]:
                tasks = tasks.where(HumanTask.status == "open", HumanTask.due_at < eng.clock())
            query = query.where(ProcessInstance.id.in_(tasks))
        rows = session.scalars(query).all()
    return {"items": [_summary(r) for r in rows], "total": len(rows)}


def _summary(row: ProcessInstance) -> dict:
    return {"instance_id": row.id, "process_key": row.process_key, "definition_id": row.definition_id,
            "business_key": row.business_key, "status": row.status, "started_by": row.started_by,
            # engine steps left that the worker goes on with (a long loop): "still running"
            "running": row.pending_steps is not None,
            "created_at": row.created_at.isoformat(),
            "completed_at": row.completed_at.isoformat() if row.completed_at else None}


def traced(principal, instance_id: int):
    if not 0 < instance_id <= MAX_ID:
        raise NotFound("流程实例不存在 (process instance not found)")
    eng = engine()
    with eng.db.transaction() as session:
        if session.get(ProcessInstance, instance_id) is None or \
                not access.can_trace_instance(session, principal, instance_id):
            raise NotFound("流程实例不存在 (process instance not found)")


@blp.get("/<int:instance_id>")
def get_instance(instance_id):
    """Status, version, active tasks, completed element ids, open incidents, and the messages
    it waits for (``waiting_messages``: {element_id, message_name, correlation, status,
    missing}; status ``uncorrelatable``: a correlation property has no value in the case, so
    no message can reach it until an administrator sets ``missing``)."""
    from SpiffWorkflow.util.task import TaskState
    principal = api_user()
    traced(principal, instance_id)
    eng = engine()
    instance = eng.runtime.get(instance_id)
    definition = eng.repository.get(instance.definition_id)
    workflow = eng.runtime.workflow(instance_id)
    # get_tasks(state=COMPLETED) skips finished tasks below unfinished parents (multi-instance,
    # boundary branches: SPIFFWORKFLOW-NOTES 10-M), so walk every task and filter.
    completed = sorted({t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.ANY_MASK)
                        if t.state == TaskState.COMPLETED and t.task_spec.bpmn_id})
    active = [{"element_id": t.task_spec.bpmn_id, "name": t.task_spec.bpmn_name,
               "state": TaskState.get_name(t.state)}
              for t in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.ERROR)
              if t.task_spec.bpmn_id]
    incidents = [{"incident_id": i.id, "element_id": i.element_id, "message": public_message(i.message),
                  "created_at": i.created_at.isoformat()} for i in eng.runtime.incidents(instance_id)]
    waiting = [{"element_id": w.element_id, "message_name": w.message_name, "correlation": json.loads(w.correlation),
                "status": w.status, "missing": w.missing.split(",") if w.missing else []}
               for w in eng.messages.subscriptions(instance_id)]
    return {**_summary(instance), "version": definition.version, "active": active,
            "completed_elements": completed, "incidents": incidents, "waiting_messages": waiting}


@blp.get("/<int:instance_id>/events")
def events(instance_id):
    """The audit timeline (hash-chained) and whether the chain verifies (checked here, on the
    stored values). The events carry the case's submitted data, values marked ``x-mask`` shown
    masked (``taskview.masked_data``), so each call writes an access-log row."""
    principal = api_user()
    traced(principal, instance_id)
    eng = engine()
    log_case_view(eng, principal.username, instance_id, "case_events")
    report = eng.history.verify_chain(instance_id)
    forms = eng.repository.forms(eng.runtime.get(instance_id).definition_id)
    return {"chain_ok": report.ok, "problems": report.problems,
            "events": [{"seq": e.seq, "kind": e.kind, "actor": e.actor, "at": e.at.isoformat(),
                        "element_id": e.element_id, "task_id": e.task_id,
                        "data": masked_data(json.loads(e.data), forms)}
                       for e in eng.history.events(instance_id)]}
