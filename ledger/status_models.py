"""The child's status history and the outcome of each case (``ledger.child_status``).

``case_event`` holds one row per ``case_event`` message a persuasion case threw, applied
once (``message_id`` is unique): what happened (``event``, ``outcome`` on closure), to which
child and case, who caused it and when, and the child's status before and after
(``status_before == status_after`` when the event changed nothing, e.g. a return before the
report). The child page's history is the rows whose status changed; the ledgers read the
outcome from the ``closed`` row of each case (codes: ``ledger.case_outcomes``).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.models import UtcDateTime

from .models import LedgerBase


class CaseEventRecord(LedgerBase):
    __tablename__ = "case_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(Integer, unique=True)      # the engine's message row
    instance_id: Mapped[int] = mapped_column(Integer, index=True)      # the persuasion case
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    event: Mapped[str] = mapped_column(String(32))                     # ledger.case_outcomes.CASE_EVENTS
    outcome: Mapped[str | None] = mapped_column(String(32))            # OUTCOMES code, on "closed"
    status_before: Mapped[str] = mapped_column(String(32))
    status_after: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(120))             # who completed the step; None: a timer
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    note: Mapped[str | None] = mapped_column(Text)                     # a refused move, and why
    __table_args__ = (Index("ix_case_event_child", "child_id", "id"),)
