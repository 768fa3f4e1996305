"""Deploy-time checks of timer expressions (timeDate, timeDuration, timeCycle).

SpiffWorkflow evaluates a timer expression as *Python* when the event is reached and only
then parses the resulting string (SPIFFWORKFLOW-NOTES §5, 10-J): an unquoted ``P3D`` or an
invalid ISO string fails at run time, days after the deploy. Here we fail at deploy time.
"""

from __future__ import annotations

import ast
import re
from datetime import datetime, timezone
from typing import Callable

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from ..timer_bounds import TimerValueOutOfBounds, check_moment, out_of_bounds
from .errors import DeployError
from .xsd import NSMAP
from .xmlsafety import describe, element_error, local_name

Checker = Callable[[str, str], list[str]]
MIN_CYCLE_SECONDS = 60   # an endless BPM cycle is human-paced; faster ones only load the worker
TIMER_KINDS = ('timeDate', 'timeDuration', 'timeCycle')

# What an ISO 8601 value looks like when someone forgot the quotes. As Python these are
# names (P3D, PT1H), arithmetic (2025-12-31, R3/PT1H) or syntax errors (2025-07-01).
# Case-sensitive: ISO designators are upper case, variables like p1_due are not caught.
_UNQUOTED_ISO = re.compile(r'^(R\d*/|P\d|PT\d|\d{4}-\d{2})')


def _naive(value: str) -> bool:
    return datetime.fromisoformat(value).tzinfo is None


def _naive_message(value: str) -> str:
    return (f'"{value}" has no UTC offset: SpiffWorkflow reads a date without offset in a '
            'fixed offset computed when the server started (wrong across daylight-saving '
            f'changes); write the offset, e.g. "{value}+08:00"')


def literal_problem(kind: str, value: object) -> str | None:
    """Why the evaluated timer value would fail at run time, or None if SpiffWorkflow's own
    parser for ``kind`` accepts it within the engine's bounds (``engine.timer_bounds``: at
    most 10 years, dates 2000-2099, at most 10,000 repetitions) and every date has an offset."""
    if not isinstance(value, str):
        return (f'the expression gives a Python {type(value).__name__}, not a string: write an '
                'ISO 8601 string in quotes, e.g. "PT1H"')
    bounds = out_of_bounds(kind, value)   # first: the checks below would run SpiffWorkflow's loops
    if bounds:
        return bounds
    if kind == 'timeDuration':
        try:
            parsed = TimerEventDefinition.parse_iso_duration(value)
        except Exception:  # noqa: BLE001 - SpiffWorkflow raises a bare Exception('Invalid duration')
            parsed = None
        if not parsed:
            return (f'"{value}" is not a valid ISO 8601 duration (examples: "PT1H", "P3D", "P1W"; '
                    'weeks cannot be combined with other units)')
        try:
            now = datetime.now(timezone.utc)
            now + TimerEventDefinition.get_timedelta_from_start(dict(parsed), now)
        except (OverflowError, ValueError):
            return f'the duration "{value}" is too large'
        return None
    if kind == 'timeDate':
        if value.strip().upper().startswith('P'):
            return f'"{value}" is a duration but timeDate needs a date-time: use timeDuration'
        try:
            TimerEventDefinition.parse_time_or_duration(value)   # what has_fired() calls
            naive = _naive(value)
        except Exception:  # noqa: BLE001
            return (f'"{value}" is not a valid ISO 8601 date-time (example: '
                    '"2025-09-01T08:00:00+08:00")')
        return _naive_message(value) if naive else None
    try:
        cycles, _, duration = TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception:  # noqa: BLE001
        return (f'"{value}" is not a valid ISO 8601 repeating interval (examples: "R3/PT1H", '
                '"R/P1D", "R2/2025-09-01T08:00:00+08:00/P1D")')
    # Same split as parse_iso_recurring_interval: the parts that are not durations are dates.
    for part in value.upper().replace('--', '/').strip('R').split('/')[1:]:
        if part and not part.startswith('P') and _naive(part):
            return _naive_message(part)
    if duration.total_seconds() <= 0:
        return f'the interval of "{value}" is not positive: the timer would fire without pause'
    if cycles < 0 and duration.total_seconds() < MIN_CYCLE_SECONDS:
        return (f'"{value}" repeats without end more often than every {MIN_CYCLE_SECONDS} s: every '
                'firing is a database transaction and a case step; use minutes or more (e.g. '
                '"R/PT5M") or a repetition count (e.g. "R3/PT10S")')
    return None


def timer_expressions(event: etree._Element) -> list[tuple[str, etree._Element]]:
    """``[(kind, expression element)]`` of every timer event definition under ``event``."""
    found = []
    for definition in event.xpath('./bpmn:timerEventDefinition', namespaces=NSMAP):
        for child in definition:
            if isinstance(child.tag, str) and local_name(child) in TIMER_KINDS:
                found.append((local_name(child), child))
    return found


def check_timers(file: str, root: etree._Element, check: Checker) -> list[DeployError]:
    """Every timer expression of a BPMN file: a quoted literal SpiffWorkflow can parse, or an
    expression over variables that compiles (eval mode) with ``check``; and the event's
    ``dueDays`` property (working or school days) only on a whole-day timeDuration."""
    errors = []
    for definition in root.xpath('.//bpmn:timerEventDefinition', namespaces=NSMAP):
        event = definition.getparent()
        expressions = timer_expressions(event)
        for kind, el in expressions:
            problem = expression_problem(kind, el.text, check)
            if problem:
                errors.append(element_error(file, event, f'{describe(event)}, {kind}: {problem}'))
        problem = _timer_days_problem(event, expressions)
        if problem:
            errors.append(element_error(file, event, f'{describe(event)}: {problem}'))
    return errors


def _timer_days_problem(event, expressions) -> str | None:
    """A timer event may say ``dueDays`` = working | school: its timeDuration then counts
    business days (the engine asks the due policy, like a user task's ``dueIn``)."""
    props = {p.get('name'): p.get('value') for p in event.xpath(
        './bpmn:extensionElements//spiffworkflow:property', namespaces=NSMAP)}
    kind = props.get('dueDays')
    if kind is None or kind == 'calendar':
        return None
    if kind not in DUE_DAY_KINDS:
        return f'dueDays "{kind}" must be one of ' + ', '.join(DUE_DAY_KINDS)
    if [k for k, _ in expressions] != ['timeDuration']:
        return f'dueDays "{kind}" applies to a timeDuration only (a date or a cycle is calendar time)'
    try:
        value = ast.literal_eval((expressions[0][1].text or '').strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None   # an expression: checked when the timer starts
    if isinstance(value, str) and not literal_problem('timeDuration', value) and _mixes_units(value):
        return (f'"{value}" counts {kind} days: use whole days ("P3D") or hours only, '
                'not months, years or both')
    return None


def expression_problem(kind: str, text: str | None, check: Checker) -> str | None:
    """The problem with one timer expression (raw element text), or None."""
    stripped = (text or '').strip()
    if not stripped:
        return 'the timer expression is empty'
    if _UNQUOTED_ISO.match(stripped):
        return f'timer expression {stripped} is evaluated as Python: write "{stripped}" (quoted)'
    compile_errors = check(text, 'eval')
    if compile_errors:
        return f'the timer expression {stripped!r} does not compile: ' + '; '.join(compile_errors)
    try:
        value = ast.literal_eval(stripped)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None   # an expression over task data: only known when the event is reached
    return literal_problem(kind, value)


DUE_DAY_KINDS = ('calendar', 'working', 'school')   # engine.calendar.KINDS


def check_due_properties(file: str, root: etree._Element, check: Checker) -> list[DeployError]:
    """The documented due-date properties of user tasks (see ``ledger.due`` / the default
    ``duration_due_policy``): ``dueIn`` is a quoted ISO duration or date, or an expression
    that compiles; ``dueDays`` is one of calendar, working, school, and working or school
    days count whole days only."""
    errors = []
    for task in root.xpath('.//bpmn:userTask | .//bpmn:manualTask', namespaces=NSMAP):
        props = {p.get('name'): p for p in task.xpath('.//spiffworkflow:property', namespaces=NSMAP)}
        due_in, due_days = props.get('dueIn'), props.get('dueDays')
        kind = due_days.get('value') if due_days is not None else 'calendar'
        if due_days is not None and kind not in DUE_DAY_KINDS:
            errors.append(element_error(file, task, f'{describe(task)}: dueDays "{kind}" must be one of '
                                                    + ', '.join(DUE_DAY_KINDS)))
        if due_in is None:
            continue
        text = (due_in.get('value') or '').strip()
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            value = None
        if isinstance(value, str) and value.upper().startswith('P'):
            problem = literal_problem('timeDuration', value)
            if not problem and kind in ('working', 'school') and _mixes_units(value):
                problem = (f'"{value}" counts {kind} days: use whole days ("P3D") or hours only '
                           '("PT8H", calendar time), not months, years or both')
        elif isinstance(value, str):
            problem = literal_problem('timeDate', value) if 'T' in value else _date_problem(value)
        else:
            problem = expression_problem('timeDate', text, check) if value is None else (
                f'dueIn gives a Python {type(value).__name__}: write a quoted duration like "P3D"')
        if problem:
            errors.append(element_error(file, task, f'{describe(task)}, dueIn: {problem}'))
    return errors


def _mixes_units(value: str) -> bool:
    parsed = TimerEventDefinition.parse_iso_duration(value)
    has_days = any(parsed.get(k) for k in ('days', 'weeks'))
    has_time = any(parsed.get(k) for k in ('hours', 'minutes', 'seconds'))
    return bool(parsed.get('years') or parsed.get('months') or (has_days and has_time))


def _date_problem(value: str) -> str | None:
    try:
        check_moment(datetime.strptime(value, '%Y-%m-%d'), value)
        return None
    except TimerValueOutOfBounds as exc:
        return str(exc)
    except ValueError:
        return f'"{value}" is neither an ISO 8601 duration ("P3D") nor a date ("2025-10-20")'
