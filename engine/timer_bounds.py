"""Bounds on timer values (durations, dates, cycles), enforced where SpiffWorkflow parses them.

SpiffWorkflow turns a duration's years and months into days by looping once per month
(``TimerEventDefinition.get_timedelta_from_start``): ``"P99999999Y"`` loops 1.2 billion times
inside one engine step, holding a server thread, its transaction and its locks for hours. A
timer expression (or a task's ``dueIn``) may be a variable known only when the event is
reached, so deploy checks alone cannot keep such a value out. SpiffWorkflow's parsing
functions are therefore wrapped here, once, at import (``engine.clock`` imports this module):
every caller (its timer events, our deploy checks, start-event scheduling, due dates) gets the
bounds, and an out-of-bounds value raises ``TimerValueOutOfBounds`` before any loop runs. In an
engine step that fails the step: an incident naming the element and the value.

The bounds (README "Writing processes"): a duration at most ``MAX_DURATION_DAYS`` days (10
years: ``P10Y``, ``P120M``, ``P3653D``, ``P521W``); dates in the years ``MIN_YEAR`` to
``MAX_YEAR - 1``; a cycle repeats at most ``MAX_CYCLES`` times (or without end, ``R/``); an
expression's text at most ``MAX_TEXT`` characters.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (CycleTimerEventDefinition,
                                                              DurationTimerEventDefinition,
                                                              TimeDateEventDefinition,
                                                              TimerEventDefinition)

MAX_DURATION_DAYS = 3653        # ten years of 365.2425 days, rounded up
MIN_YEAR, MAX_YEAR = 2000, 2100  # a date from 2000-01-01 up to (not including) 2100-01-01
MAX_CYCLES = 10_000
MAX_TEXT = 100

# Each designator's longest length in days: a year may have 366 days, but "P10Y" must stay
# within ten years, so years and months count at their Gregorian mean (the bound is "about
# ten years", not a calendar computation).
_DAYS_PER = {"years": 365.2425, "months": 30.436875, "weeks": 7, "days": 1,
             "hours": 1 / 24, "minutes": 1 / 1440, "seconds": 1 / 86400}
_EARLIEST = datetime(MIN_YEAR, 1, 1, tzinfo=timezone(timedelta(hours=14)))   # the first zone's new year
_LATEST = datetime(MAX_YEAR, 1, 1, tzinfo=timezone(timedelta(hours=-12)))    # the last zone's
_WRITTEN_YEAR = re.compile(r"^\s*(\d{4})")
_CYCLE_COUNT = re.compile(r"^\s*R(\d*)/", re.IGNORECASE)


class TimerValueOutOfBounds(ValueError):
    """A timer value outside the engine's bounds; ``str()`` says which value and which bound."""


def duration_days(parsed: dict) -> float:
    """The length in days of a parsed duration (``parse_iso_duration``'s dict), years and
    months at their mean length."""
    return sum(float(parsed.get(unit) or 0) * days for unit, days in _DAYS_PER.items())


def check_text(expression) -> None:
    """Raise unless a timer value's text is short enough to be a real date, duration or cycle."""
    if isinstance(expression, str) and len(expression) > MAX_TEXT:
        raise TimerValueOutOfBounds(f'the timer value "{expression[:40]}..." is longer than '
                                    f'{MAX_TEXT} characters: not a date, duration or cycle')


def check_duration(parsed: dict, text: str | None = None) -> None:
    """Raise if a parsed duration is longer than ``MAX_DURATION_DAYS``."""
    days = duration_days(parsed)
    shown = f'"{text}"' if text else "a duration"
    if days > MAX_DURATION_DAYS:
        raise TimerValueOutOfBounds(f"the duration {shown} is longer than 10 years (the engine's "
                                    f"bound on timer durations and due dates: at most P10Y or "
                                    f"P{MAX_DURATION_DAYS}D)")


def check_moment(moment: date, text: str | None = None) -> None:
    """Raise if a date or date-time lies outside the years ``MIN_YEAR``..``MAX_YEAR - 1``
    (an aware date-time: in any zone, so "2000-01-01T00:00+08:00", 1999 in UTC, is inside)."""
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        inside = _EARLIEST <= moment < _LATEST
    else:
        inside = MIN_YEAR <= moment.year < MAX_YEAR
    if not inside:
        shown = f'"{text}"' if text else moment.isoformat()
        raise TimerValueOutOfBounds(f"the date {shown} is outside {MIN_YEAR}-01-01 to "
                                    f"{MAX_YEAR - 1}-12-31 (the engine's bound on timer dates "
                                    "and due dates)")


def check_cycle_count(expression: str) -> None:
    """Raise if a repeating interval ``R<n>/...`` repeats more than ``MAX_CYCLES`` times."""
    match = _CYCLE_COUNT.match(expression)
    if match and match.group(1) and (len(match.group(1)) > 6 or int(match.group(1)) > MAX_CYCLES):
        raise TimerValueOutOfBounds(f'the cycle "{expression}" repeats more than {MAX_CYCLES} '
                                    'times (the engine\'s bound; "R/..." repeats without end)')


def out_of_bounds(kind: str, value: str) -> str | None:
    """Why ``value`` (a timeDuration, timeDate or timeCycle string) is out of bounds, or None.
    Other problems (not ISO 8601 at all) are left to the caller's own checks."""
    parse = {"timeDuration": TimerEventDefinition.parse_iso_duration,
             "timeDate": TimerEventDefinition.parse_time_or_duration,
             "timeCycle": TimerEventDefinition.parse_iso_recurring_interval}[kind]
    try:
        parse(value)
    except TimerValueOutOfBounds as exc:
        return str(exc)
    except Exception:  # noqa: BLE001 - SpiffWorkflow's own parse errors are reported elsewhere
        return None
    return None


# -- the wrappers installed on SpiffWorkflow's TimerEventDefinition ---------------------------
# Its methods are static and call each other through the class (``TimerEventDefinition.
# parse_iso_duration(...)``), so replacing the class attributes covers its own timer events.

def _bounded_parse_iso_duration(original):
    def parse_iso_duration(expression):
        check_text(expression)
        parsed = original(expression)
        check_duration(parsed, expression)
        return parsed
    return parse_iso_duration


def _bounded_timedelta(original):
    def timedelta_from(parsed_duration, *args):
        check_duration(parsed_duration)   # the month loop below is where the time goes
        return original(parsed_duration, *args)
    return timedelta_from


def _bounded_parse_time_or_duration(original):
    def parse_time_or_duration(expression):
        check_text(expression)
        value = original(expression)
        if isinstance(value, date):
            written = _WRITTEN_YEAR.match(expression)   # the year as written, not in UTC
            check_moment(date(int(written.group(1)), 1, 1) if written else value, expression)
        return value
    return parse_time_or_duration


def _bounded_parse_iso_recurring_interval(original):
    def parse_iso_recurring_interval(expression):
        check_text(expression)
        if isinstance(expression, str):
            check_cycle_count(expression)
        return original(expression)
    return parse_iso_recurring_interval


def _naming_the_task(original):
    # SpiffWorkflow evaluates the expression and parses it inside these methods with no task in
    # the error: name the event, so the incident says which element's value is out of bounds.
    def evaluate(self, my_task):
        try:
            return original(self, my_task)
        except TimerValueOutOfBounds as exc:
            raise WorkflowTaskException(str(exc), task=my_task, exception=exc) from exc
    return evaluate


_WRAPPERS = {"parse_iso_duration": _bounded_parse_iso_duration,
             "get_timedelta_from_start": _bounded_timedelta,
             "get_timedelta_from_end": _bounded_timedelta,
             "parse_time_or_duration": _bounded_parse_time_or_duration,
             "parse_iso_recurring_interval": _bounded_parse_iso_recurring_interval}


_EVALUATIONS = ((TimeDateEventDefinition, "has_fired"), (DurationTimerEventDefinition, "has_fired"),
                (CycleTimerEventDefinition, "cycle_complete"))


def install() -> None:
    """Wrap SpiffWorkflow's timer parsing with the bounds (idempotent; done at import)."""
    for name, wrap in _WRAPPERS.items():
        _replace(TimerEventDefinition, name, wrap, staticmethod)
    for cls, name in _EVALUATIONS:
        _replace(cls, name, _naming_the_task, lambda f: f)


def _replace(cls, name, wrap, kind) -> None:
    original = getattr(cls, name)
    if getattr(original, "_bounded", False):
        return
    wrapped = wrap(original)
    wrapped._bounded = True
    wrapped.__name__ = wrapped.__qualname__ = name
    wrapped.__doc__ = f"SpiffWorkflow's {name}, within the bounds of engine.timer_bounds."
    setattr(cls, name, kind(wrapped))


install()
