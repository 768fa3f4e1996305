"""Consecutive unexcused absence, counted in school days (DOMAIN.md "Three-tier persuasion").

The rule, per DOMAIN.md ("day counts are consecutive unexcused school days absent") and
DOMAIN-REFERENCE §6 (attendance triggers count in the school's own 教学日):

* only school days of the child's school are walked (``ledger.school_calendar``):
  weekends, statutory holidays and the school's own days off are skipped, neither
  breaking nor extending a run; an official make-up day (调休, e.g. Sat 2025-10-11) counts;
* ``absent_unexcused`` extends the run;
* ``absent_excused`` pauses it: the child is accounted for (a guardian asked for leave), so
  the day neither counts nor ends the run; a case open for the child stops its thresholds
  meanwhile (issue 10 §2, "attendance turning excused pauses the case", ``ledger.case_handoff``);
  the reported excused day itself has a count of 0;
* ``present`` breaks it, and so does a school day with no record for the child: a day
  nobody reported is no evidence of absence (a late report re-counts, see attendance).

The walk looks back at most ``MAX_LOOKBACK_DAYS`` calendar days (a school year and its
summer break); a run longer than that is reported at what fits in the window.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar import BusinessCalendar

from .attendance_models import EXCUSED, PRESENT, UNEXCUSED, AttendanceRecord

MAX_LOOKBACK_DAYS = 400
_WINDOWS = (31, MAX_LOOKBACK_DAYS)   # most walks stop within a month: read that first


@dataclass(frozen=True)
class Run:
    """``count`` unexcused school days ending at the day asked (0 if not absent then),
    ``first_day`` the run's first day; ``absent_before``: the school days just before the
    day asked (back to the last present or unreported day) include an unexcused absence."""

    count: int
    first_day: date | None
    absent_before: bool


def absence_runs(session: Session, calendar: BusinessCalendar, school_code: str, day: date,
                 child_ids: Collection[int]) -> dict[int, Run]:
    """The run of each child of ``school_code`` at ``day`` (records already flushed)."""
    runs: dict[int, Run] = {}
    pending = set(child_ids)
    for window in _WINDOWS:
        if not pending:
            break
        days = _school_days_back(calendar, school_code, day, window)
        history = _history(session, pending, day - timedelta(days=window), day)
        for child_id in sorted(pending):
            run, complete = _walk(history.get(child_id, {}), days)
            if complete or window == _WINDOWS[-1]:
                runs[child_id] = run
        pending -= runs.keys()
    return runs


def _school_days_back(calendar: BusinessCalendar, school_code: str, day: date, window: int) -> list[date]:
    """School days in [day - window, day], latest first."""
    return [d for d in (day - timedelta(days=n) for n in range(window + 1))
            if calendar.is_business_day(d, "school", school_code)]


def _history(session: Session, child_ids, first: date, last: date) -> dict[int, dict[date, str]]:
    rows = session.execute(select(AttendanceRecord.child_id, AttendanceRecord.date, AttendanceRecord.status)
                           .where(AttendanceRecord.child_id.in_(child_ids),
                                  AttendanceRecord.date.between(first, last)))
    history: dict[int, dict[date, str]] = {}
    for child_id, day, status in rows:
        history.setdefault(child_id, {})[day] = status
    return history


def _walk(history: dict[date, str], days: list[date]) -> tuple[Run, bool]:
    """Walk ``days`` (latest first, ``days[0]`` the day asked); True when both walks ended
    inside the window (else a longer window may change the answer)."""
    count, first_day, index = 0, None, 0
    if days and history.get(days[0]) == UNEXCUSED:
        # Back through the run; an excused day inside it pauses it (skipped, not an end).
        while index < len(days) and history.get(days[index]) in (UNEXCUSED, EXCUSED):
            if history[days[index]] == UNEXCUSED:
                count, first_day = count + 1, days[index]
            index += 1
    count_done = index < len(days)
    # Before the day asked: back through any absences (excused or not) to the last present day.
    absent_before, index = False, 1
    while index < len(days) and history.get(days[index]) not in (None, PRESENT):
        absent_before = absent_before or history[days[index]] == UNEXCUSED
        index += 1
    return Run(count, first_day, absent_before), count_done and index < len(days)


@dataclass(frozen=True)
class Recent:
    """Unexcused school days within the last ``window`` school days ending at the day asked
    (``now``) and ending at the school day before it (``before``): the intermittent-absence
    rule (``ledger.local_rules``; issue 10 §4). Counting only consecutive days misses a pupil
    absent every other day."""

    now: int
    before: int
    run_before: int = 0    # the unexcused school days just before the day asked, in a row (reported days)


_RECENT_SPAN = 150   # calendar days that hold any window of school days we allow (holidays included)


def recent_unexcused(session: Session, calendar: BusinessCalendar, school_code: str, day: date,
                     child_ids: Collection[int], window: int) -> dict[int, Recent]:
    """``Recent`` of each child at ``day`` (records already flushed); children with no
    unexcused day in the span are left out (read them as 0)."""
    if not child_ids:
        return {}
    days = _school_days_back(calendar, school_code, day, _RECENT_SPAN)[:window + 1]
    if not days:
        return {}
    if days[0] != day:   # asked about a day that is no school day: it counts in neither window
        days = [day] + days[:window]
    history = _history(session, child_ids, days[-1], day)
    found: dict[int, Recent] = {}
    for child_id, statuses in history.items():
        marks = [statuses.get(d) == UNEXCUSED for d in days]
        now, before = sum(marks[:window]), sum(marks[1:window + 1])
        # The run just before: reported days only (a day nobody reported neither ends nor extends it).
        reported = [statuses[d] for d in days[1:] if d in statuses]
        run = next((n for n, status in enumerate(reported) if status != UNEXCUSED), len(reported))
        if now or before:
            found[child_id] = Recent(now, before, run)
    return found
