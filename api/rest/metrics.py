"""The town's figures (issue 15 "Figures"): ``GET /api/v1/metrics``. Formulas, scope and units:
``ledger.figures``."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ledger.figures import metrics

from ..auth import api_user
from . import engine

blp = Blueprint("metrics", __name__, url_prefix="/api/v1/metrics", description="Figures (统计)")


class MetricsArgs(Schema):
    # Text: ledger.figures.metrics checks both and names the field in Chinese (422).
    month = fields.String(load_default=None, metadata={"description": "YYYY-MM; default the current month"})
    unit = fields.String(load_default=None, metadata={"description": "a town, school or village code in scope"})


@blp.get("")
@blp.arguments(MetricsArgs, location="query")
@blp.alt_response(403, description="the unit is outside the caller's scope, or the caller has no figures")
@blp.alt_response(422, description="`errors` {month | unit: 中文}")
def get_metrics(args):
    """The figures of a month for a unit: ``{month, unit, as_of, figures: [{key, label_zh,
    value, numerator, denominator, formula_zh, unit, ...breakdowns}], by_unit, trend, units}``
    (``ledger.figures.metrics``). Rates in %, days in calendar days; a rate with denominator 0
    is null. No personal data."""
    return metrics(engine(), api_user(), args["month"], args["unit"])
