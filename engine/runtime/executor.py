"""The one command path: every change to an instance's workflow state runs here.

A command runs inside one database transaction that also writes the human-task index,
the timer jobs, the message subscriptions and the audit events, and bumps the instance's
``row_version`` (optimistic concurrency: a stale writer gets ``Conflict``). If SpiffWorkflow
fails while stepping (a script, a condition, a timer expression), the transaction is rolled
back and a second, small transaction puts the instance into ``error`` with an incident that
stores the command, so nothing is half-written and an administrator can retry it.
"""
from __future__ import annotations

import json
import traceback
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError
from SpiffWorkflow.util.task import TaskState

from ..audit import append_event, instance_stream
from ..clock import frozen_at
from ..errors import Conflict, EngineError, InstanceInError, InstanceSuspended, NotFound, StepFailed
from ..persistence.models import Incident, ProcessInstance, WorkflowState
from .commands import Command
from .context import CommandContext
from .locking import as_busy, is_transient, lock_instance
from .path import PATH_EVENT, recording
from .projections import queue_thrown_messages, sync_all
from .steps import StepLimits, check_end_reached, step_budget


@dataclass
class NewInstance:
    """How to create an instance row when a start command runs (no row exists yet)."""

    definition_id: int
    process_key: str
    business_key: str | None
    initial_state: str          # serialized workflow before its first step
    variables: dict


class CommandExecutor:
    def __init__(self, db, store, hooks, clock: Callable, forms_for: Callable[[int], object],
                 limits: StepLimits | None = None):
        self.db, self.store, self.hooks, self.clock = db, store, hooks, clock
        self.forms_for = forms_for
        self.limits = limits or StepLimits()

    # -- public -------------------------------------------------------------------------
    def execute(self, target: int | NewInstance, command: Command, actor: str | None, *,
                now=None, on_success: Callable | None = None, session=None, allow_error: bool = False):
        """Run ``command`` on instance ``target`` (an id, or a ``NewInstance`` to create).

        Returns ``(instance_id, result, created_task_rows, status_after)``. Raises NotFound, Conflict
        (stale write, instance in error, task not open), InvalidInput (form data), or
        StepFailed after recording an incident. ``on_success(ctx)`` runs inside the same
        transaction after the projections are synced (retry resolves its incident there; the
        message outbox records the delivery). ``allow_error`` lets the command run on an
        instance in error (an administrator's retry); otherwise that raises InstanceInError.

        With ``session`` the command joins the caller's transaction (the timer worker's, whose
        job lock must cover the firing); a step failure is then raised as ``PendingFailure``
        for the caller to pass to ``record_failure`` after rolling back.
        """
        now = now or self.clock()
        if session is not None:
            try:
                return self._run(session, target, command, actor, now, on_success, allow_error)
            except (DBAPIError, StaleDataError) as exc:
                raise _database_clash(exc) from exc
            except _StepError as err:
                raise PendingFailure(target, command, err, actor, now) from err.__cause__
        try:
            with self.db.transaction() as own_session:
                return self._run(own_session, target, command, actor, now, on_success, allow_error)
        except (DBAPIError, StaleDataError) as exc:
            raise _database_clash(exc) from exc
        except _StepError as err:
            raise self.record_failure(PendingFailure(target, command, err, actor, now)) from err.__cause__

    def record_failure(self, failure: "PendingFailure", also: Callable | None = None) -> StepFailed:
        """Record the incident of a rolled-back command; returns the StepFailed to raise.
        ``also(session, instance_id, incident_id)`` runs in the incident's transaction (an
        outbox marks the event it was delivering as handed to the incident, so that a retry
        of the incident, not a second delivery, applies it)."""
        err = failure.error
        incident_id, instance_id = self._record_incident(
            failure.target, failure.command, err, failure.actor, failure.now, also)
        return StepFailed(f"{err.element_id or 'the process'} failed: {err.message}",
                          instance_id=instance_id, incident_id=incident_id, element_id=err.element_id)

    def _run(self, session, target, command, actor, now, on_success, allow_error):
        instance, state, workflow = self._open(session, target, actor, now)
        if instance.status == "error" and not (command.allowed_in_error or allow_error):
            raise InstanceInError(f"instance {instance.id} is in error: resolve its incident first")
        if instance.status == "suspended" and not command.allowed_when_suspended:
            raise InstanceSuspended(f"instance {instance.id} is suspended: resume it first")
        ctx = CommandContext(session=session, instance=instance, workflow=workflow,
                             store=self.store, hooks=self.hooks, actor=actor, now=now,
                             forms=self.forms_for(instance.definition_id, session), state_row=state,
                             limits=self.limits)
        with frozen_at(now), step_budget(self.limits) as budget:
            try:
                with recording() as path:
                    result = command.run(ctx)
                check_end_reached(workflow)
            except (EngineError, DBAPIError, StaleDataError):
                raise   # a database clash is never the process's fault: no incident
            except Exception as exc:  # noqa: BLE001 - any failure inside SpiffWorkflow
                raise _StepError(exc, workflow) from exc
            if (taken := path.event_data()) is not None:
                ctx.audit(PATH_EVENT, data=taken)
            created = sync_all(ctx)
            queue_thrown_messages(ctx)
        self._save(ctx, budget)
        if on_success is not None:
            on_success(ctx)
        session.flush()
        return instance.id, result, created, instance.status

    # -- internals ----------------------------------------------------------------------
    def _open(self, session, target, actor, now):
        if isinstance(target, NewInstance):
            instance = ProcessInstance(
                definition_id=target.definition_id, process_key=target.process_key,
                business_key=target.business_key, status="active", started_by=actor,
                created_at=now, updated_at=now)
            session.add(instance)
            try:
                session.flush()
            except IntegrityError:   # the transaction is rolled back by the caller
                raise Conflict(f"an open instance of {target.process_key} with business key "
                               f"{target.business_key} exists already") from None
            state = WorkflowState(instance_id=instance.id, serializer_version=self.store.version,
                                  state=target.initial_state)
            session.add(state)
            append_event(session, instance_stream(instance.id), "instance_started", at=now, actor=actor,
                         instance_id=instance.id, data={"process_key": target.process_key,
                                                        "definition_id": target.definition_id,
                                                        "business_key": target.business_key,
                                                        "variables": target.variables})
            return instance, state, self.store.loads(target.initial_state)
        instance = lock_instance(session, target)   # writers of one instance queue here
        if instance is None:
            raise NotFound(f"process instance {target} not found")
        if instance.status in ("completed", "terminated"):
            raise Conflict(f"instance {target} is {instance.status}")
        state = session.get(WorkflowState, target)
        return instance, state, self.store.loads(state.state)

    def _save(self, ctx, budget):
        wf, instance = ctx.workflow, ctx.instance
        # Engine work left for the worker: the steps run so far in this run of steps, which
        # ContinueSteps checks against StepLimits.per_run (None: nothing left to do). A
        # command that ran no engine steps (a data fix) leaves the mark as it was.
        if budget.paused:
            instance.pending_steps = (instance.pending_steps or 0) + budget.taken
        elif budget.rested:
            instance.pending_steps = None
        state = ctx.state_row  # held by the context: re-getting it would re-read the whole text
        state.state = self.store.dumps(wf)
        state.serializer_version = self.store.version
        # A terminated instance's workflow is cancelled (complete to SpiffWorkflow): it stays
        # terminated; a suspended one stays suspended whatever an allowed command did.
        if wf.is_completed() and instance.status not in ("completed", "terminated"):
            instance.status, instance.completed_at = "completed", ctx.now
            ctx.audit("instance_completed")
        elif not wf.is_completed() and instance.status not in ("error", "terminated", "suspended"):
            instance.status = "active"
        instance.updated_at = ctx.now
        flag_modified(instance, "updated_at")  # always UPDATE: bumps row_version, the optimistic check

    def _record_incident(self, target, command, err, actor, now, also=None):
        with self.db.transaction() as session:
            if isinstance(target, NewInstance):
                # The start failed: keep the instance, unstarted, so the retry can run it.
                instance, _, _ = self._open(session, target, actor, now)
            else:
                instance = lock_instance(session, target)
            instance.status, instance.updated_at = "error", now
            open_incident = session.scalars(select(Incident).where(
                Incident.instance_id == instance.id, Incident.status == "open")).first()
            if open_incident is None:
                open_incident = Incident(instance_id=instance.id, status="open", created_at=now,
                                         element_id=err.element_id, message=err.message,
                                         command=json.dumps(command.to_json(), ensure_ascii=False, default=str))
                session.add(open_incident)
            else:
                open_incident.element_id, open_incident.message = err.element_id, err.message
            session.flush()
            append_event(session, instance_stream(instance.id), "error", at=now, actor=actor,
                         instance_id=instance.id, element_id=err.element_id,
                         data={"message": err.message, "command": command.to_json(),
                               "incident_id": open_incident.id})
            if also is not None:
                also(session, instance.id, open_incident.id)
            return open_incident.id, instance.id


def _database_clash(exc) -> Conflict:
    """What a database error inside a command becomes: Busy (retryable) for a clash with
    another writer; anything else is a real fault of ours and propagates as itself."""
    if is_transient(exc):
        return as_busy(exc)
    raise exc


class PendingFailure(Exception):
    """A step failure inside a caller's transaction, to be recorded after its rollback."""

    def __init__(self, target, command, error, actor, now):
        super().__init__(error.message)
        self.target, self.command, self.error, self.actor, self.now = target, command, error, actor, now
        self.job_id = None  # set by the timer worker when a start timer's instance failed


class _StepError(Exception):
    def __init__(self, exc: Exception, workflow):
        super().__init__(str(exc))
        self.message = _clean_message(exc)
        self.element_id = _failing_element(exc, workflow)


def _unmasked_message(exc: Exception) -> str | None:
    """SpiffWorkflow 3.2's ``PythonScriptEngine.call_service`` refers to an undefined ``script``
    in its except clause (SPIFFWORKFLOW-NOTES 10-D): the resulting ``NameError: name 'script'
    is not defined`` hides why the service task failed. Say what did."""
    inner = exc.__context__
    if not (isinstance(exc, NameError) and getattr(exc, "name", None) == "script" and inner is not None
            and any(frame.name == "call_service" for frame in traceback.extract_tb(exc.__traceback__))):
        return None
    if isinstance(inner, NotImplementedError):
        return "service task: this engine has no service implementation (call_service)"
    return f"service call failed: {type(inner).__name__}: {_plain_message(inner)}"


def _clean_message(exc: Exception) -> str:
    return _unmasked_message(exc) or _plain_message(exc)


def _plain_message(exc: Exception) -> str:
    text = str(exc).strip().rstrip(".").strip() or exc.__class__.__name__
    notes = [n for n in getattr(exc, "__notes__", []) if n]
    line = getattr(exc, "line_number", None)
    if line and "line" not in text:
        text += f" (line {line})"
    return "; ".join([text, *notes]) if notes and notes[0] not in text else text


def _failing_element(exc, workflow) -> str | None:
    task = getattr(exc, "task", None)
    if task is not None:
        return task.task_spec.bpmn_id
    for task in workflow.get_tasks(state=TaskState.ERROR):
        return task.task_spec.bpmn_id
    return None
