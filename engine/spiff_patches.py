"""The one place where Baoxue changes SpiffWorkflow 3.2's own code (engine/README.md,
"Loops and long cases"). Applied once, when ``engine`` is imported.

1. ``TaskIterator``/``BpmnTaskIterator`` stop descending at a hard-coded ``max_depth=1000``
   (SPIFFWORKFLOW-NOTES 10-B). A gateway loop adds three tree levels a round, so at round
   333 of merge → script → gateway the READY merge sits below the cap: ``get_tasks`` and
   ``do_engine_steps`` no longer see it, and ``is_completed()`` answers True for a workflow
   that never reached its end event. The default becomes unbounded; an explicit
   ``max_depth`` argument still works.
2. ``Task.is_descendant_of`` and ``Task.find_ancestor`` recurse once per tree level (issue
   #441): a parallel join inside a loop raises ``RecursionError`` near round 200. They
   become loops with the same answers.

``engine.runtime.compaction`` keeps the tree shallow in the first place; these patches make
a deep tree (a long loop on one branch while another branch waits) still run correctly.

3. ``Workflow._task_completed_notify`` (every task completion, top workflow and subprocesses)
   first tells the observer set in ``completion_observer``, if any: ``engine.runtime.path``
   records the elements completed and the sequence flows taken as they happen (the task tree
   forgets them: compaction drops the finished history, a join cancels the other branches'
   arrivals). Outside a command nothing is set and nothing changes.
"""
from __future__ import annotations

import sys
from contextvars import ContextVar

from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator
from SpiffWorkflow.workflow import Workflow

UNBOUNDED_DEPTH = sys.maxsize
# (task) -> None, called before SpiffWorkflow's own bookkeeping of a completed task
completion_observer: ContextVar = ContextVar("completion_observer", default=None)


def _without_depth_cap(init) -> None:
    """Replace the ``max_depth`` default (1000) of an iterator's ``__init__``."""
    names = init.__code__.co_varnames[1:init.__code__.co_argcount]
    defaults = list(init.__defaults__)
    index = names.index("max_depth") - (len(names) - len(defaults))
    if defaults[index] != 1000:   # a SpiffWorkflow upgrade changed this: re-check 10-B
        raise RuntimeError(f"{init.__qualname__}: max_depth default is {defaults[index]}, expected 1000")
    defaults[index] = UNBOUNDED_DEPTH
    init.__defaults__ = tuple(defaults)


def _is_descendant_of(self, task) -> bool:
    """True if ``task`` is a proper ancestor of ``self`` (iterative: any tree depth)."""
    node = self.parent
    while node is not None:
        if node == task:
            return True
        node = node.parent
    return False


def _find_ancestor(self, spec_name: str):
    """The nearest proper ancestor whose spec is named ``spec_name``, else None (iterative)."""
    node = self.parent
    while node is not None:
        if node.task_spec.name == spec_name:
            return node
        node = node.parent
    return None


def _observed(notify):
    def _task_completed_notify(self, task) -> None:
        observer = completion_observer.get()
        if observer is not None:
            observer(task)
        notify(self, task)
    return _task_completed_notify


def apply() -> None:
    if getattr(Task, "_baoxue_patched", False):
        return
    _without_depth_cap(TaskIterator.__init__)
    _without_depth_cap(BpmnTaskIterator.__init__)
    Task.is_descendant_of = _is_descendant_of
    Task.find_ancestor = _find_ancestor
    Workflow._task_completed_notify = _observed(Workflow._task_completed_notify)
    Task._baoxue_patched = True


apply()
