"""``/instances/<id>/documents/<kind>``: a persuasion case's printable documents (issue 4).

* ``dropout-report``: 《义务教育阶段学生辍学情况报告单》 (DOMAIN-REFERENCE §3.3);
* ``return-notice``: 《限期返校通知书》 with its 送达回证 (§3.4); ``?copy=guardian`` is the copy
  served to the guardian, the only one with the child's full ID number.

HTML to print (A4, ``@media print`` in baoxue.css), no JavaScript. The data and the rules
are ``ledger.documents``'s: a case the caller may not trace, and one that is not a
persuasion case, is a 404 whether or not it exists; a document whose step is not done
yet is a 409; the guardian's copy for anyone else than the town roles that serve it is
a 403. Every view is written to ``AccessLog`` (DOMAIN.md "Personal data").
"""
from __future__ import annotations

from flask import Blueprint, render_template, request

from ledger import documents

from ..auth import current_principal, login_required
from .common import engine, error_page

bp = Blueprint("documents", __name__)

NOT_VISIBLE = "文书不存在，或您无权查看此案件的文书。"
TEMPLATES = {"dropout-report": "doc_dropout_report.html", "return-notice": "doc_return_notice.html"}


@bp.get("/instances/<int:instance_id>/documents/<kind>")
@login_required
def show(instance_id: int, kind: str):
    """The document, as the file copy (ID masked) or, ``?copy=guardian``, the guardian's."""
    principal = current_principal()
    eng = engine()
    if kind not in TEMPLATES or not documents.may_see(eng, principal, instance_id):
        return error_page(404, NOT_VISIBLE, "文书不存在")
    copy = request.args.get("copy", "file")
    if copy not in documents.KINDS[kind].copies:
        return error_page(404, "此文书没有该联次。", "文书不存在")
    if copy == "guardian" and not documents.may_unmask(principal):
        return error_page(403, "送达监护人联含完整身份证号，仅镇政府、控辍保学专班组长和副组长、民生办可以打印。"
                          "请打印留存联（身份证号已脱敏）。", "无权打印此联")
    try:
        doc = documents.build(eng, instance_id, kind, copy=copy)
    except documents.NotReady as exc:
        return error_page(409, exc.message, "文书尚未生成")
    documents.record_view(eng, principal.username, doc)
    return render_template(TEMPLATES[kind], doc=doc)
