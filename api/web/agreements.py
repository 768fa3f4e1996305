"""The responsibility agreements' pages (issue 12).

* ``GET /agreements``: the register of a school year: counts by status, filters
  (``school_year``, ``unit``, ``status``, ``tier``: the names ``GET /api/v1/agreements`` takes;
  ``year`` still works for older links), one line per agreement, ``per_page`` (50) a page
  (``page``); the export as .xlsx (``/agreements/export.xlsx``, same filters, every line).
  A bad filter value: the register by the other filters, the reason beside that filter (422);
  a page beyond the last says so, with a link to the last. The office and the task force may open
  the year's campaign from here (``POST /agreements/campaigns``).
* ``GET /agreements/<ref>/text``: what a party reads before confirming (the latest kept
  document, else the text from its template), with the kept versions.
* ``GET /agreements/documents/<id>``: a kept document as a printable A4 page (PDF-ready
  HTML: print to PDF from the browser); ``.docx`` the same as a Word file.
* ``GET /agreements/templates``: the four texts as kept in the repository.

Scope and rules: ``ledger.agreement_views``; a document outside one's scope is a 404.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request

from engine.errors import Conflict, InvalidInput, NotFound
from ledger.agreement_check import after_step
from ledger.agreement_texts import KINDS, paragraphs, preview, to_docx
from ledger.agreement_views import (DEFAULT_PER_PAGE, STATUS_NAMES, RegisterFilter, current_text, document,
                                    documents, export_xlsx, register, visible_agreement, years)
from ledger.agreements import STARTERS, school_year_of, start_campaign, units_of

from ..auth import current_principal, login_required
from .common import engine, error_page, page_url

bp = Blueprint("agreements", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _bad_filter(exc: InvalidInput):
    return error_page(422, "；".join(exc.errors.values()), "筛选条件不正确")


@bp.get("/agreements")
@login_required
def index():
    """The register page (see the module doc)."""
    principal = current_principal()
    try:
        flt, data, errors = _register_despite(principal, request.args.to_dict())
    except InvalidInput as exc:
        return _bad_filter(exc)
    with engine().db.read() as session:
        units = units_of(session)
    filters = {key: value for key, value in (("school_year", data["school_year"]), ("unit", flt.unit),
                                            ("status", flt.status), ("tier", flt.tier)) if value}
    if flt.per_page != DEFAULT_PER_PAGE:
        filters["per_page"] = flt.per_page
    return render_template("agreements.html", data=data, flt=flt, years=years(engine()), units=units,
                           statuses=STATUS_NAMES, filters=filters, page=data["page"], pages=data["pages"],
                           prev_url=page_url("/agreements", filters, data["page"] - 1) if data["page"] > 1 else None,
                           next_url=(page_url("/agreements", filters, data["page"] + 1)
                                     if data["page"] < data["pages"] else None),
                           may_start=any(principal.holds(role) for role in STARTERS), errors=errors,
                           this_year=school_year_of(engine().clock().astimezone(engine().zone).date())), \
        422 if errors else 200


def _register_despite(principal, args: dict) -> tuple[RegisterFilter, dict, dict]:
    """The register with every valid filter kept and each bad one left out: ``(filter, data,
    errors {field: 中文})`` (issue 12 review: a bad value gave a dead-end page; now the page
    shows the register with the reason beside that filter, answered 422). InvalidInput when
    an error names no filter that could be left out."""
    errors: dict = {}
    while True:
        try:
            flt = RegisterFilter.from_query(args)
            return flt, register(engine(), principal, flt), errors
        except InvalidInput as exc:
            dropped = [field for field in exc.errors if field in args or (field == "school_year" and "year" in args)]
            if not dropped:
                raise
            for field in dropped:
                errors[field] = exc.errors[field]
                args.pop(field, None)
                if field == "school_year":
                    args.pop("year", None)


@bp.get("/agreements/export.xlsx")
@login_required
def export():
    """The register as filtered, every line (no paging), as .xlsx."""
    try:
        flt = RegisterFilter.from_query(request.args)
        flt.page = None
        data = register(engine(), current_principal(), flt)
    except InvalidInput as exc:
        return _bad_filter(exc)
    return Response(export_xlsx(data, engine().zone), mimetype=XLSX,
                    headers={"Content-Disposition": f"attachment; filename=agreements-{data['school_year']}.xlsx"})


@bp.post("/agreements/campaigns")
@login_required
def open_campaign():
    """Open a school year's campaign (the office, the task force); errors shown in Chinese."""
    principal = current_principal()
    if not any(principal.holds(role) for role in STARTERS):
        return error_page(403, "只有镇民生服务办或控辍保学专班可以发起目标责任书签订。")
    deadline = request.form.get("deadline") or None
    try:
        result = start_campaign(engine(), principal.username, request.form.get("school_year", ""),
                                deadline=date.fromisoformat(deadline) if deadline else None)
    except ValueError:
        flash("签订截止日期格式不正确。", "error")
        return redirect("/agreements")
    except InvalidInput as exc:
        flash("；".join(exc.errors.values()), "error")
        return redirect("/agreements")
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect("/agreements")
    after_step(engine())
    flash(f"已发起 {result['school_year']} 学年目标责任书签订，请在待办中审核并发起。", "success")
    return redirect("/inbox")


@bp.get("/agreements/<path:ref>/text")
@login_required
def text(ref: str):
    """The agreement's current text, with its kept versions."""
    try:
        row, body = current_text(engine(), current_principal(), ref)
    except NotFound:
        return error_page(404, "责任书不存在，或您无权查看。", "责任书不存在")
    title, lines = paragraphs(body)
    return render_template("agreement_doc.html", title=title, lines=lines, row=row, document=None,
                           versions=documents(engine(), row.id))


@bp.get("/agreements/documents/<int:document_id>")
@login_required
def show_document(document_id: int):
    """A kept document, printable."""
    try:
        doc = document(engine(), current_principal(), document_id)
        row, _ = visible_agreement(engine(), current_principal(), doc.agreement_id)
    except NotFound:
        return error_page(404, "文书不存在，或您无权查看。", "文书不存在")
    title, lines = paragraphs(doc.text)
    return render_template("agreement_doc.html", title=title, lines=lines, row=row, document=doc,
                           versions=documents(engine(), row.id))


@bp.get("/agreements/documents/<int:document_id>.docx")
@login_required
def document_docx(document_id: int):
    """A kept document as .docx."""
    try:
        doc = document(engine(), current_principal(), document_id)
    except NotFound:
        return error_page(404, "文书不存在，或您无权查看。", "文书不存在")
    return Response(to_docx(doc.text), mimetype=DOCX, headers={
        "Content-Disposition": f"attachment; filename=agreement-{doc.agreement_id}-v{doc.version}.docx"})


@bp.get("/agreements/templates")
@login_required
def templates():
    """The agreement texts as kept in the repository, each placeholder shown as 【its meaning】
    (``ledger.agreement_texts.preview``)."""
    return render_template("agreement_templates.html", texts=[(KINDS[kind][0], preview(kind)) for kind in KINDS])
