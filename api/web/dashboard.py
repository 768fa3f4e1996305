"""``/dashboard`` (统计): the month's figures for a unit (``ledger.figures``), each as a chart
(ECharts, served from /vendor/echarts/, drawn by /static/dashboard.js from the JSON the page
carries: no inline script, the page's CSP holds) with its formula written under it and a plain
table of the same numbers (readable without JavaScript).

``GET /dashboard?month=YYYY-MM&unit=<code>``: a bad month or an unknown unit is the page with
the reason beside the picker, answered 422 (the figures of the current month and the caller's
first unit shown instead); a unit outside the caller's scope, or a caller with no figures to
see, the 403 page.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request

from engine.errors import Forbidden, InvalidInput
from ledger.figures import metrics

from ..auth import current_principal, login_required
from .common import engine, error_page

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
@login_required
def index():
    """The figures page (module doc)."""
    principal, errors = current_principal(), {}
    month, unit = request.args.get("month"), request.args.get("unit")
    while True:
        try:
            data = metrics(engine(), principal, month, unit)
            break
        except Forbidden as exc:
            return error_page(403, exc.message.split(" (")[0], "无权查看统计")
        except InvalidInput as exc:
            found = exc.errors or {}
            if not found or ("month" not in found and "unit" not in found) or (month is None and unit is None):
                raise
            errors.update(found)
            month = None if "month" in found else month
            unit = None if "unit" in found else unit
    figures = {f["key"]: f for f in data["figures"]}
    return render_template("dashboard.html", data=data, figures=figures, errors=errors,
                           month_value=request.args.get("month") or data["month"]), 422 if errors else 200
