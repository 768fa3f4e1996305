"""School days of one school, from the statutory calendar and the school's own exceptions.

DOMAIN-REFERENCE §6: ``school_day = is_workday(d) (chinesecalendar: holidays off, official
make-up days on) unless the school says otherwise``. A unit's exceptions are the rows of
``school_calendar_day``; a school inherits its ancestors' rows (a town-wide closure) and
its own row for a date wins. Outside the years chinesecalendar knows, working days fall
back to Monday-Friday with a log line (``engine.calendar``); ``fallback_years`` tells a
page which years those are.

A calendar built here reads each unit's exceptions once, on first use, and keeps them for
its own life: build one per request or per session, never keep one across requests (an
edited school calendar would not be seen).
"""
from __future__ import annotations

from datetime import date, tzinfo
from typing import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar import BusinessCalendar

from .access import log_access
from .attendance_models import SchoolCalendarDay
from .models import OrgUnit

DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")   # CONTRACT.md BAOXUE_TIMEZONE default


def school_calendar(session: Session, zone: tzinfo = DEFAULT_ZONE) -> BusinessCalendar:
    """A BusinessCalendar whose ``school`` days for unit ``u`` honour ``school_calendar_day``.

    Use ``is_business_day(d, "school", school_code)``; one query per unit (and one for the
    org tree) for the calendar's life, not one per day asked.
    """
    cache: dict[str, dict[date, bool]] = {}
    parents: dict[str, str | None] = {}

    def chain(unit: str) -> list[str]:
        if not parents:
            parents.update(session.execute(select(OrgUnit.code, OrgUnit.parent_code)).all())
        found: list[str] = []
        while unit is not None and unit not in found:  # guard against a cycle in bad data
            found.append(unit)
            unit = parents.get(unit)
        return found

    def overrides(unit: str | None) -> dict[date, bool]:
        if unit is None:
            return {}
        if unit not in cache:
            units = chain(unit)
            rows = session.execute(select(SchoolCalendarDay.org_unit_code, SchoolCalendarDay.date,
                                          SchoolCalendarDay.is_school_day)
                                   .where(SchoolCalendarDay.org_unit_code.in_(units)))
            rank = {code: depth for depth, code in enumerate(units)}   # 0 = the unit itself
            merged: dict[date, tuple[int, bool]] = {}
            for code, day, is_school_day in rows:
                if day not in merged or rank[code] < merged[day][0]:
                    merged[day] = (rank[code], is_school_day)
            cache[unit] = {day: value for day, (_, value) in merged.items()}
        return cache[unit]

    return BusinessCalendar(zone, overrides)


def fallback_years(years: Iterable[int] | None = None, *, today: date | None = None) -> list[int]:
    """Which of ``years`` (default: this year and next) chinesecalendar does not know, so
    that working days there are Monday-Friday without statutory holidays (say so on the
    calendar page; upgrade the package each November when the State Council publishes)."""
    if years is None:
        this_year = (today or date.today()).year
        years = (this_year, this_year + 1)
    probe = BusinessCalendar(DEFAULT_ZONE)
    return sorted({year for year in years if probe.uses_fallback(year)})


def set_school_day(session: Session, unit: str, day: date, is_school_day: bool | None, note: str, *,
                   actor: str, now) -> dict | None:
    """Set a unit's own day (True: a school day, False: a day off) or clear it (None: the
    statutory calendar applies again), in the caller's transaction; logs who changed what
    (DOMAIN-REFERENCE §7.2 item 4). Returns the row as it was (``{is_school_day, note}``)
    or None. Raises IntegrityError when someone set the same day at the same moment."""
    row = session.scalar(select(SchoolCalendarDay).where(
        SchoolCalendarDay.org_unit_code == unit, SchoolCalendarDay.date == day))
    before = None if row is None else {"is_school_day": row.is_school_day, "note": row.note}
    if is_school_day is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(SchoolCalendarDay(org_unit_code=unit, date=day, is_school_day=is_school_day, note=note))
    else:
        row.is_school_day, row.note = is_school_day, note
    if before is not None or is_school_day is not None:
        log_access(session, actor, "change", f"calendar:{unit}",
                   {"date": day.isoformat(), "set": is_school_day, "note": note, "before": before}, now)
    session.flush()
    return before
