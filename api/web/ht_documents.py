"""A home-teaching case's printable documents (送教上门, issue 11), linked from the child page.

* ``GET /instances/<id>/home-teaching/plan``: the 个别化教育计划（一人一案）, the version kept
  at the federation's countersignature (``?version=N`` an earlier one), or the plan as drawn
  so far, marked as a draft (``ledger.ht_documents``).
* ``GET /instances/<id>/home-teaching/visits?term=2025-2026-1``: the term record of visits
  with each month against the norm (``ledger.ht_visit_record``); without ``term`` the latest
  term with a visit.

A4 print pages (``?view=print`` forces the print layout on a phone) with no script. Who may:
``ht_documents.may_see``; anyone else, and a case that is not a home-teaching case, gets the
same 404 as for a case that does not exist; a plan not drawn yet is a 409. Every view is
written to ``AccessLog``.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request

from ledger import ht_documents, ht_visit_record, task_photos
from ledger.document_case import Case

from ..auth import current_principal, login_required
from .common import engine, error_page

bp = Blueprint("ht_documents", __name__)

NOT_VISIBLE = "文书不存在，或您无权查看此案件的文书。"


def _visible(instance_id: int) -> bool:
    return ht_documents.may_see(engine(), current_principal(), instance_id)


@bp.get("/instances/<int:instance_id>/home-teaching/plan")
@login_required
def plan(instance_id: int):
    """The plan (kept version or draft); 404 outside the case, 409 while none is drawn."""
    if not _visible(instance_id):
        return error_page(404, NOT_VISIBLE, "文书不存在")
    version = request.args.get("version")
    if version is not None and not (version.isdigit() and 0 < int(version) < 10_000):
        return error_page(404, "没有这一版计划。", "文书不存在")
    try:
        doc = ht_documents.plan_document(engine(), instance_id, int(version) if version else None)
    except KeyError:
        return error_page(404, "没有这一版计划。", "文书不存在")
    except LookupError:
        return error_page(409, "个别化教育计划尚未制定：班主任“制定个别化教育计划”办结后才能查看和打印。", "文书尚未生成")
    ht_documents.record_view(engine(), current_principal().username, doc)
    return render_template("doc_ht_plan.html", doc=doc, print_view=request.args.get("view") == "print")


@bp.get("/instances/<int:instance_id>/home-teaching/visits")
@login_required
def visits(instance_id: int):
    """The term record of visits (``term``: ``2025-2026-1``); 404 outside the case or for a
    malformed term."""
    if not _visible(instance_id):
        return error_page(404, NOT_VISIBLE, "文书不存在")
    eng = engine()
    case, data = Case(eng, instance_id), eng.runtime.variables(instance_id)
    terms = ht_visit_record.terms(case, data.get("month_checks") or [])
    today = eng.clock().astimezone(eng.zone).date().isoformat()
    term = request.args.get("term") or (terms[-1] if terms else ht_visit_record.term_of(today))
    if not ht_visit_record.is_term(term):
        return error_page(404, "没有这个学期。", "文书不存在")
    photos = task_photos.listed(eng, instance_id)     # each served by api.web.photos, every view logged
    doc = {**ht_visit_record.term_record(case, term, data, today, photos), "kind": "ht-visits", "instance_id": instance_id,
           "title": "送教上门学期记录", "terms": [(t, ht_visit_record.term_label(t)) for t in terms]}
    ht_documents.record_view(eng, current_principal().username, doc)
    return render_template("doc_ht_visits.html", doc=doc, print_view=request.args.get("view") == "print")
