"""Engine steps in bounded slices: the work of one transaction is capped, the rest continues.

A loop of script tasks and gateways can run thousands of engine steps with no person in
between. Run inside a user's request, that holds the instance's lock and the request for
minutes. So the executor gives each command a ``StepBudget``: ``run_engine_steps`` stops
after ``StepLimits.per_transaction`` steps, with the next task still READY (nothing is half
done), the executor saves the instance as "still running" (``process_instance.pending_steps``)
and the worker's ``continue`` job goes on with ``ContinueSteps`` commands, one transaction
each. Every ``StepLimits.slice`` steps the finished history is compacted
(``engine.runtime.compaction``) so that a step's cost does not grow with the loop.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Callable

from SpiffWorkflow.util.task import TaskState

from .compaction import DONE, compact_history


@dataclass(frozen=True)
class StepLimits:
    """Bounds on engine steps (a step = one gateway, script, event... run by the engine).

    ``per_transaction``: steps one command may run before it saves and hands the rest to the
    worker (a merge → script → gateway round is 3 steps). ``per_run``: steps an instance may
    run without stopping at a user task, timer or message before it is put in error as an
    endless loop (counted across continuations). ``slice``: steps between history
    compactions; ``keep``: finished tasks above the open work before compaction drops some.
    """

    per_transaction: int = 600
    per_run: int = 200_000
    slice: int = 100
    keep: int = 60

    def __post_init__(self):
        for name in ("per_transaction", "per_run", "slice", "keep"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"StepLimits.{name} must be a positive integer")


@dataclass
class StepBudget:
    """The steps one command has run (``taken``) against its limits; ``paused`` once it
    stopped with engine work left (the instance must be continued), ``rested`` once the
    engine ran out of work (nothing is left). Neither: the command ran no engine steps."""

    limits: StepLimits
    taken: int = 0
    paused: bool = False
    rested: bool = False


_current: ContextVar[StepBudget | None] = ContextVar("baoxue_step_budget", default=None)


@contextmanager
def step_budget(limits: StepLimits):
    """Give the commands run inside this block one shared ``StepBudget`` (the executor's)."""
    budget = StepBudget(limits)
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


class _SliceEnd(Exception):
    """Raised from ``will_complete_task``, before the task runs, to end a slice."""


def run_bounded(wf, before_step: Callable | None = None) -> bool:
    """``do_engine_steps`` in slices under the current budget (unlimited outside the
    executor); returns True when the engine ran out of work, False when it paused with work
    left. ``before_step(task)`` runs before each step and may raise to stop the command."""
    budget = _current.get() or StepBudget(StepLimits(per_transaction=2 ** 62))
    if budget.paused:
        return False
    limits = budget.limits

    def step(task):
        if before_step is not None:
            before_step(task)
        if budget.taken >= slice_end:
            raise _SliceEnd
        budget.taken += 1

    while True:
        slice_end = min(limits.per_transaction, budget.taken + limits.slice)
        try:
            wf.do_engine_steps(will_complete_task=step)
        except _SliceEnd:
            compact_history(wf, limits.keep)
            if budget.taken >= limits.per_transaction:
                budget.paused = True
                return False
            continue
        compact_history(wf, limits.keep)
        budget.rested = True
        return True


def engine_work_left(wf) -> bool:
    """True if a task the engine itself runs (not a user or manual task) is READY in ``wf``
    or one of its active subprocesses (where ``do_engine_steps`` looks): steps are left."""
    return any(task.state == TaskState.READY and not task.task_spec.manual
               for workflow in (wf, *wf.get_active_subprocesses()) for task in workflow.tasks.values())


class EndNotReached(Exception):
    """SpiffWorkflow reports the workflow complete while a task of it is not done (a task
    its iterators cannot see: SPIFFWORKFLOW-NOTES 10-B). ``task`` is named in the incident."""

    def __init__(self, task):
        self.task = task
        super().__init__(f"{task.task_spec.bpmn_id or task.task_spec.name} is still "
                         f"{TaskState.get_name(task.state)}, yet the engine reported the process finished: "
                         "the instance is kept open")


def check_end_reached(wf) -> None:
    """Raise ``EndNotReached`` if ``wf.is_completed()`` is True while any task of the top
    workflow, looked up in its flat task table (no tree walk, no depth limit), is neither
    completed nor cancelled. A workflow that is not complete passes."""
    if not wf.is_completed():
        return
    for task in wf.tasks.values():
        if task.state not in DONE:
            raise EndNotReached(task)
