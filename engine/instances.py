"""Runtime service: start instances, complete tasks, fix data, retry incidents, read data.

Thin façade over the command executor (the one path that changes workflow state).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from .errors import Conflict, InstanceInError, InvalidInput, NotFound, StepFailed
from .persistence.models import HumanTask, Incident, ProcessInstance, WorkflowState
from .runtime.commands import (
    CompleteTask, ContinueSteps, ResolveIncident, SetVariables, StartInstance, command_from_json,
)
from .runtime.correlation import has_value
from .runtime.executor import NewInstance


NOTE_MAX = 2000   # characters of an administrator's note on a resolved incident


@dataclass(frozen=True)
class CommandResult:
    """What a state change did: the instance, its status after, and the tasks it opened.
    ``running``: engine steps are left that the worker goes on with (``engine.runtime.steps``);
    tasks they reach appear in the inbox then, not in ``next_tasks``."""

    instance_id: int
    status: str
    next_tasks: list[dict]
    result: object = None
    running: bool = False

    def to_dict(self) -> dict:
        return {"instance_id": self.instance_id, "status": self.status, "running": self.running,
                "next_tasks": self.next_tasks}


def task_summary(row: HumanTask) -> dict:
    return {"task_id": row.id, "element_id": row.element_id, "name": row.name, "lane": row.lane,
            "role": row.candidate_role, "org_unit": row.org_unit, "unroutable": row.unroutable,
            "due_at": row.due_at.isoformat() if row.due_at else None}


REQUIRED_PROPERTY = "requiredVariables"


def required_start_variables(spec) -> list[str]:
    """Variables a process needs, with a value, to start: its data inputs (``ioSpecification``)
    and the comma-separated ``requiredVariables`` property of its top-level start events.
    The property exists because SpiffWorkflow names a correlation property by its XML id: a
    ``child_id`` property and a ``child_id`` data input would share one id, which XML forbids."""
    names = [var.bpmn_id for var in getattr(getattr(spec, "io_specification", None), "data_inputs", None) or []]
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, StartEvent):
            value = ((getattr(task_spec, "extensions", None) or {}).get("properties") or {}).get(REQUIRED_PROPERTY)
            names += [name.strip() for name in (value or "").split(",") if name.strip()]
    return list(dict.fromkeys(names))


def _require_inputs(process_key: str, spec, variables: dict | None, command: StartInstance | None) -> None:
    """A start without a value for each of ``required_start_variables`` raises InvalidInput
    (422) naming them, before anything is stored. A message start gives them in its message;
    a timer start has no data to give, so it is not checked. This is how a diagram says that
    a start without its correlation key (``child_id``) is refused rather than left waiting
    uncorrelatable (issue 9)."""
    required = required_start_variables(spec)
    if not required or (command is not None and command.timer):
        return
    given = dict(variables or {})
    if command is not None and command.message:
        given.update(command.message.get("payload") or {})
        given.update(command.message.get("correlation") or {})
    missing = [name for name in required if not has_value(given.get(name))]
    if missing:
        raise InvalidInput(f"{process_key} needs {', '.join(missing)} to start (required by the process)",
                           errors={f"variables.{name}": "required by the process" for name in missing})


class RuntimeService:
    def __init__(self, engine):
        self.engine = engine

    def start(self, process_key: str, variables: dict | None = None, *, business_key: str | None = None,
              actor: str | None = None) -> CommandResult:
        """Start the latest version of ``process_key`` with ``variables`` as its initial data.

        Raises NotFound (no such key), InvalidInput (variables not a JSON object, or without a
        value for a variable the process requires: ``required_start_variables``), StepFailed
        (the first steps failed: the instance exists in ``error`` with an incident).
        """
        definition = self.engine.repository.latest(process_key)
        return self.start_definition(definition.id, variables, business_key=business_key, actor=actor)

    def start_definition(self, definition_id: int, variables: dict | None, *, business_key=None,
                         actor=None, now: datetime | None = None, command: StartInstance | None = None,
                         session=None) -> CommandResult:
        if variables is not None and not isinstance(variables, dict):
            raise InvalidInput("variables must be a JSON object", errors={"variables": "must be an object"})
        definition = self.engine.repository.get(definition_id, session)
        spec, subprocess_specs = self.engine.repository.specs(definition, session)
        _require_inputs(definition.process_key, spec, variables, command)
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self.engine.script_engine)
        # Initial data goes on the root task: workflow.data is not visible to tasks.
        workflow.task_tree.data.update(variables or {})
        target = NewInstance(definition_id=definition.id, process_key=definition.process_key,
                             business_key=business_key, initial_state=self.engine.store.dumps(workflow),
                             variables=variables or {})
        return self._run(target, command or StartInstance(), actor, now=now, session=session)

    def complete_task(self, task_id: str, data: dict, *, actor: str | None,
                      enforce_assignee: bool = True, also=None) -> CommandResult:
        """Validate ``data`` against the task's form, complete the task, run the engine on.

        ``also(ctx)``, if given, runs in the completion's transaction once it has succeeded
        (``ctx``: the command context, with ``session``, ``instance``, ``actor``, ``now`` and
        ``audit``): what the caller keeps beside the data (files the data names by hash) is
        stored with the completion or not at all. It is not part of the command: a retry of
        a failed completion (its incident) runs without it.

        Raises NotFound, Conflict (not open, claimed by another, stale), InvalidInput
        ({field: reason}), StepFailed.
        """
        row = self.engine.tasks.get(task_id)
        if row.status != "open":
            raise Conflict(f"task {task_id} is already {row.status}")
        return self._run(row.instance_id, CompleteTask(task_id, data, enforce_assignee), actor, on_success=also)

    def set_variables(self, instance_id: int, variables: dict, *, actor: str | None) -> CommandResult:
        """Administrator's data fix on an instance (allowed while it is in error)."""
        if not isinstance(variables, dict) or not variables:
            raise InvalidInput("variables must be a non-empty JSON object", errors={"variables": "required"})
        return self._run(instance_id, SetVariables(variables), actor)

    def retry(self, incident_id: int, *, actor: str | None) -> CommandResult:
        """Re-run the command that failed; on success the incident is resolved (``retried``
        audited on the instance's chain) and the instance is active again (or completed).

        Raises NotFound, Conflict (incident already resolved), StepFailed (fails again:
        the same incident stays open with the new message).
        """
        incident = self._open_incident(incident_id)
        command = command_from_json(json.loads(incident.command))

        def resolve(ctx):
            row = ctx.session.get(Incident, incident_id)
            if row.status != "open":   # a concurrent resolve committed first
                raise Conflict(f"incident {incident_id} is already {row.status}")
            row.status, row.resolved_at, row.resolved_by = "resolved", ctx.now, ctx.actor
            row.resolution = "retried"
            if not ctx.workflow.is_completed():
                ctx.instance.status = "active"
            ctx.audit("retried", element_id=row.element_id, data={"incident_id": incident_id})

        outcome = self._run(incident.instance_id, command, actor, on_success=resolve, allow_error=True)
        self.engine.messages.deliver_pending(ignore_backoff=True)   # what waited for this instance
        return outcome

    def resolve_incident(self, incident_id: int, note: str, *, actor: str | None) -> CommandResult:
        """Close an incident without re-running its command (the administrator put the case
        right otherwise, e.g. set its variables, and says how in ``note``).

        The instance goes back to ``active`` from its state before the failed command; the
        command is abandoned: a task it was completing is open again for its holder to submit,
        a message it was delivering is not delivered again, a timer it was firing is still due
        and the worker fires it again. ``incident_resolved`` {incident_id, note, abandoned} is
        audited on the instance's chain. A failed start (no step has run) is abandoned: the
        instance ends ``terminated`` (``instance_terminated`` audited) and its business key is
        free for a new start. Raises InvalidInput (``note`` empty or longer than ``NOTE_MAX``
        characters), NotFound, Conflict (already resolved).
        """
        note = note.strip() if isinstance(note, str) else ""
        if not note or len(note) > NOTE_MAX:
            reason = "required" if not note else f"at most {NOTE_MAX} characters"
            raise InvalidInput(f"a note is {reason}", errors={"note": reason})
        incident = self._open_incident(incident_id)
        outcome = self._run(incident.instance_id, ResolveIncident(incident_id, note), actor)
        self.engine.messages.deliver_pending(ignore_backoff=True)   # what waited for this instance
        return outcome

    def continue_steps(self, instance_id: int) -> CommandResult:
        """Run the next slice of engine steps an earlier command left (a no-op if none are
        left). Raises NotFound, Conflict (completed, stale), InstanceInError, StepFailed
        (a step failed, or ``StepLimits.per_run`` steps ran without a wait: endless loop)."""
        return self._run(instance_id, ContinueSteps(), "engine")

    def continue_pending(self, limit: int = 20) -> int:
        """The worker's job: one ``continue_steps`` for each of up to ``limit`` active
        instances with steps left, least recently changed first; returns how many ran. An
        instance another worker holds, or that fails (its incident is recorded), is skipped."""
        with self.engine.db.read() as session:
            ids = list(session.scalars(select(ProcessInstance.id).where(
                ProcessInstance.pending_steps.is_not(None), ProcessInstance.status == "active")
                .order_by(ProcessInstance.updated_at, ProcessInstance.id).limit(limit)))
        ran = 0
        for instance_id in ids:
            try:
                self.continue_steps(instance_id)
                ran += 1
            except (Conflict, NotFound, InstanceInError, StepFailed):
                continue
        return ran

    def _open_incident(self, incident_id: int) -> Incident:
        with self.engine.db.read() as session:
            incident = session.get(Incident, incident_id)
        if incident is None:
            raise NotFound(f"incident {incident_id} not found")
        if incident.status != "open":
            raise Conflict(f"incident {incident_id} is already {incident.status}")
        return incident

    def run_command(self, instance_id: int, command, actor: str | None, **kwargs) -> CommandResult:
        """Run another service's command on an instance (``engine.lifecycle``,
        ``engine.versions``) through the executor, then deliver what it sent."""
        return self._run(instance_id, command, actor, **kwargs)

    def _run(self, target, command, actor, **kwargs) -> CommandResult:
        instance_id, result, created, status = self.engine.executor.execute(target, command, actor, **kwargs)
        if kwargs.get("session") is None:
            self.engine.messages.deliver_pending()
        return CommandResult(instance_id, status, [task_summary(r) for r in created], result,
                             running=self._running(instance_id, kwargs.get("session")))

    def _running(self, instance_id: int, session=None) -> bool:
        query = select(ProcessInstance.pending_steps).where(ProcessInstance.id == instance_id)
        if session is not None:
            return session.scalar(query) is not None
        with self.engine.db.read() as own:
            return own.scalar(query) is not None

    # -- reading ------------------------------------------------------------------------
    def get(self, instance_id: int) -> ProcessInstance:
        with self.engine.db.read() as session:
            instance = session.get(ProcessInstance, instance_id)
        if instance is None:
            raise NotFound(f"process instance {instance_id} not found")
        return instance

    def workflow(self, instance_id: int) -> BpmnWorkflow:
        """The deserialized workflow, for inspection (read-only: changes are not saved)."""
        with self.engine.db.read() as session:
            state = session.get(WorkflowState, instance_id)
        if state is None:
            raise NotFound(f"process instance {instance_id} not found")
        return self.engine.store.loads(state.state)

    def variables(self, instance_id: int, element_id: str | None = None) -> dict:
        """An instance's data as of its most recently completed task: ``{name: value}``, the
        values JSON-safe (``store.to_json_safe``); ``{}`` if no task has completed. Read-only.

        SpiffWorkflow 3.2 keeps data per task (each task starts from a copy of its parent's),
        so a running instance has no single "current data", and ``workflow.data`` is filled
        only at the end (SPIFFWORKFLOW-NOTES §2). This takes the COMPLETED task, at any depth
        (embedded subprocesses, call activities), whose state changed last. On parallel
        branches that is the branch that moved last; ``element_id`` narrows it to that BPMN
        element's latest completed task: what that step left, after its postScript.
        Raises NotFound.
        """
        workflow = self.workflow(instance_id)
        # ANY_MASK and filter: state=COMPLETED skips finished tasks under unfinished parents (10-M).
        done = [t for t in workflow.get_tasks(state=TaskState.ANY_MASK) if t.state == TaskState.COMPLETED
                and (element_id is None or t.task_spec.bpmn_id == element_id)]
        if not done:
            return {}
        _, last = max(enumerate(done), key=lambda pair: (pair[1].last_state_change, pair[0]))
        return self.engine.store.to_json_safe(dict(last.data))

    def incidents(self, instance_id: int, status: str | None = "open") -> list[Incident]:
        with self.engine.db.read() as session:
            query = select(Incident).where(Incident.instance_id == instance_id)
            if status:
                query = query.where(Incident.status == status)
            return list(session.scalars(query.order_by(Incident.id)))
