"""``/inbox``: the caller's open tasks (``ledger.inbox.inbox``), overdue first, with filters.

``GET /inbox`` takes ``scope`` = ``role:org_unit`` (one of the caller's own assignments),
``overdue=1`` and ``page`` in the address. The name search (``q``, the child's full name,
exact) is posted instead (``POST /inbox``, CSRF-protected form with the same fields): a
child's name must never sit in an address, where the browser's history, the Referer and
the server's access log keep it (issue 8). A ``q`` in the address is ignored.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request

from ledger import access
from ledger.directory import describe, unit_names
from ledger.inbox import InboxFilter, inbox as list_inbox

from ..auth import current_principal, login_required
from .common import display_names, engine, page_number, page_url

bp = Blueprint("inbox", __name__)

PER_PAGE = 20


@bp.get("/inbox")
@login_required
def inbox():
    """Filters from the address (no names there); a ``q`` in it is ignored."""
    return _page(request.args, q="")


@bp.post("/inbox")
@login_required
def search():
    """The filter form, posted: ``q`` (full name), ``scope``, ``overdue``, ``page``."""
    return _page(request.form, q=request.form.get("q", "").strip()[:64])


def _page(source, q: str):
    principal = current_principal()
    eng = engine()
    with eng.db.transaction() as session:
        names = unit_names(session, {a.org_unit for a in principal.assignments})
    scopes = [(f"{a.role}:{a.org_unit}", describe(a, names)) for a in principal.assignments]
    scope = source.get("scope", "")
    role, org_unit = scope.split(":", 1) if scope in dict(scopes) else (None, None)
    overdue = source.get("overdue") == "1"
    page = page_number(source.get("page"))
    items, total = list_inbox(eng, principal, InboxFilter(
        role=role, org_unit=org_unit, overdue=overdue or None, q=q or None, page=page, per_page=PER_PAGE))
    claimed_by = display_names(item["assignee"] for item in items)
    with eng.db.read() as session:
        linked = access.visible_children(session, principal, {i["subject"]["child_id"] for i in items if i["subject"]})
    pages = max(1, -(-total // PER_PAGE))
    # The pager's links carry the address filters only; with a name it posts (inbox.html).
    filters = {k: v for k, v in (("scope", scope if role else ""), ("overdue", "1" if overdue else "")) if v}
    return render_template(
        "inbox.html", items=items, total=total, page=page, pages=pages, scopes=scopes,
        scope=scope if role else "", overdue=overdue, q=q, claimed_by=claimed_by, linked=linked,
        prev_url=page_url("/inbox", filters, page - 1) if page > 1 else None,
        next_url=page_url("/inbox", filters, page + 1) if page < pages else None)
