"""``/instances``: the cases one may trace, filtered, counted and paged (``ledger.case_list``).

* ``GET /instances``: the filters in the address (the names ``GET /api/v1/process-instances``
  takes); counts per status and per current step at the top, each a link that filters by it;
  a sortable table linking each case to ``/instances/<id>``.
* ``POST /instances``: the filter form, posted (CSRF-protected): a child's full name must never
  sit in an address, where history, the Referer and the server's log keep it (issue 8, as the
  inbox). A full name in the address is ignored; a case number or a masked name (张*明) may
  stay there. With a name, the page's links post too.
* ``GET|POST /instances/export.xlsx``: the filtered list, every line, masked as on the page,
  written to the access log (``export``).

A bad filter value: the list by the other filters, the reason beside that field, answered
422 (never a 500). Every look at the list is written to the access log (``view``, subject
``cases``). Who sees which case: ``ledger.access.case_scope``, as on the case page.
"""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from engine.errors import InvalidInput
from ledger.case_list import (EXPORT_MAX, SORTS, STATUSES, CaseFilter, case_list, export_xlsx, log_list,
                              process_choices, unit_choices)
from ledger.case_list.filters import CASE_NUMBER, FIELDS
from ledger.case_outcomes import OUTCOMES

from ..auth import current_principal, login_required
from .common import engine, error_page

bp = Blueprint("case_list", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filter_args(source, posted: bool) -> dict:
    """The known filter fields of a query string or a posted form; from the address, a child
    given by full name is left out (only a case number or a masked name may be there)."""
    args = {key: source.get(key, "") for key in FIELDS if source.get(key)}
    child = args.get("child", "").strip()
    if not posted and child and not (CASE_NUMBER.fullmatch(child) or "*" in child):
        args.pop("child")
    return args


def _despite(args: dict, *, every_line: bool = False):
    """The list with each bad filter left out: ``(filter, data, errors {field: 中文})``."""
    errors: dict = {}
    while True:
        try:
            flt = CaseFilter.from_query(args)
            if every_line:
                flt.page = None
            return flt, case_list(engine(), current_principal(), flt), errors
        except InvalidInput as exc:
            dropped = [key for key in (exc.errors or {}) if key in args]
            if not dropped:
                raise
            for key in dropped:
                errors[key] = exc.errors[key]
                args.pop(key)
            if "process_key" in dropped:
                args.pop("version", None)


@bp.get("/instances")
@login_required
def index():
    """The list by the filters in the address (module doc)."""
    return _page(_filter_args(request.args, posted=False), posted=False)


@bp.post("/instances")
@login_required
def search():
    """The filter form, posted: every filter, the child by full name too."""
    return _page(_filter_args(request.form, posted=True), posted=True)


def _page(args: dict, posted: bool):
    principal = current_principal()
    flt, data, errors = _despite(args)
    log_list(engine(), principal.username, flt, data)
    with engine().db.read() as session:
        units, processes = unit_choices(session, principal), process_choices(session)
    params = flt.public()
    if flt.child:
        params["child"] = flt.child       # as typed: a full name only ever goes into posted forms
    if flt.overdue:
        params["overdue"] = "1"

    def target(changes: dict) -> list[tuple[str, str]]:
        """The list's filters with ``changes`` (None drops one): a link's or a form's fields."""
        merged = {**params, **changes}
        return [(key, str(merged[key])) for key in FIELDS if merged.get(key) not in (None, "")]
    return render_template(
        "instances.html", data=data, flt=flt, errors=errors, target=target, posted=posted and bool(flt.child_name),
        processes=processes, statuses=STATUSES, outcomes=OUTCOMES, sorts=SORTS, units=units), 422 if errors else 200


@bp.route("/instances/export.xlsx", methods=["GET", "POST"])
@login_required
def export():
    """The filtered list as .xlsx, every line (no paging), logged as an export."""
    posted = request.method == "POST"
    try:
        flt = CaseFilter.from_query(_filter_args(request.form if posted else request.args, posted))
        flt.page = None
        data = case_list(engine(), current_principal(), flt, max_lines=EXPORT_MAX)
    except InvalidInput as exc:
        return error_page(422, "；".join((exc.errors or {}).values()) or exc.message, "筛选条件不正确")
    if data.get("too_many"):
        return error_page(422, f"符合条件的案件有 {data['total']} 件，超过一次导出的上限 {EXPORT_MAX} 件，"
                               "请缩小筛选范围后再导出。", "导出范围过大")
    log_list(engine(), current_principal().username, flt, data, action="export")
    return Response(export_xlsx(data, engine().zone), mimetype=XLSX,
                    headers={"Content-Disposition": "attachment; filename=cases.xlsx"})
