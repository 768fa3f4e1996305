"""The variables a form's ``$name`` bounds read (``x-notBefore: {"report_sent_on": "$visit_on"}``).

SpiffWorkflow keeps data per task: a task on one parallel branch does not see what a form on
another branch recorded (the head teacher's visit while the day count runs on to the report).
A bound must, or a paper could be dated before a step it records. So the bounds read, in this
order of precedence:

1. what the caller's ``form_variables(steps)`` hook derives from the instance's completed
   forms (``steps``: ``[{seq, element_id, at (aware datetime), submitted}]`` in audit order;
   e.g. the day a step was done, the latest of several dates);
2. the task's own data;
3. the latest value any completed form of the instance submitted under that name (every
   branch, call activities included).
"""
from __future__ import annotations

import json

from sqlalchemy import select

from ..audit import instance_stream
from ..persistence.models import AuditEvent


def completed_steps(session, instance_id: int) -> list[dict]:
    """The instance's completed user tasks, in order: ``[{seq, element_id, at, submitted}]``
    from its ``task_completed`` audit events (read in the caller's transaction)."""
    rows = session.execute(select(AuditEvent.seq, AuditEvent.element_id, AuditEvent.at, AuditEvent.data).where(
        AuditEvent.stream == instance_stream(instance_id), AuditEvent.kind == "task_completed")
        .order_by(AuditEvent.seq)).all()
    return [{"seq": seq, "element_id": element_id, "at": at,
             "submitted": json.loads(data or "{}").get("submitted") or {}} for seq, element_id, at, data in rows]


def case_variables(session, instance_id: int, task_data: dict, derive=None) -> dict:
    """``{name: value}`` for ``$name`` bounds of a form being completed (module docstring)."""
    steps = completed_steps(session, instance_id)
    submitted: dict = {}
    for step in steps:
        submitted.update(step["submitted"] if isinstance(step["submitted"], dict) else {})
    return {**submitted, **(task_data or {}), **(derive(steps) if derive else {})}
