"""A child's closed persuasion cases, for the child page (issue 17: "The child page lists
the child's closed cases too, with links")."""
from __future__ import annotations

from sqlalchemy import select

from engine.persistence.models import ProcessInstance

from . import access
from .case_handoff import OPEN_STATUSES, PROCESS_KEY, business_key
from .case_outcomes import outcome_label
from .child_status import outcomes

TERMINATED = "案件已终止（未写明结果）"


def closed_cases(session, principal, child_id: int, zone) -> list[dict]:
    """The child's persuasion cases that are no longer open, newest first:
    ``[{id, opened_on, closed_on, outcome (Chinese label), linked}]``. Dates are local
    calendar dates (``YYYY-MM-DD``); ``outcome`` is the closure's outcome code as
    ``ledger.case_outcomes`` names it; ``linked``: the person may open the case page
    (``access.can_trace_instance``), else the row is shown without a link."""
    rows = session.scalars(select(ProcessInstance).where(
        ProcessInstance.process_key == PROCESS_KEY, ProcessInstance.business_key == business_key(child_id),
        ProcessInstance.status.not_in(OPEN_STATUSES)).order_by(ProcessInstance.id.desc())).all()
    closure = {r.instance_id: r.outcome for r in outcomes(session, child_id)}
    day = lambda at: at.astimezone(zone).date().isoformat() if at else None  # noqa: E731
    return [{"id": r.id, "opened_on": day(r.created_at), "closed_on": day(r.completed_at or r.updated_at),
             "outcome": outcome_label(closure[r.id]) if closure.get(r.id) else
             ("已办结" if r.status == "completed" else TERMINATED),
             "linked": access.can_trace_instance(session, principal, r.id)} for r in rows]
