"""Process instances: start, list (scoped), inspect, the audit timeline."""
from __future__ import annotations

import json

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.incidents import public_message
from engine.persistence.models import ProcessInstance
from ledger import access
from ledger.case_list import CaseFilter, case_list, log_list
from ledger.case_handoff import OPEN_STATUSES
from ledger.case_list.filters import DEFAULT_PER_PAGE, MAX_PER_PAGE
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


def _text(description: str):
    # Text only: ledger.case_list.CaseFilter checks every value, for this list and the page alike.
    return fields.String(load_default=None, metadata={"description": description})


class ListArgs(Schema):
    process_key = _text("a process key")
    version = _text("a version number of process_key (needs process_key)")
    status = _text("running | waiting | suspended | completed | error | terminated; active = running or waiting")
    outcome = _text("a case outcome code (ledger.case_outcomes.OUTCOMES) of a closed case")
    org_unit = _text("an org unit code one of the case's tasks was routed to")
    school = _text("a school's code: its tasks (and its classes') or its children's cases")
    village = _text("a village's code: its tasks or its children's cases")
    child_id = _text("the child's register id")
    child = _text("a case number (12 or #12), a masked name (张*明) or the child's full name (exact)")
    step = _text("the element id of an open task")
    overdue = _text("1/true: only cases with an overdue open task")
    started_from = _text("YYYY-MM-DD, local day, inclusive")
    started_to = _text("YYYY-MM-DD, local day, inclusive")
    closed_from = _text("YYYY-MM-DD, local day, inclusive")
    closed_to = _text("YYYY-MM-DD, local day, inclusive")
    sort = _text("started (default) | closed | due | id")
    order = _text("desc (default) | asc")
    page = _text("from 1")
    per_page = _text(f"1-{MAX_PER_PAGE}, default {DEFAULT_PER_PAGE}")


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
                ProcessInstance.status.in_(OPEN_STATUSES))):
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


@blp.get("")
@blp.arguments(ListArgs, location="query")
@blp.alt_response(422, description="`errors` {field: 中文} for every bad filter ")
def list_instances(args):
    """The cases the caller may trace (``ledger.access.case_scope``: the inspector, the task
    force and the county bureau every case; a principal their school's, a village secretary
    their village's; others their own tasks' cases), filtered, sorted and paged:
    ``{items, total, page, per_page, pages, counts: {status: {running, waiting, completed,
    suspended, error, terminated}, step: [{element_id, name, count}]}}`` (``ledger.case_list.case_list``;
    items ``query.describe``: the child's name masked). Each call is written to the access
    log (subject ``cases``). 422 naming the field for a bad or unknown value, a reversed
    date range or ``version`` without ``process_key``."""
    principal = api_user()
    flt = CaseFilter.from_query(args)
    data = case_list(engine(), principal, flt)
    log_list(engine(), principal.username, flt, data)
    return data


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
    """Status, version, active tasks, completed element ids, the sequence flows taken
    (``flows_taken``), open incidents, and the messages
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
            "completed_elements": completed, "flows_taken": flows_taken(eng, instance_id),
            "incidents": incidents, "waiting_messages": waiting}


def flows_taken(eng, instance_id: int) -> list[str]:
    """The sequence flows of the case's own process the engine recorded as taken, in the
    order first taken (``engine.tracing``; a called process's: ``/diagram-state``)."""
    state = eng.tracing.diagram_state(instance_id)
    return state["processes"][state["process_id"]]["flows"]


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
