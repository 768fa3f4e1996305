"""Attendance → persuasion cases (issue 4): the ``CaseSink`` interface and the engine's sink.

Re-exported by ``ledger.attendance``. A sink hears two things about a child:

* ``absence(child_id, day, count, first_day=)``: ``count`` consecutive unexcused school
  days end at ``day`` (count ≥ 1), the run began on ``first_day``;
* ``returned(child_id, day, corrected=)``: back at school on ``day`` after an absence
  with unexcused days (``corrected``: this day itself was unexcused before this report),
  or present while the child's case waits for a return (``awaiting_return``, optional on
  a sink): a school that skipped reporting some days must not leave the case waiting.

``EngineCaseSink`` keeps at most one open case per child: an instance of process
``persuasion`` with business key ``child:<id>`` in status active or error. No open case
and an absence → start one with ``{child_id, absence_days, first_absence, trigger:
"absence"}``; an open case → message ``absence_day`` {count, date, first} while the case waits for one,
else (it is at a task) the case's ``absence_days`` / ``first_absence`` are set in place,
so nothing is lost; or ``returned`` {date, corrected}, correlated on ``child_id`` (DOMAIN.md "Three-tier persuasion": day 1 phone
call, day 3 home visit, day 5 town). A return with no open case sends nothing. Until
``persuasion`` is deployed, absences only log: the attendance itself is stored either way.

Besides attendance, a person may flag a dropout tendency (DOMAIN.md: "a pupil with a
dropout tendency, or 1 day absent without reason" → the school's first persuasion):
``EngineCaseSink.tendency(child_id, reason=)`` starts the same case with ``trigger:
"tendency"``; unlike an absence it refuses loudly (Conflict: an open case exists;
NotFound: ``persuasion`` not deployed), because a person is waiting for the answer.
Who may flag is the caller's check (``ledger.access.can_flag_tendency``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from sqlalchemy import select

from engine.errors import Conflict, EngineError, NotFound, StepFailed
from engine.persistence.models import ProcessInstance

from .absence_runs import MAX_LOOKBACK_DAYS
from .attendance_models import PRESENT, UNEXCUSED, AttendanceRecord

log = logging.getLogger(__name__)
PROCESS_KEY = "persuasion"
MESSAGE_NAMES = {"absence_day": "又一天无故缺课", "returned": "学生已返校",
                 "home_teaching_referral": "转送教上门"}   # what pages call the messages
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
        first = (first_day or day).isoformat()
        case_id = self.open_case(child_id)
        if case_id is None:
            variables = {"child_id": child_id, "absence_days": count, "first_absence": first, "trigger": "absence"}
            try:
                started = self.engine.runtime.start(PROCESS_KEY, variables, business_key=business_key(child_id),
                                                    actor=self.actor)
            except NotFound:
                log.warning("process %r is not deployed: no case started for child %s (%s unexcused school "
                            "day(s) to %s)", PROCESS_KEY, child_id, count, day)
                return None
            except StepFailed as err:  # the case exists, in error with an incident for an administrator
                return CaseEvent("started", {"child_id": child_id, "instance_id": err.instance_id, "status": "error"})
            except Conflict:            # started a moment ago by a concurrent report: tell that case
                case_id = self.open_case(child_id)
                if case_id is None:
                    raise
            else:
                return CaseEvent("started", {"child_id": child_id, "instance_id": started.instance_id})
        if self.awaiting("absence_day", [child_id]):
            return self._deliver("absence_day", child_id, {"count": count, "date": day.isoformat(), "first": first})
        # The case is at a task (a call, a visit, a notice) and nothing would catch a message:
        # bring its count up to date instead, so that the task page shows it and the gateway
        # after the task sees it (day 3 during an open call → the home visit comes next).
        self.engine.runtime.set_variables(case_id, {"absence_days": count, "first_absence": first}, actor=self.actor)
        return CaseEvent("message", {"child_id": child_id, "message": "absence_day", "status": "updated",
                                     "reached": [case_id]})

    def tendency(self, child_id: int, *, reason: str) -> CaseEvent:
        """Start the child's persuasion case for a dropout tendency (DOMAIN.md "Three-tier
        persuasion", 学校初劝: "a pupil with a dropout tendency" → the head teacher acts).

        Variables ``{child_id, absence_days: 0, first_absence: None, trigger: "tendency",
        tendency_reason}``; returns ``CaseEvent("started", {child_id, instance_id[, status:
        "error"]})``. Raises Conflict (409) when the child already has an open case, NotFound
        (404) when ``persuasion`` is not deployed. ``reason`` is the caller's checked text.
        """
        existing = self.open_case(child_id)
        if existing is not None:
            raise Conflict(f"已有未结的劝返案件（编号 {existing}），无需重复标记；请在该案件中继续办理。")
        variables = {"child_id": child_id, "absence_days": 0, "first_absence": None, "trigger": "tendency",
                     "tendency_reason": reason}
        try:
            started = self.engine.runtime.start(PROCESS_KEY, variables, business_key=business_key(child_id),
                                                actor=self.actor)
        except Conflict:   # a concurrent flag (a double click) started it a moment ago
            raise Conflict("已有未结的劝返案件，无需重复标记；请在该案件中继续办理。") from None
        except NotFound:
            raise NotFound("劝返流程（persuasion）尚未部署，无法发起案件；请联系系统管理员部署后再标记。"
                           " (process 'persuasion' is not deployed)") from None
        except StepFailed as err:
            return CaseEvent("started", {"child_id": child_id, "instance_id": err.instance_id, "status": "error"})
        return CaseEvent("started", {"child_id": child_id, "instance_id": started.instance_id})

    def awaiting(self, message: str, child_ids) -> set[int]:
        """Which of ``child_ids`` have a case waiting for ``message`` right now (one query)."""
        return {c.get("child_id") for c in self.engine.messages.waiting(message)} & set(child_ids)

    def awaiting_return(self, child_ids, day: date) -> set[int]:
        """Children whose case waits for ``returned`` and whose last reported day before
        ``day`` was an unexcused absence: a present day after days nobody reported still
        ends their absence (a case opened for a tendency, never absent, is not "returned")."""
        waiting = self.awaiting("returned", child_ids)
        if not waiting:
            return set()
        last: dict[int, str] = {}
        with self.engine.db.read() as session:
            rows = session.execute(select(AttendanceRecord.child_id, AttendanceRecord.status).where(
                AttendanceRecord.child_id.in_(waiting), AttendanceRecord.date < day,
                AttendanceRecord.date >= day - timedelta(days=MAX_LOOKBACK_DAYS))
                .order_by(AttendanceRecord.child_id, AttendanceRecord.date.desc()))
            for child_id, status in rows:
                last.setdefault(child_id, status)
        return {child_id for child_id in waiting if last.get(child_id) == UNEXCUSED}

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
    present = [o.child_id for o in result.outcomes if o.status == PRESENT and not o.returned]
    awaiting = sink.awaiting_return(present, result.day) if present and hasattr(sink, "awaiting_return") else set()
    for outcome in result.outcomes:
        try:
            if outcome.status == UNEXCUSED:
                event = sink.absence(outcome.child_id, result.day, outcome.consecutive_unexcused,
                                     first_day=outcome.first_absence)
            elif outcome.returned or outcome.child_id in awaiting:
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
