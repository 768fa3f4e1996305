"""Attendance → persuasion cases (issue 4): the ``CaseSink`` interface and the engine's sink.

Re-exported by ``ledger.attendance``. A sink hears two things about a child:

* ``absence(child_id, day, count, first_day=)``: ``count`` consecutive unexcused school
  days end at ``day`` (count ≥ 1), the run began on ``first_day``;
* ``returned(child_id, day, corrected=)``: back at school on ``day`` after an absence
  with unexcused days (``corrected``: this day itself was unexcused before this report).

``EngineCaseSink`` keeps at most one open case per child: an instance of process
``persuasion`` with business key ``child:<id>`` in status active or error. No open case
and an absence → start one with ``{child_id, absence_days, first_absence}``; an open case
→ message ``absence_day`` {count, date} or ``returned`` {date, corrected}, correlated on
``child_id`` (DOMAIN.md "Three-tier persuasion": day 1 phone call, day 3 home visit, day
5 town). A return with no open case sends nothing. Until ``persuasion`` is deployed,
absences only log: the attendance itself is stored either way.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import select

from engine.errors import EngineError, NotFound, StepFailed
from engine.persistence.models import ProcessInstance

from .attendance_models import UNEXCUSED

log = logging.getLogger(__name__)
PROCESS_KEY = "persuasion"
OPEN_STATUSES = ("active", "error")


@dataclass(frozen=True)
class CaseEvent:
    kind: str          # started | message
    detail: dict       # started: {child_id, instance_id[, status]}; message: {child_id, message, status, reached}


class CaseSink(Protocol):
    def absence(self, child_id: int, day: date, count: int, *, first_day: date | None = None) -> CaseEvent | None: ...

    def returned(self, child_id: int, day: date, *, corrected: bool = False) -> CaseEvent | None: ...


def business_key(child_id: int) -> str:
    return f"child:{child_id}"


class EngineCaseSink:
    def __init__(self, engine, actor: str | None = None):
        self.engine, self.actor = engine, actor

    def open_case(self, child_id: int) -> int | None:
        """The id of the child's open persuasion case, if any."""
        with self.engine.db.read() as session:
            return session.scalar(select(ProcessInstance.id).where(
                ProcessInstance.process_key == PROCESS_KEY, ProcessInstance.business_key == business_key(child_id),
                ProcessInstance.status.in_(OPEN_STATUSES)).order_by(ProcessInstance.id).limit(1))

    def absence(self, child_id: int, day: date, count: int, *, first_day: date | None = None) -> CaseEvent | None:
        if count < 1:
            return None
        if self.open_case(child_id) is not None:
            return self._deliver("absence_day", child_id, {"count": count, "date": day.isoformat()})
        variables = {"child_id": child_id, "absence_days": count, "first_absence": (first_day or day).isoformat()}
        try:
            started = self.engine.runtime.start(PROCESS_KEY, variables, business_key=business_key(child_id),
                                                actor=self.actor)
        except NotFound:
            log.warning("process %r is not deployed: no case started for child %s (%s unexcused school day(s) to %s)",
                        PROCESS_KEY, child_id, count, day)
            return None
        except StepFailed as err:  # the case exists, in error with an incident for an administrator
            return CaseEvent("started", {"child_id": child_id, "instance_id": err.instance_id, "status": "error"})
        return CaseEvent("started", {"child_id": child_id, "instance_id": started.instance_id})

    def returned(self, child_id: int, day: date, *, corrected: bool = False) -> CaseEvent | None:
        if self.open_case(child_id) is None:
            return None
        return self._deliver("returned", child_id, {"date": day.isoformat(), "corrected": corrected})

    def _deliver(self, name: str, child_id: int, payload: dict) -> CaseEvent:
        result = self.engine.messages.deliver(name, {"child_id": child_id}, payload, actor=self.actor)
        return CaseEvent("message", {"child_id": child_id, "message": name, "status": result.status,
                                     "reached": result.reached})


def hand_off(result, sink: CaseSink) -> None:
    """Tell ``sink`` about ``result.outcomes`` (after the records are committed); fills
    ``cases_started``, ``messages_sent`` and ``case_errors``. One child's failure does not
    stop the others: the attendance is stored and the failure is reported and logged."""
    for outcome in result.outcomes:
        try:
            if outcome.status == UNEXCUSED:
                event = sink.absence(outcome.child_id, result.day, outcome.consecutive_unexcused,
                                     first_day=outcome.first_absence)
            elif outcome.returned:
                event = sink.returned(outcome.child_id, result.day, corrected=outcome.corrected)
            else:
                event = None
        except Exception as exc:  # noqa: BLE001 - the records are committed; report, do not lose the rest
            log.exception("attendance of %s on %s: case hand-off failed for child %s",
                          result.school_code, result.day, outcome.child_id)
            message = exc.message if isinstance(exc, EngineError) else "内部错误，已记录日志 (internal error, logged)"
            result.case_errors.append({"child_id": outcome.child_id, "message": message})
            continue
        if event is not None:
            (result.cases_started if event.kind == "started" else result.messages_sent).append(event.detail)
