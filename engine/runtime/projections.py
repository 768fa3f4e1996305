"""Keep the indexed tables in step with a workflow, inside the command's transaction.

After every command the executor calls ``sync_all``: open human tasks, waiting timers and
message subscriptions of the instance are made to match the workflow exactly. What each table
should hold is computed apart from writing it (``ready_human_tasks``, ``waiting_timers``,
``expected_subscriptions``), so that ``engine.consistency`` can compare without writing. These
tables are what the inbox, the timer worker and message delivery read, so none of them
ever deserializes a workflow.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from uuid import UUID

from sqlalchemy import delete, select
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from ..persistence.models import HumanTask, Message, MessageSubscription, TimerJob
from .correlation import expected_correlation
from .hooks import TaskContext


def _properties(task) -> dict:
    return dict((getattr(task.task_spec, "extensions", None) or {}).get("properties", {}))


def effective_lane(task) -> str | None:
    """The lane that routes ``task``: its own, else that of the nearest calling activity.

    SpiffWorkflow gives a task of a called process ``lane=None`` when that process draws no
    lanes, whatever lane the call activity sits in (spiff-arena #1131); an embedded
    subprocess's tasks already inherit its lane at parse time. A called process that draws
    its own lanes keeps them: only its tasks outside any lane inherit. The deploy notes the
    rule for each such call activity (``definitions.checks.note_called_lanes``).
    """
    lane, workflow = task.task_spec.lane, task.workflow
    while lane is None and workflow.parent_task_id is not None:
        caller = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        if caller is None:
            break
        lane, workflow = caller.task_spec.lane, caller.workflow
    return lane


def task_context(ctx, task) -> TaskContext:
    spec = task.task_spec
    return TaskContext(
        instance_id=ctx.instance.id, process_key=ctx.instance.process_key,
        element_id=spec.bpmn_id, name=spec.bpmn_name, lane=effective_lane(task),
        properties=_properties(task), data=task.data, now=ctx.now, session=ctx.session,
        evaluate=lambda expression: task.workflow.script_engine.evaluate(task, expression),
    )


def sync_human_tasks(ctx) -> list[HumanTask]:
    """Insert rows for newly ready user/manual tasks, close rows of tasks no longer ready.

    Returns the rows created by this command (the "next tasks" of a completion).
    """
    session, wf = ctx.session, ctx.workflow
    open_rows = {row.id: row for row in session.scalars(
        select(HumanTask).where(HumanTask.instance_id == ctx.instance.id, HumanTask.status == "open"))}
    ready = ready_human_tasks(wf)
    created = []
    for task_id, task in ready.items():
        if task_id in open_rows:
            continue
        info = task_context(ctx, task)
        route = ctx.hooks.router(info)
        props = info.properties
        row = HumanTask(
            id=task_id, instance_id=ctx.instance.id, process_key=ctx.instance.process_key,
            element_id=info.element_id, name=info.name, lane=info.lane,
            form_key=props.get("formJsonSchemaFilename"), ui_form_key=props.get("formUiSchemaFilename"),
            due_at=ctx.hooks.due_policy(info), priority=_priority(props),
            candidate_role=route.role, org_unit=route.org_unit, unroutable=route.unroutable,
            subject_id=route.subject_id, assignee=route.assignee, reserved_for=route.assignee,
            status="open", created_at=ctx.now,
        )
        session.add(row)
        created.append(row)
        ctx.audit("task_ready", element_id=info.element_id, task_id=task_id,
                  data={"name": info.name, "lane": info.lane, "role": route.role,
                        "org_unit": route.org_unit, "unroutable": route.unroutable,
                        **({"assignee": route.assignee} if route.assignee else {}),
                        **({"notes": dict(route.notes)} if route.notes else {}),   # why / what about
                        "due_at": row.due_at.isoformat() if row.due_at else None})
    for task_id, row in open_rows.items():
        if task_id in ready:
            continue
        task = _find_task(wf, task_id)
        if task is not None and task.state == TaskState.COMPLETED:
            row.status = "completed"
            row.completed_by = ctx.completed_by.get(task_id, ctx.actor)
        else:
            row.status = "cancelled"
            ctx.audit("task_cancelled", element_id=row.element_id, task_id=task_id)
        row.completed_at = ctx.now
    return created


def ready_human_tasks(wf) -> dict:
    """``{task id: task}`` of the user/manual tasks that should have an ``open`` human_task row."""
    return {str(t.id): t for t in wf.get_tasks(state=TaskState.READY, manual=True)}


def _priority(props) -> int:
    try:
        return int(props.get("priority", 50))
    except (TypeError, ValueError):
        return 50


def _find_task(wf, task_id: str):
    try:
        return wf.get_task_from_id(UUID(task_id))
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises its own "not found" types
        return None


def timer_due(task) -> datetime | None:
    """When a waiting timer task will fire, from SpiffWorkflow's internal ``event_value``."""
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):  # cycle: {'cycles', 'next', 'duration'}
        return None if value.get("cycles") == 0 else TimerEventDefinition.get_datetime(value["next"])
    if isinstance(value, str):
        return TimerEventDefinition.get_datetime(value)
    return None


def event_parts(task, kind) -> list:
    """The event definitions of type ``kind`` that ``task`` still waits on: its own, or the
    not yet seen parts of a multiple event (an event-based gateway waits on one
    ``MultipleEventDefinition`` holding its message and timer events)."""
    definition = task.task_spec.event_definition
    if isinstance(definition, MultipleEventDefinition):
        seen = [e.event_definition for e in task.internal_data.get("seen_events", [])]
        return [d for d in definition.event_definitions if isinstance(d, kind) and d not in seen]
    return [definition] if isinstance(definition, kind) else []


def _waiting_event_tasks(wf, kind):
    return [t for t in wf.event_manager.tasks.values()
            if t.state == TaskState.WAITING and event_parts(t, kind)]


def waiting_timers(wf) -> dict:
    """``{task id: (task, due)}`` of the timers that should have a ``waiting`` timer_job (due
    in UTC). A business-day timer's due time is already in its task (``business_day_due``)."""
    waiting = {}
    for task in _waiting_event_tasks(wf, TimerEventDefinition):
        due = timer_due(task)
        if due is not None:
            waiting[str(task.id)] = (task, due)
    return waiting


def sync_timers(ctx) -> None:
    """One ``waiting`` timer_job per waiting timer task, with its due time (UTC)."""
    session = ctx.session
    jobs = {job.task_id: job for job in session.scalars(select(TimerJob).where(
        TimerJob.instance_id == ctx.instance.id, TimerJob.status == "waiting"))}
    waiting = waiting_timers(ctx.workflow)
    for task_id, job in jobs.items():
        if task_id in ctx.fired_timers:
            job.status, job.fired_at = "fired", ctx.now
        elif task_id not in waiting:
            job.status = "cancelled"
        elif waiting[task_id][1] != job.due_at:
            job.due_at = waiting[task_id][1]
    for task_id, (task, due) in waiting.items():
        if task_id in jobs and task_id not in ctx.fired_timers:
            continue
        due = business_day_due(ctx, task, due)
        session.add(TimerJob(kind="event", instance_id=ctx.instance.id, task_id=task_id,
                             element_id=task.task_spec.bpmn_id, due_at=due, status="waiting"))


def business_day_due(ctx, task, due: datetime) -> datetime:
    """A new duration timer whose event says ``dueDays`` = working | school fires at the end
    of that many business days (the due policy decides, as for a user task's ``dueIn``):
    SpiffWorkflow's own fire time (calendar days) is replaced, so the two never disagree."""
    parts = event_parts(task, DurationTimerEventDefinition)
    if not parts:
        return due
    definition = parts[0]
    props = _timer_properties(task, definition)
    if props.get("dueDays", "calendar") == "calendar":
        return due
    info = replace(task_context(ctx, task), properties={"dueIn": definition.expression, "dueDays": props["dueDays"]})
    computed = ctx.hooks.due_policy(info)
    if computed is None:
        return due
    computed = computed.astimezone(timezone.utc)
    task._set_internal_data(event_value=computed.isoformat())
    return computed


def _timer_properties(task, definition) -> dict:
    """The properties of the timer event ``definition`` belongs to: the task's own, or, when
    ``task`` is an event-based gateway (SpiffWorkflow waits on the gateway, holding its
    events' definitions), those of the timer catch event after it (engine/README.md)."""
    own = task.task_spec.event_definition
    if not isinstance(own, MultipleEventDefinition):
        return _properties(task)
    # The parser keeps the catch events as the gateway's outputs, in the order of its events,
    # but gives them no event definition of their own: match by position.
    outputs = task.task_spec.outputs
    for index, event in enumerate(own.event_definitions):
        if event is definition and index < len(outputs):
            return dict((getattr(outputs[index], "extensions", None) or {}).get("properties", {}))
    return _properties(task)


def subscription_correlation(task, definition=None) -> dict:
    """Correlation values a waiting message catch expects, by property name (those that
    have a value; ``correlation.expected_correlation`` also says which have none)."""
    return expected_correlation(task, definition or task.task_spec.event_definition)[0]


def expected_subscriptions(wf, store) -> list[dict]:
    """The message_subscription rows (as column dicts, without ids) that ``wf`` should have.
    A catch with a correlation property that has no value is ``uncorrelatable`` (``missing``
    names the properties): it is listed, and never matched (``engine.runtime.correlation``)."""
    rows = []
    for task in _waiting_event_tasks(wf, MessageEventDefinition):
        for definition in event_parts(task, MessageEventDefinition):
            values, missing = expected_correlation(task, definition)
            correlation = store.to_json_safe(values)
            rows.append({"task_id": str(task.id), "element_id": task.task_spec.bpmn_id,
                         "message_name": definition.name,
                         "correlation": json.dumps(correlation, sort_keys=True, ensure_ascii=False),
                         "status": "uncorrelatable" if missing else "waiting",
                         "missing": ",".join(missing) or None})
    return rows


def sync_message_subscriptions(ctx) -> None:
    """Rewrite the instance's subscriptions; a catch that has just become uncorrelatable is
    audited (``message_uncorrelatable``: the inspector's timeline says why the case waits)."""
    session = ctx.session
    mine = MessageSubscription.instance_id == ctx.instance.id
    before = set(session.execute(select(MessageSubscription.task_id, MessageSubscription.message_name).where(
        mine, MessageSubscription.status == "uncorrelatable")).all())
    session.execute(delete(MessageSubscription).where(mine))
    for row in expected_subscriptions(ctx.workflow, ctx.store):
        session.add(MessageSubscription(instance_id=ctx.instance.id, **row))
        if row["status"] == "uncorrelatable" and (row["task_id"], row["message_name"]) not in before:
            ctx.audit("message_uncorrelatable", element_id=row["element_id"], task_id=row["task_id"],
                      data={"name": row["message_name"], "missing": row["missing"].split(",")})


def sync_all(ctx) -> list[HumanTask]:
    created = sync_human_tasks(ctx)
    sync_timers(ctx)
    sync_message_subscriptions(ctx)
    return created


def queue_thrown_messages(ctx) -> None:
    """Messages a process threw that nothing inside it caught become ``pending`` rows, in
    this transaction (an outbox): they are delivered after commit, or by the worker."""
    for event in ctx.workflow.get_events():
        if not isinstance(event.event_definition, MessageEventDefinition):
            continue  # signals and escalations have no cross-instance delivery (yet)
        correlation = {}
        for values in (event.correlations or {}).values():
            correlation.update(values)
        payload = event.payload if isinstance(event.payload, dict) else {"value": event.payload}
        correlation, payload = ctx.store.to_json_safe(correlation), ctx.store.to_json_safe(payload)
        ctx.session.add(Message(name=event.event_definition.name, status="pending", sender=f"instance:{ctx.instance.id}",
                                correlation=json.dumps(correlation, ensure_ascii=False, sort_keys=True, default=str),
                                payload=json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str),
                                reached="[]", received_at=ctx.now))
        ctx.audit("message_sent", data={"name": event.event_definition.name, "correlation": correlation})
