"""The trace of one case for those who check it (issue 13): its diagram with the path taken,
the runs of each element, the verification of its record, the whole trace as JSON.

Who may call: whoever may trace the case (``ledger.access.can_trace_instance``); others get
the same 404 as for a case that does not exist. Every call that shows the case's data writes
an access-log row (``taskview.log_case_view``).
"""
from __future__ import annotations

import json

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..auth import api_user
from ..tracing import case_bpmn, element_runs, trace_document, verification, with_bpmn_urls
from ..taskview import log_case_view
from . import engine
from .instances import traced

blp = Blueprint("trace", __name__, url_prefix="/api/v1/process-instances",
                description="The trace of a case: diagram state, element runs, verification, export")

ID = validate.Length(min=1, max=255)


class ProcessArg(Schema):
    process = fields.String(load_default=None, validate=ID)


class RunsArgs(Schema):
    process = fields.String(required=True, validate=ID)
    element = fields.String(required=True, validate=ID)


@blp.get("/<int:instance_id>/diagram-state")
def diagram_state(instance_id):
    """``{instance_id, process_id, version, processes: {pid: {bpmn_url, elements: {id: {runs,
    state}}, flows: [flow id]}}, calls: {call activity: called process}, recorded_since}``:
    ``engine.tracing.TraceService.diagram_state``. No personal data: not logged."""
    traced(api_user(), instance_id)
    return with_bpmn_urls(engine().tracing.diagram_state(instance_id), f"/api/v1/process-instances/{instance_id}")


@blp.get("/<int:instance_id>/bpmn")
@blp.arguments(ProcessArg, location="query")
def bpmn(args, instance_id):
    """The BPMN XML of the file that holds ``process`` (default: the case's own process) in
    the version the case runs on. 404 when that version has no such process."""
    traced(api_user(), instance_id)
    eng = engine()
    return Response(case_bpmn(eng, instance_id, args["process"]), mimetype="application/xml")


@blp.get("/<int:instance_id>/element-runs")
@blp.arguments(RunsArgs, location="query")
def runs(args, instance_id):
    """The runs of one element: ``api.tracing.element_runs``. 422 for an unknown process or
    element. Logged: a run shows the data submitted (masked where the form says so)."""
    principal = api_user()
    traced(principal, instance_id)
    eng = engine()
    found = element_runs(eng, instance_id, args["process"], args["element"])
    log_case_view(eng, principal.username, instance_id, "element_runs", extra={"element_id": args["element"]})
    return found


@blp.get("/<int:instance_id>/verification")
def verify(instance_id):
    """Recompute the case's hash chain now: ``{ok, count, first_bad, findings: [{seq,
    position, problem}]}`` (``api.tracing.verification``)."""
    traced(api_user(), instance_id)
    return verification(engine(), instance_id)


@blp.get("/<int:instance_id>/trace")
def export(instance_id):
    """The whole trace as one JSON document for an inspection file (downloaded as
    ``case-<id>-trace.json``): the case, its diagram state, its events (data masked as
    the forms say), its element runs per user task, and the verification at export time.
    Logged as an export."""
    principal = api_user()
    traced(principal, instance_id)
    document = trace_document(engine(), instance_id)
    log_case_view(engine(), principal.username, instance_id, "trace_export", action="export")
    return Response(json.dumps(document, ensure_ascii=False, indent=1), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="case-{instance_id}-trace.json"'})
