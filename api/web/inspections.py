"""Quarterly inspection pages (季度督查, issue 13).

* ``GET /inspections``: the rounds (open and closed), and for the task-force leader the form
  that opens a quarter's round (year + quarter: a quarter that has begun).
* ``POST /inspections/rounds``: open it (``ledger.inspection.start_round``); a bad quarter or a
  round already open is said in Chinese on the page it came from.
* ``GET /instances/<id>/inspection/notice/<unit>``: a unit's 《通报批评》 (a draft until the
  leader approves it; ``.docx`` the same as a Word file, ``ledger.document_docx``);
  ``GET /instances/<id>/inspection/summary``: the round's summary report.
  Printable A4 pages (``?view=print``), every view logged; a round or paper outside one's
  scope is the same 404 as one that does not exist.
"""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request
from sqlalchemy import select

from engine.errors import Conflict, InvalidInput
from engine.persistence.models import ProcessInstance
from ledger import document_docx, inspection_documents
from ledger.inspection import PROCESS_KEY, STARTERS, quarter_label, quarter_of, start_round

from ..auth import current_principal, login_required
from .common import engine, error_page

bp = Blueprint("inspections", __name__)
NOT_VISIBLE = "文书不存在，或您无权查看。"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
READERS = ("task_force_leader", "task_force_deputy", "discipline_inspector", "livelihood_office", "town_government")


@bp.get("/inspections")
@login_required
def index():
    """The rounds, newest first: {instance_id, round_ref, status, created_at}; the start form."""
    principal = current_principal()
    if not any(principal.holds(role) for role in READERS):
        return error_page(403, "季度督查仅供专班、督查组和镇有关部门查看。")
    eng = engine()
    with eng.db.read() as session:
        rounds = [{"instance_id": i, "round_ref": _label((key or "").partition(":")[2]), "status": status, "created_at": at}
                  for i, key, status, at in session.execute(
                      select(ProcessInstance.id, ProcessInstance.business_key, ProcessInstance.status,
                             ProcessInstance.created_at).where(ProcessInstance.process_key == PROCESS_KEY)
                      .order_by(ProcessInstance.id.desc()).limit(100))]
    year, quarter = quarter_of(eng.clock().astimezone(eng.zone).date())
    return render_template("inspections.html", rounds=rounds, year=year, quarter=quarter,
                           may_start=any(principal.holds(role) for role in STARTERS))


@bp.post("/inspections/rounds")
@login_required
def open_round():
    """Open a quarter's round (the leader); errors in Chinese on /inspections."""
    principal = current_principal()
    if not any(principal.holds(role) for role in STARTERS):
        return error_page(403, "只有控辍保学专班组长可以发起季度督查。")
    try:
        result = start_round(engine(), principal.username, request.form.get("year", ""), request.form.get("quarter", ""))
    except InvalidInput as exc:
        flash("；".join(exc.errors.values()), "error")
        return redirect("/inspections")
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect("/inspections")
    flash(f"已发起{result['quarter_label']}督查：{result['units']} 个单位的督查任务已交督查组。", "success")
    return redirect("/inspections")


@bp.get("/instances/<int:instance_id>/inspection/notice/<unit>")
@login_required
def notice(instance_id: int, unit: str):
    """A unit's criticism notice; 404 outside one's scope or for a unit without failings;
    ``<unit>.docx``: the same as a Word file."""
    eng, principal = engine(), current_principal()
    word = unit.endswith(".docx")
    unit = unit.removesuffix(".docx")
    if not inspection_documents.may_see(eng, principal, instance_id, unit):
        return error_page(404, NOT_VISIBLE, "文书不存在")
    try:
        doc = inspection_documents.notice(eng, instance_id, unit)
    except LookupError:
        return error_page(404, "该单位本轮督查没有通报批评。", "文书不存在")
    inspection_documents.record_view(eng, principal.username, doc, "export" if word else "view")
    if word:
        return Response(document_docx.render(doc), mimetype=DOCX, headers={
            "Content-Disposition": f"attachment; filename=inspection-notice-{instance_id}-{unit}.docx"})
    return render_template("doc_inspection_notice.html", doc=doc, print_view=request.args.get("view") == "print")


@bp.get("/instances/<int:instance_id>/inspection/summary")
@login_required
def summary(instance_id: int):
    """The round's summary report (a draft until the leader approves it)."""
    eng, principal = engine(), current_principal()
    if not inspection_documents.may_see(eng, principal, instance_id):
        return error_page(404, NOT_VISIBLE, "文书不存在")
    doc = inspection_documents.summary(eng, instance_id)
    inspection_documents.record_view(eng, principal.username, doc)
    return render_template("doc_inspection_summary.html", doc=doc, print_view=request.args.get("view") == "print")


def _label(ref: str) -> str:
    """``2026Q2`` as people write it (2026年第二季度); anything else as it is."""
    year, _, quarter = ref.partition("Q")
    return quarter_label(int(year), int(quarter)) if year.isdigit() and quarter in ("1", "2", "3", "4") else ref
