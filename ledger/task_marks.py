"""Marks the domain puts on an open task, shown wherever the task is listed (inbox, task page,
``GET /api/v1/inbox``, ``GET /api/v1/tasks/<id>``).

The engine indexes tasks (``human_task``) and knows nothing of what a reminder means; the
ledger learns it from what a process said (an ``agreement_event`` "reminded", issue 12) and
marks the task here, keyed by the engine's task id. One mark of a kind per task: a second
one moves its time. A task whose signing round ends takes its marks with it (the next round
is a new task).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.models import UtcDateTime

from .models import LedgerBase

MARK_NAMES = {"reminded": "已催办"}   # kind -> what the pages say


class TaskMark(LedgerBase):
    __tablename__ = "task_mark"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), index=True)     # human_task.id
    kind: Mapped[str] = mapped_column(String(32))                   # MARK_NAMES
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("task_id", "kind"),)


def mark_task(session, task_id: str, kind: str, at: dt.datetime) -> None:
    """Mark ``task_id`` as ``kind`` (a MARK_NAMES key) at ``at``, in the caller's transaction."""
    if kind not in MARK_NAMES:
        raise ValueError(f"unknown task mark {kind!r}")
    row = session.scalar(select(TaskMark).where(TaskMark.task_id == task_id, TaskMark.kind == kind))
    if row is None:
        session.add(TaskMark(task_id=task_id, kind=kind, at=at))
    else:
        row.at = at


def marks_of(session, task_ids) -> dict[str, list[dict]]:
    """``{task_id: [{kind, name, at}]}`` (``at`` ISO 8601, oldest first) of the given tasks."""
    ids = sorted(set(task_ids))
    found: dict[str, list[dict]] = {}
    if not ids:
        return found
    for row in session.scalars(select(TaskMark).where(TaskMark.task_id.in_(ids)).order_by(TaskMark.at, TaskMark.id)):
        found.setdefault(row.task_id, []).append({"kind": row.kind, "name": MARK_NAMES[row.kind],
                                                  "at": row.at.isoformat()})
    return found
