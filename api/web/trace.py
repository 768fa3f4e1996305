"""The trace of one case on its page (issue 13): the data the diagram on ``/instances/<id>``
loads (the same as ``/api/v1/process-instances/<id>/...``, for the page's session), the
verification of the record, the printable A4 trace and the JSON export.

Who may open them is who may trace the case (``ledger.access.can_trace_instance``); anyone
else gets the same 404 as for a case that does not exist. What shows the case's data is
logged (``taskview.log_case_view``): element runs as a view, the print and the export as such.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, render_template, request

from engine.errors import InvalidInput, NotFound
from ledger import access

from ..auth import current_principal, login_required
from ..errors import error_body
from ..taskview import log_case_view
from ..tracing import (case_bpmn, element_runs, path_steps, trace_document, trace_timeline, verification,
                       with_bpmn_urls)
from .common import engine, error_page

bp = Blueprint("trace", __name__)
NOT_VISIBLE = "案件不存在，或您无权查看此案件。"
LIMIT = 255


def _traceable(instance_id: int):
    """The instance if the signed-in person may trace it, else None."""
    eng = engine()
    with eng.db.transaction() as session:
        if not access.can_trace_instance(session, current_principal(), instance_id):
            return None
    try:
        return eng.runtime.get(instance_id)
    except NotFound:
        return None


def _not_found_json():
    return jsonify({"code": "not_found", "message": NOT_VISIBLE}), 404


def _arg(name: str, required: bool = True) -> str | None:
    value = request.args.get(name, "").strip()
    if (required and not value) or len(value) > LIMIT:
        raise InvalidInput("参数有误", errors={name: "必填，且不超过 255 个字符"})
    return value or None


@bp.get("/instances/<int:instance_id>/diagram-state")
@login_required
def diagram_state(instance_id: int):
    """``engine.tracing.TraceService.diagram_state`` as JSON."""
    if _traceable(instance_id) is None:
        return _not_found_json()
    return jsonify(with_bpmn_urls(engine().tracing.diagram_state(instance_id), f"/instances/{instance_id}"))


@bp.get("/instances/<int:instance_id>/bpmn")
@login_required
def bpmn(instance_id: int):
    """The BPMN XML holding ``?process=`` in the case's version (``api.tracing.case_bpmn``)."""
    if _traceable(instance_id) is None:
        return _not_found_json()
    return Response(case_bpmn(engine(), instance_id, _arg("process", required=False)), mimetype="application/xml")


@bp.get("/instances/<int:instance_id>/element-runs")
@login_required
def runs(instance_id: int):
    """``api.tracing.element_runs`` for ``?process=&element=`` (422 naming the parameter)."""
    if _traceable(instance_id) is None:
        return _not_found_json()
    eng = engine()
    try:
        found = element_runs(eng, instance_id, _arg("process"), _arg("element"))
    except InvalidInput as exc:   # the diagram's script reads the reason (JSON, not a page)
        return jsonify(error_body(422, exc.message, exc.errors)), 422
    log_case_view(eng, current_principal().username, instance_id, "element_runs",
                  extra={"element_id": found["element_id"]})
    return jsonify(found)


@bp.get("/instances/<int:instance_id>/verify")
@login_required
def verify(instance_id: int):
    """The hash-chain check of the case's record, run now, in words."""
    instance = _traceable(instance_id)
    if instance is None:
        return error_page(404, NOT_VISIBLE, "案件不存在")
    return render_template("trace_verify.html", instance=instance, result=verification(engine(), instance_id))


@bp.get("/instances/<int:instance_id>/trace.json")
@login_required
def export(instance_id: int):
    """The trace for an inspection file (``api.tracing.trace_document``), logged as an export."""
    if _traceable(instance_id) is None:
        return error_page(404, NOT_VISIBLE, "案件不存在")
    eng = engine()
    document = trace_document(eng, instance_id)
    log_case_view(eng, current_principal().username, instance_id, "trace_export", action="export")
    return Response(json.dumps(document, ensure_ascii=False, indent=1), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="case-{instance_id}-trace.json"'})


@bp.get("/instances/<int:instance_id>/print")
@login_required
def printable(instance_id: int):
    """The trace as an A4 page: the case, its diagram with the path, the full timeline and
    the verification at printing time. Logged as a print."""
    instance = _traceable(instance_id)
    if instance is None:
        return error_page(404, NOT_VISIBLE, "案件不存在")
    eng = engine()
    definition = eng.repository.get(instance.definition_id)
    log_case_view(eng, current_principal().username, instance_id, "trace_print", action="print")
    return render_template("trace_print.html", instance=instance, definition=definition,
                           process_name=definition.name or definition.process_key,
                           timeline=trace_timeline(eng, instance_id, instance.definition_id),
                           steps=path_steps(eng, instance_id),
                           result=verification(eng, instance_id), printed_at=eng.clock())
