"""Due dates of user tasks, from two documented task properties (spiffworkflow:property):

* ``dueIn``: a Python expression (like SpiffWorkflow's timers) giving an ISO 8601 duration
  (``"P3D"``, ``"PT8H"``) or an ISO date/date-time (``notice_deadline``);
* ``dueDays``: how a duration's days count: ``calendar`` (default), ``working`` (statutory
  working days: DOMAIN-REFERENCE §6, administrative deadlines) or ``school`` (the child's
  school's days: attendance rules).

A day count means "by the end of the N-th such day after the task became ready" (``P0D``
= the same day). Hours and minutes are always calendar time. A value that cannot be
read, or that lies outside the engine's bounds (``engine.timer_bounds``: durations of at
most 10 years, dates 2000-2099), gives no due date and a log line, never a failed step.
"""
from __future__ import annotations

import ast
import logging
from datetime import date, datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.calendar import BusinessCalendar
from engine.runtime.hooks import TaskContext
from engine.timer_bounds import check_moment

from .models import Child
from .school_calendar import school_calendar

log = logging.getLogger(__name__)


def make_due_policy(calendar: BusinessCalendar):
    def due_policy(task: TaskContext) -> datetime | None:
        raw = task.properties.get("dueIn")
        if not raw:
            return None
        try:
            return _due(calendar, task, raw, task.properties.get("dueDays", "calendar"))
        except Exception as exc:  # noqa: BLE001 - a bad rule must not fail the case; deploy checks it
            log.warning("task %s of %s: cannot compute due date from %r: %s", task.element_id,
                        task.process_key, raw, exc)
            return None
    return due_policy


def _due(calendar, task, raw, kind):
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = task.evaluate(raw)
    if isinstance(value, str) and not value.upper().startswith("P"):
        value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    if isinstance(value, date):
        check_moment(value)   # the engine's bound on dates (engine.timer_bounds)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=calendar.zone)
    if isinstance(value, date):
        return calendar.end_of_day(value)
    if not isinstance(value, str):
        raise ValueError(f"dueIn gave {type(value).__name__}, not a duration or date")
    parsed = TimerEventDefinition.parse_iso_duration(value)   # bounded: at most 10 years
    days = parsed.pop("days", 0) + 7 * parsed.pop("weeks", 0)
    if kind != "calendar" and (parsed.get("years") or parsed.get("months")):
        raise ValueError("working/school day counts take days only (e.g. P3D)")
    if kind == "calendar" or (not days and parsed):
        parsed["days"] = days
        return task.now + TimerEventDefinition.get_timedelta_from_start(parsed, task.now)
    if kind == "school":
        # The school's own term breaks and extra days (school_calendar_day), read in the
        # command's transaction.
        if task.session is not None:
            calendar = school_calendar(task.session, calendar.zone)
        return calendar.due_after(task.now, int(days), kind, _school_of(task))
    return calendar.due_after(task.now, int(days), kind)


def _school_of(task: TaskContext) -> str | None:
    child_id = task.data.get("child_id")
    if child_id is None or task.session is None:
        return None
    try:
        child = task.session.get(Child, int(child_id))
    except (TypeError, ValueError):
        return None
    return child.school_code if child else None
