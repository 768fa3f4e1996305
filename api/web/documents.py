"""A persuasion case's printable documents (issues 4, 10 §6, 17).

* ``GET /instances/<id>/documents/<kind>``: the page. On a phone (narrow screen) a readable
  version with a button to the print version; on a wide screen and on paper the A4 print
  version (``?view=print`` forces it on a phone). ``kind``: ``dropout-report``
  (《义务教育阶段学生辍学情况报告单》, DOMAIN-REFERENCE §3.3; ``?version=N`` a confirmed
  version) or ``return-notice`` (《限期返校通知书》 with its 送达回证, §3.4; ``?copy=guardian``
  the copy served to the guardian, with no ID number).
* ``GET /instances/<id>/documents/<kind>.docx``: the same document as a Word file for the
  paper file (``ledger.document_docx``), same parameters.
* ``GET /documents``: the confirmed dropout reports the caller may open (the county bureau's
  copy of each report; the town's too), newest first.

The data and the rules are ``ledger.documents``'s: a case the caller may not open, and one
that is not a persuasion case, is a 404 whether or not it exists; a document whose step is
not done yet is a 409; the guardian's copy for anyone but those who serve it is a 403. Every
view and download is written to ``AccessLog`` (DOMAIN.md "Personal data"). No JavaScript.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, render_template, request

from ledger import document_docx, document_versions, documents

from ..auth import current_principal, login_required
from .common import engine, error_page

bp = Blueprint("documents", __name__)

NOT_VISIBLE = "文书不存在，或您无权查看此案件的文书。"
TEMPLATES = {"dropout-report": "doc_dropout_report.html", "return-notice": "doc_return_notice.html"}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _document(instance_id: int, kind: str):
    """(doc, None) or (None, error response) for the caller and the query's copy/version."""
    principal = current_principal()
    eng = engine()
    if kind not in TEMPLATES or not documents.may_see(eng, principal, instance_id):
        return None, error_page(404, NOT_VISIBLE, "文书不存在")
    copy, version = request.args.get("copy", "file"), request.args.get("version")
    if copy not in documents.KINDS[kind].copies:
        return None, error_page(404, "此文书没有该联次。", "文书不存在")
    if copy == "guardian" and not documents.may_print_guardian_copy(principal):
        return None, error_page(403, "送达监护人联仅由送达的镇政府、控辍保学专班组长和副组长、民生办打印。请打印留存联。",
                                "无权打印此联")
    if version is not None and not (version.isdigit() and 0 < int(version) < 10_000):
        return None, error_page(404, "没有这一版报告单。", "文书不存在")
    try:
        return documents.build(eng, instance_id, kind, copy=copy,
                               version=int(version) if version else None), None
    except KeyError:
        return None, error_page(404, "没有这一版报告单。", "文书不存在")
    except documents.NotReady as exc:
        return None, error_page(409, exc.message, "文书尚未生成")


@bp.get("/instances/<int:instance_id>/documents/<kind>")
@login_required
def show(instance_id: int, kind: str):
    """The document page (phone version and print version; ``?view=print`` forces print)."""
    doc, error = _document(instance_id, kind)
    if error is not None:
        return error
    documents.record_view(engine(), current_principal().username, doc)
    return render_template(TEMPLATES[kind], doc=doc, print_view=request.args.get("view") == "print",
                           query=request.query_string.decode("ascii", "replace"))


@bp.get("/instances/<int:instance_id>/documents/<kind>.docx")
@login_required
def download(instance_id: int, kind: str):
    """The document as a .docx (docxtpl template ``ledger/doc_templates/<kind>.docx``)."""
    doc, error = _document(instance_id, kind)
    if error is not None:
        return error
    body = document_docx.render(doc)
    documents.record_view(engine(), current_principal().username, doc, action="export")
    name = f"{doc['title']}-案件{instance_id}{'-送达联' if doc['copy'] == 'guardian' else ''}.docx"
    return Response(body, mimetype=DOCX, headers={
        "Content-Disposition": f"attachment; filename=\"case-{instance_id}-{kind}.docx\"; "
                               f"filename*=UTF-8''{quote(name, safe='')}"})


@bp.get("/documents")
@login_required
def index():
    """Confirmed dropout reports the caller may open, newest first (masked names)."""
    principal, eng = current_principal(), engine()
    rows = [r for r in document_versions.confirmed_cases(eng) if documents.may_see(eng, principal, r["instance_id"])]
    return render_template("documents.html", rows=rows)

