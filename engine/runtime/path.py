"""The path a case takes, recorded as it is taken: the elements completed and the sequence
flows between them, for the trace of an instance (the diagram with the path).

SpiffWorkflow's task tree cannot be asked afterwards: compaction drops the finished history
of a loop (``runtime.compaction``), a parallel join cancels the arrivals of the branches it
waited for, and an event-based gateway's unfired events are cancelled. So each command
observes every task completion while it runs (``spiff_patches.completion_observer``) and
writes what it saw as one ``path`` audit event of the instance: hash-chained with the rest
of its history, so a path cannot be edited unnoticed.

A flow is recorded as the pair of elements it joins, ``[process_id, source, target]``; the
definition's XML names the flow (``engine.definitions.diagram``). When an element completes,
the elements its token moves on to are known (SpiffWorkflow has made their tasks definite,
a gateway only on the branches it chose): those flows are taken. An event-based gateway
arms all its events but only the one that fires is the path: its flow is recorded when
that event completes. Pairs that are no sequence flow (an element to the boundary events of
the next task) name no flow and are ignored when drawn. ``process_id`` is the
process whose diagram shows the element: the called process for a call activity's
elements, the enclosing process for an embedded sub-process's (its DI is in that file).
"""
from __future__ import annotations

from contextlib import contextmanager

from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.util.task import TaskState

from ..spiff_patches import completion_observer

PATH_EVENT = "path"


class PathRecorder:
    """Collects the completions of one command, in the order they happen."""

    def __init__(self):
        self.steps: list[list[str]] = []     # [process_id, element_id, task_id]
        self.flows: list[list[str]] = []     # [process_id, source element, target element]

    def observe(self, task) -> None:
        spec = task.task_spec
        if not spec.bpmn_id:
            return
        process_id = diagram_process(task.workflow)
        self.steps.append([process_id, spec.bpmn_id, str(task.id)])
        if not isinstance(spec, EventBasedGateway):
            for child in _element_children(task):
                self._flow(process_id, spec.bpmn_id, child.task_spec.bpmn_id)
        source = _element_ancestor(task)
        if source is not None and isinstance(source.task_spec, EventBasedGateway):
            self._flow(process_id, source.task_spec.bpmn_id, spec.bpmn_id)

    def _flow(self, process_id: str, source: str, target: str) -> None:
        pair = [process_id, source, target]
        if pair not in self.flows:
            self.flows.append(pair)

    def event_data(self) -> dict | None:
        """The ``path`` audit event's data, or None when nothing completed."""
        if not self.steps and not self.flows:
            return None
        return {"steps": self.steps, "flows": self.flows}


@contextmanager
def recording():
    """Record the completions of the code run inside the block: yields the recorder."""
    recorder = PathRecorder()
    token = completion_observer.set(recorder.observe)
    try:
        yield recorder
    finally:
        completion_observer.reset(token)


def diagram_process(workflow) -> str:
    """The id of the process whose diagram draws ``workflow``'s elements."""
    while getattr(workflow, "parent_task_id", None) is not None:
        parent = workflow.parent_workflow
        call = parent.get_task_from_id(workflow.parent_task_id)
        if isinstance(call.task_spec, CallActivity):
            return workflow.spec.name
        workflow = parent
    return workflow.spec.name


def _element_ancestor(task):
    """The nearest ancestor in the same workflow that is a BPMN element (hidden engine tasks,
    such as the split before a task with boundary events, are passed through)."""
    node = task.parent
    while node is not None and not node.task_spec.bpmn_id:
        node = node.parent
    return node


def _element_children(task):
    """The BPMN elements the token moves to from ``task`` (through hidden engine tasks);
    predicted branches, not taken, are left out."""
    pending = list(task.children)
    while pending:
        child = pending.pop()
        if child.has_state(TaskState.PREDICTED_MASK):
            continue
        if child.task_spec.bpmn_id:
            yield child
        else:
            pending.extend(child.children)
