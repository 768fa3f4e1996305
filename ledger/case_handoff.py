"""The attendance hand-off as an outbox (issue 8): nothing a report says about a child is lost.

``ledger.attendance.record_day`` writes a ``CaseHandoff`` row for each event a report hands
to a child's persuasion case in the same transaction as the attendance records, so a crash
after the commit loses nothing. ``dispatch`` then applies each row in ONE transaction
together with the engine command it causes, and marks it done in that transaction: a row is
applied exactly once, however often it is dispatched, by whichever process gets it.

Applying an event (DOMAIN.md "Three-tier persuasion": day 1 phone call, day 3 home visit,
day 5 town; the case is an instance of ``persuasion`` with business key ``child:<id>``):

* absence, no open case → start one with ``{child_id, absence_days, first_absence,
  trigger: "absence", recent_absences, child_age}`` and the local settings (``ledger.local_rules``);
  when ``recent`` (unexcused school days in the intermittent window) reaches the local
  threshold, the case opens as a dropout tendency (``trigger: "tendency"``, issue 10 §4);
* absence, the case waits for ``absence_day`` → that message ``{count, date, first, recent,
  age}``; at a task instead → its ``absence_days`` / ``first_absence`` / ``recent_absences`` /
  ``child_age`` are set in place (age: full years on that day, from the register) (the task page shows the count, the gateway after the task sees it);
* excused (请假, only for a child with an open case), the case waits for ``excused_day`` →
  that message ``{date}``: the case pauses its day thresholds until the next unexcused day
  and brings a leave that runs on back to the head teacher (issue 10 §2); else nothing (a
  paused case does not hear every further day of the same leave);
* returned, the case waits for ``returned`` → that message ``{date, corrected, status,
  watch_until}`` (status: the child's 就学状态, ``ledger.child_status``; watch_until: the end
  of the watch should the child never have been reported, ``ledger.local_rules``); else
  nothing (a case opened for a tendency is never "returned").

A row that cannot be applied now stays ``pending`` with a back-off (``next_attempt_at``):
the case is in error (until an administrator's retry), busy with another writer, or
``persuasion`` is not deployed yet. A step that fails on the event hands it to the incident
(the row is done; the incident's retry applies it). The worker runs ``dispatch_pending``
every few seconds; ``baoxue check`` reports rows pending for more than a minute.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Mapping

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from engine.errors import Busy, Conflict, InstanceInError, InvalidInput, NotFound
from engine.outbox import backoff, claim_next, wall_clock
from engine.persistence.models import MessageSubscription, ProcessInstance
from engine.runtime.hooks import correlation_business_key
from engine.runtime.commands import SetVariables
from engine.runtime.executor import PendingFailure
from engine.runtime.locking import is_transient, lock_instance

from .absence_runs import MAX_LOOKBACK_DAYS, absence_runs, recent_unexcused
from .case_outcomes import OUTCOMES, expected_at_school
from .local_rules import local_rules
from .attendance_models import UNEXCUSED, AttendanceRecord, CaseHandoff
from .child_status import CASE_EVENT, apply_case_events, apply_now
from .models import Child
from .school_calendar import DEFAULT_ZONE, school_calendar
from .status_models import CaseEventRecord

log = logging.getLogger(__name__)
PROCESS_KEY = "persuasion"
OPEN_STATUSES = ("active", "error", "suspended")  # not closed
ABSENCE, RETURNED, EXCUSED_DAY = "absence", "returned", "excused"
# What the ledger alone says to a case (sent here, from the school's attendance), and what a
# case alone says to the ledger (case_event: the child's status, read by ledger.child_status).
# Nobody may send them from outside (EngineConfig.reserved_messages; POST /api/v1/messages
# answers 403): a forged "returned" would close a case, a forged case_event move a child's status.
LEDGER = "考勤台账 (the attendance ledger)"
DOMAIN_MESSAGES = {"absence_day": LEDGER, "excused_day": LEDGER, "returned": LEDGER,
                   CASE_EVENT: "劝返案件，由台账读取 (the persuasion case; the ledger reads it)"}
LEASE = timedelta(seconds=30)   # a dispatcher still holding a row after this has died
MAX_BACKOFF = timedelta(minutes=10)


@dataclass(frozen=True)
class CaseEvent:
    kind: str          # started | message | pending | error
    detail: dict       # started: {child_id, instance_id[, status]}; message: {child_id, message, status, reached}


# Processes whose instance is the follow-up file of the case that threw its start message, not
# the child's case: the support measures of a persuasion case outlive its return (a mandatory
# report or a grant does not stop because the child is back), and a child who drops out again
# gets a second file beside the first. Keyed ``case:<sending instance id>`` (case_file_key).
CASE_FILES = frozenset({"support_measures"})


def business_key(child_id: int) -> str:
    return f"child:{child_id}"


# A referral the case sends alone, before any plan (the cause found at the call, the visit or the
# report: processes/persuasion.bpmn refer_check_*): a file of its own beside the plan's.
REFERRAL_CAUSES = frozenset({"child_labour", "early_marriage"})


def case_file_key(instance_id: int, referral: str | None = None) -> str:
    """The business key of a case's own follow-up file (``CASE_FILES``): ``case:<id>``, or
    ``case:<id>:referral:<cause>`` for a referral sent alone (``REFERRAL_CAUSES``), so that it
    does not block the village's plan, nor the plan it."""
    return f"case:{instance_id}:referral:{referral}" if referral else f"case:{instance_id}"


def start_business_key(process_key: str, correlation: Mapping, payload: Mapping, *, session=None,
                       sender: str | None = None) -> str | None:
    """The business key of an instance a message start event opens (the engine's
    ``business_key`` hook): ``child:<id>`` for a message about a child, as every other start
    of a child's case has, so a child has one open case per process however it was started
    (issue 9); ``case:<id>`` of the sending case for a process in ``CASE_FILES``; otherwise
    the engine's default (the correlation). Raises InvalidInput when ``child_id`` is not a
    child's id (a positive whole number) or, given the start's ``session``, names no child
    in the register, or when a case file's message was not thrown by a case: nothing starts."""
    child_id = correlation.get("child_id", payload.get("child_id"))
    if child_id is not None:
        if isinstance(child_id, bool) or not isinstance(child_id, int) or child_id <= 0:
            raise InvalidInput("child_id must be a child's id (a positive whole number)",
                               errors={"correlation.child_id": "not a child's id"})
        if session is not None and session.get(Child, child_id) is None:
            raise InvalidInput(f"没有编号为 {child_id} 的儿童 (no child with this id)",
                               errors={"correlation.child_id": "no such child"})
        if process_key in CASE_FILES:
            referral = payload.get("cause") if payload.get("referral_only") is True else None
            return _sending_case_key(sender, referral if referral in REFERRAL_CAUSES else None)
        return business_key(child_id)
    return correlation_business_key(process_key, correlation, payload, session=session)


def _sending_case_key(sender: str | None, referral: str | None = None) -> str:
    kind, _, number = (sender or "").partition(":")
    if kind != "instance" or not number.isdigit():
        raise InvalidInput("帮扶措施只能由劝返案件在村级核实后发起 (a case file is opened by its case only)",
                           errors={"sender": "not a case"})
    return case_file_key(int(number), referral)


def child_age(session, child_id: int, day: date) -> int | None:
    """The child's age in full years on ``day`` from the register's birth date (None: no such
    child). The cases carry this, never the birth date (DOMAIN-REFERENCE §7.2 1: "show date
    of birth only as age where possible"); support_measures.bpmn reads it for the mandatory
    report of an early marriage under 14 (issue 10 review §4: from the register, not typed)."""
    child = session.get(Child, child_id)
    if child is None or child.birth_date is None:
        return None
    born = child.birth_date
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def open_case(session, child_id: int) -> int | None:
    """The id of the child's open persuasion case, if any."""
    return session.scalar(select(ProcessInstance.id).where(
        ProcessInstance.process_key == PROCESS_KEY, ProcessInstance.business_key == business_key(child_id),
        ProcessInstance.status.in_(OPEN_STATUSES)).order_by(ProcessInstance.id).limit(1))


def with_open_case(session, child_ids) -> set[int]:
    """Of ``child_ids``, those with an open persuasion case (one query)."""
    if not child_ids:
        return set()
    keys = {business_key(child_id): child_id for child_id in child_ids}
    return {keys[key] for key in session.scalars(select(ProcessInstance.business_key).where(
        ProcessInstance.process_key == PROCESS_KEY, ProcessInstance.business_key.in_(keys),
        ProcessInstance.status.in_(OPEN_STATUSES)))}


def enqueue(session, kind: str, child_id: int, day: date, reported_by: str, now: datetime, *,
            count: int = 0, first_day: date | None = None, corrected: bool = False, recent: int = 0) -> CaseHandoff:
    """Add a pending event in the caller's transaction (the report's). ``recent``: unexcused
    school days within the intermittent window ending at ``day`` (``ledger.local_rules``)."""
    row = CaseHandoff(child_id=child_id, kind=kind, day=day, count=count, first_day=first_day, recent=recent,
                      corrected=corrected, reported_by=reported_by, status="pending", attempts=0, created_at=now)
    session.add(row)
    return row


def dispatch(engine, ids: list[int]) -> list[CaseEvent]:
    """Apply the events ``ids`` now (a report's own, right after its commit), oldest first;
    returns what each did (``pending``: it could not be applied yet, the worker will)."""
    apply_now(engine)   # a return reads the child's status: what the cases said comes first
    return [event for event in (_dispatch_one(engine, row_id) for row_id in sorted(ids)) if event is not None]


def dispatch_pending(engine, limit: int = 200, *, ignore_backoff: bool = False) -> int:
    """Apply pending events whose time has come (left by a crash, or waiting for a busy or
    failed case); returns how many were worked on. Safe in several processes at once."""
    apply_case_events(engine)   # a return reads the child's status: what the cases said comes first
    handled = 0
    while handled < limit:
        row_id = _claim_next(engine, ignore_backoff)
        if row_id is None:
            break
        _apply(engine, row_id)
        handled += 1
    return handled


def undelivered(session, older_than: timedelta = timedelta(minutes=1)) -> list[CaseHandoff]:
    """Events still pending after ``older_than`` (wall time), for ``baoxue check``."""
    return list(session.scalars(select(CaseHandoff).where(
        CaseHandoff.status == "pending", CaseHandoff.created_at < wall_clock() - older_than)
        .order_by(CaseHandoff.id)))


def without_case(session, child_ids, day: date) -> list[int]:
    """Of ``child_ids`` (unexcused on ``day``), those whose absence no case knows: no open
    case, no event pending, and no case closed after that day was reported (a closure that
    came later took the absence into account, e.g. a lawful exit)."""
    if not child_ids:
        return []
    keys = {business_key(child_id): child_id for child_id in child_ids}
    known = set(session.scalars(select(CaseHandoff.child_id).where(
        CaseHandoff.child_id.in_(child_ids), CaseHandoff.status == "pending")))
    reported = dict(session.execute(select(AttendanceRecord.child_id, AttendanceRecord.reported_at).where(
        AttendanceRecord.child_id.in_(child_ids), AttendanceRecord.date == day)).all())
    cases = session.execute(select(ProcessInstance.id, ProcessInstance.business_key, ProcessInstance.status,
                                   ProcessInstance.completed_at)
                            .where(ProcessInstance.process_key == PROCESS_KEY,
                                   ProcessInstance.business_key.in_(keys)))
    for instance_id, key, status, completed_at in cases:
        child_id = keys[key]
        if status in OPEN_STATUSES or (completed_at is not None and child_id in reported
                                       and completed_at >= reported[child_id]
                                       and not _closed_back_at_school(session, instance_id, day)):
            known.add(child_id)
    return [child_id for child_id in child_ids if child_id not in known]


def _closed_back_at_school(session, instance_id: int, day: date) -> bool:
    """Whether the case closed with the child expected at school (a return, a leave over, a
    tendency cleared) on or before ``day``: such a closure does not explain an unexcused
    ``day`` (a leave check answered "back" on a day the school marked 无故缺课), while the
    days before it were the case's (a medical leave's). A lawful exit (转出, 死亡 ...)
    explains any day. Unknown until the closure is applied (``ledger.child_status``): False."""
    closed = session.execute(select(CaseEventRecord.outcome, CaseEventRecord.at).where(
        CaseEventRecord.instance_id == instance_id, CaseEventRecord.event == "closed")
        .order_by(CaseEventRecord.id.desc()).limit(1)).first()
    if closed is None or closed.outcome not in OUTCOMES:
        return False
    back = expected_at_school(OUTCOMES[closed.outcome].status or "enrolled")
    return back and day >= closed.at.astimezone(DEFAULT_ZONE).date()


def absence_left_open(session, child_id: int, now: datetime) -> CaseHandoff | None:
    """After the child's case closed with the child back at school (``ledger.child_status``
    applies the closure and calls this in its transaction): if the child's latest reported
    day is an unexcused absence that no case knows, hand it on as an absence, so that a case
    opens for it (a lost absence is the one failure Baoxue cannot have). Returns the row."""
    latest = session.execute(select(AttendanceRecord.date, AttendanceRecord.status, AttendanceRecord.school_code)
                             .where(AttendanceRecord.child_id == child_id)
                             .order_by(AttendanceRecord.date.desc()).limit(1)).first()
    if latest is None or latest.status != UNEXCUSED or not without_case(session, [child_id], latest.date):
        return None
    calendar = school_calendar(session)
    run = absence_runs(session, calendar, latest.school_code, latest.date, [child_id]).get(child_id)
    if run is None or run.count < 1:
        return None
    recent = recent_unexcused(session, calendar, latest.school_code, latest.date, [child_id],
                              local_rules().intermittent_window).get(child_id)
    log.info("child %s: case closed as back at school, but %s was unexcused: handed on", child_id, latest.date)
    return enqueue(session, ABSENCE, child_id, latest.date, "system", now, count=run.count,
                   first_day=run.first_day, recent=recent.now if recent else 0)


def awaiting_return(session, child_ids, day: date) -> set[int]:
    """Of ``child_ids`` (present on ``day``), those whose open case waits for ``returned``
    and whose last reported day before ``day`` was an unexcused absence: a present day after
    days nobody reported still ends their absence (a case opened for a tendency, never
    absent, is not "returned")."""
    waiting = waiting_for_return(session, child_ids)
    if not waiting:
        return set()
    last: dict[int, str] = {}
    rows = session.execute(select(AttendanceRecord.child_id, AttendanceRecord.status).where(
        AttendanceRecord.child_id.in_(waiting), AttendanceRecord.date < day,
        AttendanceRecord.date >= day - timedelta(days=MAX_LOOKBACK_DAYS))
        .order_by(AttendanceRecord.child_id, AttendanceRecord.date.desc()))
    for child_id, status in rows:
        last.setdefault(child_id, status)
    return {child_id for child_id in waiting if last.get(child_id) == UNEXCUSED}


def waiting_for_return(session, child_ids) -> set[int]:
    """Of ``child_ids``, those whose open case waits for the ``returned`` message."""
    if not child_ids:
        return set()
    keys = {business_key(child_id): child_id for child_id in child_ids}
    return {keys[key] for key in session.scalars(
        select(ProcessInstance.business_key).join(MessageSubscription, MessageSubscription.instance_id == ProcessInstance.id)
        .where(ProcessInstance.process_key == PROCESS_KEY, ProcessInstance.business_key.in_(keys),
               ProcessInstance.status.in_(OPEN_STATUSES), MessageSubscription.message_name == "returned"))}


def absent_without_case(session) -> list[int]:
    """Children whose latest reported school day is an unexcused absence that no case knows
    (see ``without_case``): what ``baoxue check`` must never find (a lost absence)."""
    latest = (select(AttendanceRecord.child_id, func.max(AttendanceRecord.date).label("day"))
              .group_by(AttendanceRecord.child_id).subquery())
    rows = session.execute(select(AttendanceRecord.child_id, AttendanceRecord.date).join(
        latest, (AttendanceRecord.child_id == latest.c.child_id) & (AttendanceRecord.date == latest.c.day))
        .where(AttendanceRecord.status == UNEXCUSED)).all()
    by_day: dict[date, list[int]] = {}
    for child_id, day in rows:
        by_day.setdefault(day, []).append(child_id)
    return sorted(child_id for day, ids in by_day.items() for child_id in without_case(session, ids, day))


# -- claiming ---------------------------------------------------------------------------

def _claim_next(engine, ignore_backoff: bool) -> int | None:
    # One child's events apply in the order they were written.
    return claim_next(engine.db, CaseHandoff, "child_id", lease=LEASE, ignore_backoff=ignore_backoff)


def _dispatch_one(engine, row_id: int) -> CaseEvent | None:
    claimed = claim_next(engine.db, CaseHandoff, "child_id", lease=LEASE, where=lambda now: CaseHandoff.id == row_id)
    if claimed is None:   # done already, or another dispatcher has it, or an older one waits
        return CaseEvent("pending", {"handoff_id": row_id})
    return _apply(engine, row_id)


# -- applying ---------------------------------------------------------------------------

def _apply(engine, row_id: int) -> CaseEvent | None:
    """Apply one claimed event; on any setback leave it pending with a back-off."""
    try:
        with engine.db.transaction() as session:
            # Locked: a second dispatcher whose lease ran out meanwhile waits here, then sees
            # the row done (applied once, never twice).
            row = session.get(CaseHandoff, row_id, with_for_update=engine.db.is_postgres)
            if row.status != "pending":
                return None
            event = _apply_in(engine, session, row)
            row.status, row.done_at, row.lease_until = "done", engine.clock(), None
            row.result, row.last_error = json.dumps(event.detail if event else {}, ensure_ascii=False), None
            return event
    except PendingFailure as failure:
        err = engine.executor.record_failure(failure, also=lambda s, iid, inc: _done_by_incident(
            s, row_id, iid, inc, engine.clock()))
        child_id = _child_of(engine, row_id)
        log.warning("attendance hand-off %s: case %s failed: %s", row_id, err.instance_id, err.message)
        return CaseEvent("error", {"child_id": child_id, "instance_id": err.instance_id, "message": err.message})
    except (InstanceInError, Busy, NotFound, Conflict) as exc:
        return _set_back(engine, row_id, exc.message)
    except DBAPIError as exc:
        if not is_transient(exc):
            raise
        return _set_back(engine, row_id, "数据库繁忙，稍后自动重试 (database busy; retried)")


def _apply_in(engine, session, row: CaseHandoff) -> CaseEvent | None:
    actor = row.reported_by
    case_id = open_case(session, row.child_id)
    if case_id is not None:
        instance = lock_instance(session, case_id)     # decide on what the case is now
        if instance.status not in OPEN_STATUSES:
            case_id = None
    if row.kind == EXCUSED_DAY:
        if case_id is not None and _waits_for(session, case_id, "excused_day"):
            return _message(engine, session, case_id, row, "excused_day", {"date": row.day.isoformat()})
        return None
    if row.kind == ABSENCE:
        first = (row.first_day or row.day).isoformat()
        if case_id is None:
            rules = local_rules()
            variables = {"child_id": row.child_id, "absence_days": row.count, "first_absence": first,
                         "trigger": "absence", "recent_absences": row.recent,
                         "child_age": child_age(session, row.child_id, row.day), **rules.case_variables()}
            if row.recent >= rules.intermittent_days:
                variables.update(trigger="tendency", tendency_reason=(
                    f"间断性缺课：近 {rules.intermittent_window} 个教学日内无故缺课 {row.recent} 天"))
            definition = engine.repository.latest(PROCESS_KEY)   # NotFound: kept, retried after a deploy
            started = engine.runtime.start_definition(definition.id, variables, business_key=business_key(row.child_id),
                                                      actor=actor, session=session)
            return CaseEvent("started", {"child_id": row.child_id, "instance_id": started.instance_id})
        if _waits_for(session, case_id, "absence_day"):
            payload = {"count": row.count, "date": row.day.isoformat(), "first": first, "recent": row.recent,
                       "age": child_age(session, row.child_id, row.day)}
            return _message(engine, session, case_id, row, "absence_day", payload)
        engine.executor.execute(case_id, SetVariables({"absence_days": row.count, "first_absence": first,
                                                       "recent_absences": row.recent,
                                                       "child_age": child_age(session, row.child_id, row.day)}),
                                actor, session=session)
        return CaseEvent("message", {"child_id": row.child_id, "message": "absence_day", "status": "updated",
                                     "reached": [case_id]})
    if case_id is not None and _waits_for(session, case_id, "returned"):
        # How far the case went (ledger.child_status, from the case's own case_event messages):
        # the diagram decides by it whether the child was ever a dropout (issue 10 §1).
        child = session.get(Child, row.child_id)
        return _message(engine, session, case_id, row, "returned",
                        {"date": row.day.isoformat(), "corrected": row.corrected, "status": child.enrolment_status,
                         "watch_until": _watch_until(engine, session, row.day, child.school_code)})
    return None


def _watch_until(engine, session, day: date, school_code: str | None) -> str:
    """The end of the watch after a return before the report (issue 10 §1): the local
    setting's school days of the child's school counted from the return day (ISO date-time)."""
    calendar = school_calendar(session, engine.zone)
    noon = datetime.combine(day, time(12), engine.zone)
    return calendar.due_after(noon, local_rules().return_watch_days, "school", school_code).isoformat()


def _message(engine, session, case_id, row, name, payload) -> CaseEvent:
    caught = engine.messages.deliver_in(session, case_id, name, {"child_id": row.child_id}, payload, actor=row.reported_by)
    return CaseEvent("message", {"child_id": row.child_id, "message": name,
                                 "status": "delivered" if caught else "unmatched", "reached": [case_id] if caught else []})


def _waits_for(session, instance_id: int, name: str) -> bool:
    return session.scalar(select(MessageSubscription.id).where(
        MessageSubscription.instance_id == instance_id, MessageSubscription.message_name == name).limit(1)) is not None


def _set_back(engine, row_id: int, reason: str) -> CaseEvent:
    log.warning("attendance hand-off %s kept pending: %s", row_id, reason)
    with engine.db.transaction() as session:
        row = session.get(CaseHandoff, row_id)
        row.next_attempt_at = wall_clock() + backoff(row.attempts, MAX_BACKOFF)
        row.lease_until, row.last_error = None, reason[:2000]
        return CaseEvent("pending", {"child_id": row.child_id, "handoff_id": row_id, "message": reason})


def _done_by_incident(session, row_id, instance_id, incident_id, now) -> None:
    session.execute(update(CaseHandoff).where(CaseHandoff.id == row_id).values(
        status="done", done_at=now, lease_until=None,
        result=json.dumps({"instance_id": instance_id, "incident_id": incident_id})))


def _child_of(engine, row_id: int) -> int:
    with engine.db.read() as session:
        return session.get(CaseHandoff, row_id).child_id
