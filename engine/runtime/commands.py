"""Engine commands: each is one use case that changes one instance's workflow state.

A command only mutates the workflow and writes audit events through its context; the
executor wraps it in the transaction, syncs projections and saves. ``to_json`` is what an
incident stores so that an administrator's retry re-runs exactly the failed command.
"""
from __future__ import annotations

import json
from datetime import timedelta
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from ..audit import utc_text
from ..clock import local_zone
from ..errors import Conflict, InvalidInput, NotFound
from ..persistence.models import HumanTask, Incident
from .correlation import message_values, takes
from .forminput import engine_variables, field_errors
from .casevariables import case_variables
from .formvalidation import validate_form
from .hooks import choice_context
from .multiinstance import MissingOutputItem, missing_output, output_item_name, refuse_missing_output
from .projections import event_parts, timer_due
from .steps import run_bounded


class Command:
    type = "command"
    allowed_in_error = False
    allowed_when_suspended = False   # engine.lifecycle: what may change a suspended instance

    def to_json(self) -> dict:
        return {"type": self.type}

    def run(self, ctx):  # pragma: no cover - interface
        raise NotImplementedError


MAX_SUBPROCESS_DEPTH = 50


class RunawayNesting(Exception):
    """Subprocesses nested deeper than any real diagram needs: a process that calls itself
    (directly or through others) without end would otherwise step forever inside one
    transaction, holding its locks. ``task`` names the call activity for the incident."""

    def __init__(self, task):
        self.task = task
        super().__init__(f"{task.task_spec.bpmn_id} nests subprocesses more than {MAX_SUBPROCESS_DEPTH} "
                         "deep: does a process call itself without end?")


def _check_depth(task) -> None:
    workflow = task.workflow
    if workflow.depth > MAX_SUBPROCESS_DEPTH:
        caller = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        raise RunawayNesting(caller or task)


def run_engine_steps(wf) -> bool:
    """``do_engine_steps`` with a bound on subprocess nesting (see ``RunawayNesting``) and on
    the steps of one transaction (``engine.runtime.steps``); False if it paused with work
    left for the worker's continuation."""
    return run_bounded(wf, _check_depth)


class StartInstance(Command):
    """Run a new instance's first steps; optionally fire its message or timer start event."""

    type = "start"

    def __init__(self, message: dict | None = None, timer: bool = False):
        self.message, self.timer = message, timer

    def to_json(self):
        return {"type": self.type, "message": self.message, "timer": self.timer}

    def run(self, ctx):
        wf = ctx.workflow
        run_engine_steps(wf)
        if self.timer:
            # The engine's timer job decided that the start is due (and schedules the next
            # cycle itself); make SpiffWorkflow's start event fire exactly once, now.
            for task in list(wf.event_manager.tasks.values()):
                if task.workflow is wf and isinstance(task.task_spec.event_definition, TimerEventDefinition):
                    if isinstance(task.task_spec.event_definition, CycleTimerEventDefinition):
                        task._set_internal_data(event_value={
                            "cycles": 1, "next": (ctx.now - timedelta(seconds=1)).isoformat(), "duration": 0})
                    else:
                        task._set_internal_data(event_fired=True)
            ctx.audit("timer_fired", element_id=_start_element(wf), data={"start": True})
            for _ in range(2):  # a cycle start event spawns its path, then completes
                wf.refresh_timers()
                run_engine_steps(wf)
        if self.message:
            deliver_to_workflow(ctx, self.message["name"], self.message.get("correlation") or {},
                                self.message.get("payload") or {})
            run_engine_steps(wf)


def _start_element(wf):
    starts = [t for t in wf.event_manager.tasks.values() if t.workflow is wf]
    return starts[0].task_spec.bpmn_id if starts else None


class CompleteTask(Command):
    """Validate ``data`` against the task's form, merge it into the task, run on.

    Refused with InvalidInput (422, nothing changed): data failing the form, fields the form
    does not declare or protected variables (``forminput``), an instance of a multi-instance
    without its output item (``multiinstance``)."""

    type = "complete_task"

    def __init__(self, task_id: str, data: dict, enforce_assignee: bool = True):
        self.task_id, self.data, self.enforce_assignee = task_id, data, enforce_assignee

    def to_json(self):
        return {"type": self.type, "task_id": self.task_id, "data": self.data,
                "enforce_assignee": self.enforce_assignee}

    def run(self, ctx):
        task = _ready_user_task(ctx, self.task_id)
        row = ctx.session.get(HumanTask, self.task_id)
        if self.enforce_assignee and row is not None and row.assignee and row.assignee != ctx.actor:
            raise Conflict(f"task {self.task_id} is claimed by {row.assignee}")
        schema = ctx.forms.schema(row.form_key) if row is not None and row.form_key else None
        refused = field_errors(task, self.data, schema, ctx.hooks.protected_variables | engine_variables(ctx.workflow),
                               ctx.hooks.form_message)
        try:
            if schema is not None:
                validate_form(schema, self.data, ctx.hooks.form_message,
                              today=ctx.now.astimezone(local_zone()).date(),
                              variables=case_variables(ctx.session, ctx.instance.id, task.data, ctx.hooks.form_variables),
                              choices=_choices_of(ctx, row))
        except InvalidInput as exc:   # one answer lists every problem
            raise InvalidInput(exc.message, errors={**(exc.errors or {}), **refused}) from None
        if refused:
            raise InvalidInput("the completion sets fields it may not: " + ", ".join(sorted(refused)),
                               errors=refused)
        spec = task.task_spec
        if hasattr(spec, "add_data_from_form"):
            spec.add_data_from_form(task, self.data)
        else:
            task.data.update(self.data)
        missing = missing_output(task)   # refused before run(): the instance stays open
        if missing:
            refuse_missing_output(missing, ctx.hooks.form_message)
        ctx.completed_by[self.task_id] = ctx.actor
        # Who and when, as the task index will say them (human_task.completed_by/_at): inside
        # the keyed chain, so engine.audit.verify_all can catch an edited task row.
        ctx.audit("task_completed", element_id=spec.bpmn_id, task_id=self.task_id,
                  data={"name": spec.bpmn_name, "submitted": self.data,
                        "completed_by": ctx.actor, "completed_at": utc_text(ctx.now)})
        try:
            task.run()
        except MissingOutputItem as exc:   # its postScript did not set it either
            if exc.task is not task:
                raise
            refuse_missing_output(output_item_name(task), ctx.hooks.form_message)
        run_engine_steps(ctx.workflow)


def _choices_of(ctx, row):
    """``rule -> [(value, label)]`` for the ``x-choicesFrom`` fields of ``row``'s form: the
    caller's ``form_choices`` hook, asked about this task's route (the same answer the task
    service gives a page that draws the form, ``TaskService.choices``)."""
    hook = ctx.hooks.form_choices
    if hook is None:
        return lambda rule: []
    task = choice_context(row, ctx.session)
    return lambda rule: hook(task, rule)


def _ready_user_task(ctx, task_id):
    try:
        task = ctx.workflow.get_task_from_id(UUID(task_id))
    except Exception:  # noqa: BLE001 - malformed id or SpiffWorkflow's own not-found
        task = None
    if task is None:
        raise NotFound(f"task {task_id} not found in instance {ctx.instance.id}")
    if not task.task_spec.manual:
        raise Conflict(f"task {task_id} is not a user task")
    if task.state != TaskState.READY:
        raise Conflict(f"task {task_id} is not open (state {TaskState.get_name(task.state)})")
    return task


class FireTimers(Command):
    """Fire the instance's timers whose due time has passed (the clock is the executor's)."""

    type = "fire_timers"

    def __init__(self, task_ids: list[str]):
        self.task_ids = list(task_ids)

    def to_json(self):
        return {"type": self.type, "task_ids": self.task_ids}

    def run(self, ctx):
        wf = ctx.workflow
        wf.refresh_timers()
        run_engine_steps(wf)
        skip_missed_cycles(wf, ctx.now)
        for task_id in self.task_ids:
            task = _safe_task(wf, task_id)
            if not _still_due(ctx, task):
                ctx.fired_timers.add(task_id)
                ctx.audit("timer_fired", element_id=task.task_spec.bpmn_id if task else None, task_id=task_id)
        return len(ctx.fired_timers)


def skip_missed_cycles(wf, now) -> None:
    """After downtime a cycle timer would fire once per missed period, one command each, for
    as long as it takes to catch up (a "R/PT1S" cycle a day late: 86,400 firings). Like
    Quartz's "fire once now" misfire rule, the missed periods are dropped (and counted
    against the cycle's repetitions) so the next firing is in the future."""
    for task in list(wf.event_manager.tasks.values()):
        value = task.internal_data.get("event_value")
        if not isinstance(value, dict) or value.get("cycles") == 0 or not value.get("duration"):
            continue
        due = TimerEventDefinition.get_datetime(value["next"])
        if due > now:
            continue
        missed = int((now - due).total_seconds() // value["duration"]) + 1
        if value["cycles"] > 0:
            missed = min(missed, value["cycles"] - 1)  # keep the last repetition to fire
            value["cycles"] -= missed
        value["next"] = (due + timedelta(seconds=value["duration"] * missed)).isoformat()


def _still_due(ctx, task) -> bool:
    """True if the timer did not fire: still waiting on a due time that has passed.

    A fired timer's task completes, or (a cycle) waits on a later due time.
    """
    if task is None or task.state != TaskState.WAITING:
        return False
    due = timer_due(task)
    return due is not None and due < ctx.now


def _safe_task(wf, task_id):
    try:
        return wf.get_task_from_id(UUID(task_id))
    except Exception:  # noqa: BLE001
        return None


def deliver_to_workflow(ctx, name: str, correlation: dict, payload: dict) -> int:
    """Hand a message to the waiting catch events of this workflow that take it; returns
    how many caught it.

    Each catch is matched on its own (``correlation.takes``), not by SpiffWorkflow's
    ``catch``: that gives a message to every waiting task of a (sub)workflow that has no
    correlation yet, so one child's ``returned`` would complete every multi-instance
    child's wait, and it raises a bare NameError into the instance for a message without
    the property. A catch without ``messageVariable`` gets the payload merged into its data
    (SpiffWorkflow's spiff parser drops it silently).
    """
    wf = ctx.workflow
    # BPMN reads correlation properties out of the message itself, so the correlation
    # values travel in the payload (the API keeps them apart for matching).
    content = {**payload, **correlation}
    caught = 0
    for task in list(wf.event_manager.tasks.values()):
        if task.state != TaskState.WAITING:
            continue
        for definition in _catching_definitions(task):
            if not isinstance(definition, MessageEventDefinition) or definition.name != name:
                continue
            if not takes(task, definition, message_values(definition, wf.script_engine, content)):
                continue
            correlations = definition.calculate_correlations(wf.script_engine, definition.correlation_properties,
                                                             content)
            task.task_spec.catch(task, BpmnEvent(definition, payload=content, correlations=correlations))
            if getattr(definition, "message_var", None) is None:
                task.data.update(content)
            task.task_spec._update(task)
            caught += 1
            ctx.audit("message_received", element_id=task.task_spec.bpmn_id, task_id=str(task.id),
                      data={"name": name, "correlation": correlation, "payload": payload})
            break
    return caught


def _catching_definitions(task) -> list:
    """A multiple event (event-based gateway) catches through its message parts."""
    if isinstance(task.task_spec.event_definition, MultipleEventDefinition):
        return event_parts(task, MessageEventDefinition)
    return [task.task_spec.event_definition]


class CatchMessage(Command):
    type = "catch_message"

    def __init__(self, name: str, correlation: dict, payload: dict):
        self.name, self.correlation, self.payload = name, correlation, payload

    def to_json(self):
        return {"type": self.type, "name": self.name, "correlation": self.correlation, "payload": self.payload}

    def run(self, ctx):
        caught = deliver_to_workflow(ctx, self.name, self.correlation, self.payload)
        if caught:
            run_engine_steps(ctx.workflow)
        return caught


class SetVariables(Command):
    """Administrator's data fix: merge ``variables`` into every open task's data."""

    type = "set_variables"
    allowed_in_error = True
    allowed_when_suspended = True

    def __init__(self, variables: dict):
        self.variables = variables

    def to_json(self):
        return {"type": self.type, "variables": self.variables}

    def run(self, ctx):
        open_states = TaskState.READY | TaskState.WAITING | TaskState.ERROR | TaskState.STARTED
        for task in ctx.workflow.get_tasks(state=open_states):
            task.data.update(self.variables)
        ctx.audit("variables_set", data={"variables": self.variables})


class ResolveIncident(Command):
    """Administrator's resolution without a retry: the failed command is abandoned and the
    instance goes on from its state before it (the failed command was rolled back, so that
    is the stored state). ``note`` says how the case was put right otherwise. A failed start
    is abandoned: the instance is terminated."""

    type = "resolve_incident"
    allowed_in_error = True

    def __init__(self, incident_id: int, note: str):
        self.incident_id, self.note = incident_id, note

    def to_json(self):
        return {"type": self.type, "incident_id": self.incident_id, "note": self.note}

    def run(self, ctx):
        row = ctx.session.get(Incident, self.incident_id)
        if row is None or row.instance_id != ctx.instance.id:
            raise NotFound(f"incident {self.incident_id} not found")
        if row.status != "open":   # re-read in this transaction: a concurrent retry or resolve won
            raise Conflict(f"incident {self.incident_id} is already {row.status}")
        row.status, row.resolved_at, row.resolved_by = "resolved", ctx.now, ctx.actor
        row.resolution, row.note = "resolved", self.note
        # A failed start has run no step: abandoning it ends the instance (terminated), which
        # frees its business key for a new start (a child is never blocked by a dead start).
        abandoned_start = _command_type(row.command) == StartInstance.type
        ctx.instance.status = "terminated" if abandoned_start else "active"
        if ctx.instance.pending_steps is not None:
            ctx.instance.pending_steps = 0   # steps left: the administrator's decision starts a new run
        ctx.audit("incident_resolved", element_id=row.element_id,
                  data={"incident_id": row.id, "note": self.note, "abandoned": _command_type(row.command)})
        if abandoned_start:
            ctx.audit("instance_terminated", data={"reason": "failed start abandoned", "note": self.note})


def _command_type(stored: str) -> str | None:
    try:
        return json.loads(stored).get("type")
    except (ValueError, AttributeError):
        return None


from .continuation import ContinueSteps  # noqa: E402 - builds on Command and run_engine_steps above

# What an incident may store (and a retry re-run); ResolveIncident never fails, so never stored.
COMMANDS = {cls.type: cls for cls in (StartInstance, CompleteTask, FireTimers, CatchMessage, SetVariables,
                                      ContinueSteps)}


def command_from_json(doc: dict) -> Command:
    """Rebuild a command stored in an incident."""
    doc = dict(doc)
    cls = COMMANDS[doc.pop("type")]
    return cls(**doc)
