"""Trace service: where an instance has been and where it stands, for the diagram of the
version it runs on (the inspector's trace, issue 13).

The path is read from the instance's ``path`` audit events (``runtime.path`` records them
as the engine takes each step, in the same transaction), so it is part of the hash chain.
Where the case stands now is read from the workflow (tasks ready or waiting, errors) and
the human-task index (overdue tasks).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from SpiffWorkflow.util.task import TaskState

from .persistence.models import HumanTask
from .runtime.path import PATH_EVENT, diagram_process

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass
class ElementRun:
    process_id: str
    element_id: str
    task_id: str
    at: datetime            # when the element completed
    actor: str | None       # who ran the command that completed it (None: the engine itself)


@dataclass
class CasePath:
    runs: list[ElementRun] = field(default_factory=list)
    pairs: list[tuple[str, str, str]] = field(default_factory=list)   # (process id, source, target)
    recorded_since: datetime | None = None   # None: recorded from the start


class TraceService:
    def __init__(self, engine):
        self.engine = engine

    def path(self, instance_id: int) -> CasePath:
        """The elements completed and the flows taken, oldest first. ``recorded_since`` is
        None when the path was recorded from the instance's start, else the time recording
        began for it (an instance started before the engine recorded paths)."""
        path, started_at, seen, first = CasePath(), None, set(), True
        for event in self.engine.history.events(instance_id):
            if event.kind == "instance_started":
                started_at = event.at
            if event.kind != PATH_EVENT:
                continue
            if first:   # the start command records the start event's path at the start's time
                path.recorded_since, first = (None if event.at == started_at else event.at), False
            data = json.loads(event.data)
            path.runs += [ElementRun(p, e, t, event.at, event.actor) for p, e, t in data.get("steps", [])]
            for pair in map(tuple, data.get("flows", [])):
                if pair not in seen:
                    seen.add(pair)
                    path.pairs.append(pair)
        if first:   # nothing recorded yet: a case from before paths were recorded
            path.recorded_since = self.engine.clock()
        return path

    def diagram_state(self, instance_id: int) -> dict:
        """The instance drawn on its version's diagrams::

            {"instance_id", "process_id", "version",
             "processes": {process id: {"elements": {element id: {"runs": n, "state": s}},
                                        "flows": [sequence flow id]}},
             "calls": {call activity id: called process id}, "recorded_since": ISO or None}

        ``state`` is ``error`` (an incident or a failed task), ``overdue`` (an open user task
        past its due time), ``active`` (ready, waiting for an event, or a sub-process or call
        under way), else ``completed`` (reached and left: completed, or cancelled by an
        interrupting event); ``runs`` counts completions. A process appears when
        the case entered it (the top process always). Raises NotFound for an unknown instance.
        """
        engine = self.engine
        instance = engine.runtime.get(instance_id)
        definition = engine.repository.get(instance.definition_id)
        diagrams = engine.repository.diagrams(definition.id)
        path = self.path(instance_id)
        processes: dict[str, dict] = {definition.process_key: {"elements": {}, "flows": []}}

        def element(process_id: str, element_id: str) -> dict:
            entry = processes.setdefault(process_id, {"elements": {}, "flows": []})
            return entry["elements"].setdefault(element_id, {"runs": 0, "state": "completed"})

        for run in path.runs:
            element(run.process_id, run.element_id)["runs"] += 1
        for process_id, source, target in path.pairs:
            # An element the token reached is on the path even if it never completed: a
            # sub-process or task an interrupting event cancelled, a join still waiting.
            element(process_id, source), element(process_id, target)
            diagram = diagrams.get(process_id)
            for flow_id in diagram.flow_ids(source, target) if diagram else ():
                if flow_id not in processes.setdefault(process_id, {"elements": {}, "flows": []})["flows"]:
                    processes[process_id]["flows"].append(flow_id)
        self._now(instance_id, element)
        calls = {call: called for process_id in processes
                 for call, called in (diagrams[process_id].calls.items() if process_id in diagrams else ())}
        return {"instance_id": instance_id, "process_id": definition.process_key, "version": definition.version,
                "processes": processes, "calls": calls,
                "recorded_since": path.recorded_since.isoformat() if path.recorded_since else None}

    def _now(self, instance_id: int, element) -> None:
        """Mark where the case stands: completed elements the path may not hold (recorded
        before paths were), active ones, overdue user tasks, errors."""
        engine = self.engine
        workflow = engine.runtime.workflow(instance_id)
        by_task: dict[str, tuple[str, str]] = {}
        for task in workflow.get_tasks(state=TaskState.ANY_MASK):
            spec = task.task_spec
            if not spec.bpmn_id:
                continue
            process_id = diagram_process(task.workflow)
            by_task[str(task.id)] = (process_id, spec.bpmn_id)
            if task.state == TaskState.COMPLETED:
                entry = element(process_id, spec.bpmn_id)
                entry["runs"] = max(entry["runs"], 1)
            elif task.state == TaskState.ERROR:
                element(process_id, spec.bpmn_id)["state"] = "error"
            elif task.has_state(ACTIVE) and type(spec).__name__ != "BoundaryEvent":
                entry = element(process_id, spec.bpmn_id)
                if entry["state"] != "error":
                    entry["state"] = "active"
        now = engine.clock()
        with engine.db.read() as session:
            overdue = session.scalars(select(HumanTask.id).where(
                HumanTask.instance_id == instance_id, HumanTask.status == "open", HumanTask.due_at < now)).all()
        for task_id in overdue:
            if task_id in by_task and element(*by_task[task_id])["state"] == "active":
                element(*by_task[task_id])["state"] = "overdue"
        for incident in engine.runtime.incidents(instance_id):
            if incident.element_id:
                process_id = next((p for p, e in by_task.values() if e == incident.element_id), None)
                if process_id is not None:
                    element(process_id, incident.element_id)["state"] = "error"
