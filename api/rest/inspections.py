"""Quarterly inspection rounds (季度督查, issue 13): open a round; what an inspection task
shows of its unit. Rules live in ``ledger.inspection`` (rounds) and
``ledger.inspection_figures`` (figures, sampled cases)."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from engine.errors import Forbidden, NotFound
from ledger.inspection import STARTERS, start_round
from ledger.inspection_figures import task_view

from .. import taskactions
from ..auth import api_user
from . import engine

blp = Blueprint("inspections", __name__, url_prefix="/api/v1/inspections",
                description="Quarterly inspection rounds (季度督查)")


class RoundArgs(Schema):
    # Strings as much as numbers: ledger.inspection.check_quarter gives the Chinese reason for either.
    year = fields.Raw(required=True, metadata={"description": "e.g. 2026"})
    quarter = fields.Raw(required=True, metadata={"description": "1-4; a quarter that has begun"})


@blp.post("/rounds")
@blp.arguments(RoundArgs)
@blp.response(201)
@blp.alt_response(409, description="the quarter already has an open round")
@blp.alt_response(422, description="`errors` {year | quarter | units: 中文}")
def post_round(args):
    """Open the inspection round of a quarter: ``{instance_id, round_ref, quarter_label,
    units}``; an inspection task opens for every school and village. The task-force leader
    only (403). A quarter not yet begun is a 422 (``quarter``); a second open round for the
    same quarter a 409; nothing is stored on an error."""
    principal = api_user()
    if not any(principal.holds(role) for role in STARTERS):
        raise Forbidden("只有控辍保学专班组长可以发起季度督查 (task-force leader only)")
    return start_round(engine(), principal.username, args["year"], args["quarter"])


@blp.get("/tasks/<task_id>")
def get_task_view(task_id):
    """What an inspection task shows of its unit (``ledger.inspection_figures.task_view``):
    ``{unit, round_ref, quarter_label, figures, overdue_tasks, samples}``. 404 for a task the
    caller may not see or one that inspects no unit."""
    eng = engine()
    row = taskactions.visible_task(eng, api_user(), task_id)
    view = task_view(eng, row)
    if view is None:
        raise NotFound("该任务不是季度督查任务 (not an inspection task)")
    return view
