"""The small interfaces through which a caller (the domain) plugs into the engine.

* ``Router``: given a new user task, who should do it (candidate role and org unit).
* ``DuePolicy``: when the task is due.
* ``BusinessKeyRule``: the business key of an instance a message start event starts.
* ``FormChoices``: the values a form field marked ``x-choicesFrom`` offers on an open task.
The first two receive a ``TaskContext``; none may change workflow state.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition


@dataclass(frozen=True)
class TaskContext:
    """What a hook may know about a task that has just become ready."""

    instance_id: int
    process_key: str
    element_id: str
    name: str | None
    lane: str | None
    properties: Mapping[str, str]
    data: Mapping[str, Any]
    now: datetime
    session: Any = None          # the command's open database session: read from it, never commit
    evaluate: Any = None         # evaluate(expression) in the sandbox against the task's data


@dataclass(frozen=True)
class Route:
    """Where a task goes: holders of ``role`` in ``org_unit``; ``unroutable`` flags a fallback."""

    role: str | None
    org_unit: str | None = None
    unroutable: bool = False
    subject_id: str | None = None   # what the task is about (e.g. a person's id), for listings
    assignee: str | None = None     # a task meant for one person: created claimed by them
    notes: Mapping[str, Any] = field(default_factory=dict)   # kept in the task's task_ready audit event


@dataclass(frozen=True)
class ChoiceContext:
    """What a ``FormChoices`` hook may know of the open task whose form offers the choices:
    its route (candidate role, org unit, subject) as the task index holds it."""

    instance_id: int
    process_key: str
    element_id: str
    role: str | None
    org_unit: str | None
    subject_id: str | None = None
    session: Any = None          # an open database session: read from it, never commit


def choice_context(row, session) -> ChoiceContext:
    """The ``ChoiceContext`` of an open task from its task-index row (``HumanTask``)."""
    return ChoiceContext(instance_id=row.instance_id, process_key=row.process_key,
                         element_id=row.element_id, role=row.candidate_role, org_unit=row.org_unit,
                         subject_id=row.subject_id, session=session)


Router = Callable[[TaskContext], Route]
DuePolicy = Callable[[TaskContext], "datetime | None"]
# (process_key, correlation, payload, *, session, sender) -> key; ``session`` is the start's open
# transaction (read from it, never commit); ``sender`` who sent the message (``instance:<id>``
# for a message a process threw, else the account or None); raising InvalidInput refuses the start.
BusinessKeyRule = Callable[..., "str | None"]
# (task, rule) -> [(value, label)]: what a field whose schema says ``"x-choicesFrom": rule``
# may hold on this task (the rule is the caller's own, e.g. people holding a role nearby).
FormChoices = Callable[[ChoiceContext, Any], "list[tuple[str, str]]"]


def no_form_choices(task: ChoiceContext, rule: Any) -> list[tuple[str, str]]:
    """Default ``FormChoices``: nothing to offer, so a field marked ``x-choicesFrom`` takes no
    value (a form that needs the caller's choices is refused rather than left unchecked)."""
    return []


def correlation_business_key(process_key: str, correlation: Mapping[str, Any],
                             payload: Mapping[str, Any], *, session: Any = None,
                             sender: str | None = None) -> str | None:
    """Default business key of a message-started instance: its message's correlation,
    ``"child_id=7"`` (properties sorted, joined by ``&``); None without a correlation.

    The key makes the one-open-instance rule (unique open ``(process_key, business_key)``)
    hold for message starts as for any other (issue 9): a second message for the same
    correlation cannot open a second instance. A caller whose other starts use another key
    form plugs in its own rule, so that both forms agree.
    """
    if not correlation:
        return None
    return "&".join(f"{key}={correlation[key]}" for key in sorted(correlation))[:255]


def lane_router(task: TaskContext) -> Route:
    """Default routing: the lane name is the candidate role, no org unit."""
    return Route(role=task.lane)


def duration_due_policy(task: TaskContext) -> datetime | None:
    """Default due date: the task property ``dueIn``, a quoted ISO 8601 duration in calendar time.

    ``"P3D"`` → three calendar days after the task became ready. Working or school days
    need a calendar and belong to a caller-provided policy. Unparseable values give no
    due date rather than an error: deploy validation is where a bad value is refused.
    Durations longer than 10 years count as unparseable (``engine.timer_bounds``).
    """
    raw = task.properties.get("dueIn")
    if not raw:
        return None
    try:
        value = ast.literal_eval(raw)
        parsed = TimerEventDefinition.parse_iso_duration(value)
        return task.now + TimerEventDefinition.get_timedelta_from_start(parsed, task.now)
    except Exception:  # noqa: BLE001 - any malformed literal means "no due date"
        return None
