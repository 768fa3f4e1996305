"""Business-day arithmetic: calendar, working and school days.

Working days follow the PRC statutory calendar from ``chinesecalendar`` (holidays off,
official make-up days on). Outside the years that package knows, the calendar falls
back to Monday-Friday and logs that it did (once per year), never crashing. School days
are working days with per-org-unit overrides (a school's term breaks and extra days),
supplied by the caller.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Callable, Mapping

import chinese_calendar

log = logging.getLogger(__name__)
KINDS = ("calendar", "working", "school")


class BusinessCalendar:
    """``is_business_day(day, kind, unit)`` and ``add_days(start, n, kind, unit)``.

    ``overrides(unit) -> {date: bool}`` gives a unit's own school days (True) and days off
    (False); it applies to kind ``school`` only.
    """

    def __init__(self, zone: tzinfo, overrides: Callable[[str | None], Mapping[date, bool]] | None = None):
        self.zone = zone
        self.overrides = overrides or (lambda unit: {})
        self._warned: set[int] = set()

    def uses_fallback(self, year: int) -> bool:
        """True when chinesecalendar has no data for ``year`` (Monday-Friday is used)."""
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
            return False
        except NotImplementedError:
            return True

    def is_working_day(self, day: date) -> bool:
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                log.warning("no statutory holiday data for %s: working days fall back to Monday-Friday", day.year)
            return day.weekday() < 5

    def is_business_day(self, day: date, kind: str = "working", unit: str | None = None) -> bool:
        if kind == "calendar":
            return True
        if kind == "school":
            own = self.overrides(unit)
            if day in own:
                return own[day]
        return self.is_working_day(day)

    def add_days(self, start: date, days: int, kind: str = "working", unit: str | None = None) -> date:
        """The ``days``-th business day after ``start``; 0 = ``start`` itself if it is one.
        When ``start`` is a day off, the next business day counts as the first (a task ready
        on Sunday with 3 working days is due on Wednesday). Raises ValueError for a negative
        count or an unknown kind."""
        if kind not in KINDS:
            raise ValueError(f"unknown day kind {kind!r}; use one of {KINDS}")
        if days < 0:
            raise ValueError("day count must not be negative")
        day = start
        if not self.is_business_day(day, kind, unit):
            # Ready on a day off: the next business day is the first of the count.
            while not self.is_business_day(day, kind, unit):
                day += timedelta(days=1)
            days = max(days - 1, 0)
        for _ in range(days):
            day += timedelta(days=1)
            while not self.is_business_day(day, kind, unit):
                day += timedelta(days=1)
        return day

    def business_days_between(self, first: date, last: date, kind: str = "working", unit: str | None = None) -> int:
        """How many business days lie in [first, last] (both included)."""
        count, day = 0, first
        while day <= last:
            count += self.is_business_day(day, kind, unit)
            day += timedelta(days=1)
        return count

    def end_of_day(self, day: date) -> datetime:
        """23:59:59 local time of ``day``, as an aware datetime (deadlines end with the day)."""
        return datetime.combine(day, time(23, 59, 59), self.zone)

    def due_after(self, moment: datetime, days: int, kind: str = "working", unit: str | None = None) -> datetime:
        """End of the ``days``-th business day counted from the local date of ``moment``."""
        local = moment.astimezone(self.zone).date()
        return self.end_of_day(self.add_days(local, days, kind, unit))


def add_working_days(start, days) -> str:
    """Script function (sandbox): the ISO date ``days`` statutory working days after ``start``
    (an ISO date or date-time string, or a date; its calendar date is used). A day off as
    ``start`` makes the next working day the first. Used for administrative deadlines
    (DOMAIN-REFERENCE §6: "within 3 days" of an order counts working days). Raises
    ValueError for a bad date or a negative count."""
    if isinstance(start, str):
        start = date.fromisoformat(start[:10])
    elif isinstance(start, datetime):
        start = start.date()
    if not isinstance(start, date):
        raise ValueError("add_working_days: start must be an ISO date")
    if isinstance(days, bool) or not isinstance(days, int):
        raise ValueError("add_working_days: days must be a whole number")
    return _SCRIPT_CALENDAR.add_days(start, days, "working").isoformat()


_SCRIPT_CALENDAR = BusinessCalendar(timezone(timedelta(hours=8)))   # the zone does not matter for date arithmetic
