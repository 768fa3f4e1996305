"""Keep a looping workflow's task tree shallow: compact the finished history above it.

SpiffWorkflow 3.2 appends every round of a loop under the previous one, so the tree is as
deep as the case is long, and every step walks it from the root: each round costs more than
the last (SPIFFWORKFLOW-NOTES §8), recursive helpers overflow (§9, #441) and iterators stop
at depth 1000 (10-B). The finished "spine" at the top of the tree (one finished task after
another, everything beside it finished too) is history only; ``compact_history`` drops it,
keeping per element the latest finished task on the spine, so the depth no longer grows
with the number of rounds.

What is kept: the root; the spine task just above the first unfinished work (its data is
what the work inherits); on the spine, the latest finished task of each element (what
``RuntimeService.variables(element_id=...)`` and the instance page read); whatever hangs
below a kept task; the workflow's ``last_task`` (a subprocess hands its data out). What is
dropped is already in the instance's audit chain (task_completed, with the submitted data).
"""
from __future__ import annotations

from SpiffWorkflow.util.task import TaskState

DONE = (TaskState.COMPLETED, TaskState.CANCELLED)


def compact_history(wf, keep: int) -> int:
    """Compact ``wf`` and each of its subprocesses whose finished spine is longer than
    ``keep`` tasks; returns how many tasks were dropped (0: nothing to do)."""
    dropped = 0
    for workflow in [wf, *list(wf.subprocesses.values())]:
        if workflow is wf or workflow.parent_task_id in wf.subprocesses:   # not deleted meanwhile
            dropped += _compact(wf, workflow, keep)
    return dropped


def _live(workflow) -> set:
    """Ids of the tasks that are, or have below them, a task not yet done (an ERROR task counts
    as not done: an administrator may still retry it)."""
    live = set()
    for task in workflow.tasks.values():
        if task.state in DONE:
            continue
        node = task
        while node is not None and node.id not in live:
            live.add(node.id)
            node = node.parent
    return live


def _spine(start, live) -> tuple[list, object]:
    """The done tasks from ``start`` down while exactly one child leads to live work, and the
    task where that stops (unfinished, or where branches run in parallel)."""
    spine, node = [], start
    while node.state in DONE:
        ahead = [child for child in node.children if child.id in live]
        if len(ahead) != 1:
            break
        spine.append(node)
        node = ahead[0]
    return spine, node


def _compact(top, workflow, keep: int) -> int:
    """Compact every spine of ``workflow``: the one from the root and, below a parallel split
    or an unfinished task, the one of each branch still running (a loop on one branch while
    another waits). A spine's first task stays: its parent's list of children names it."""
    live = _live(workflow)   # empty when finished: the end of a workflow is left as it is
    starts, dropped = [workflow.task_tree] if live else [], 0
    while starts:
        spine, stop = _spine(starts.pop(), live)
        if len(spine) > keep:
            dropped += _cut(top, workflow, spine)
        starts.extend(child for child in stop.children if child.id in live)
    return dropped


def _cut(top, workflow, spine) -> int:
    pinned = _holding(spine, workflow.last_task)
    seen, kept = set(), {spine[0].id, spine[-1].id}
    for task in reversed(spine):
        if task.task_spec.name not in seen or task is pinned:
            kept.add(task.id)
        seen.add(task.task_spec.name)
    chain = [task for task in spine if task.id in kept]
    doomed = []
    for index, task in enumerate(spine[:-1]):
        if task.id not in kept:
            doomed.append(task)
            doomed.extend(_below(task, spine[index + 1]))
    position = {task.id: index for index, task in enumerate(spine)}
    for upper, lower in zip(chain, chain[1:]):
        successor = spine[position[upper.id] + 1]
        upper._children = [lower.id if child == successor.id else child for child in upper._children]
        lower._parent = upper.id
    for task in doomed:
        if task.id in top.subprocesses:
            top.delete_subprocess(task)
        top.event_manager.remove_task(task)
    for task in doomed:
        workflow.tasks.pop(task.id, None)
    return len(doomed)


def _holding(spine, task):
    """The spine task that is ``task`` or has it in a side branch (None: below the spine)."""
    on_spine = {node.id for node in spine}
    while task is not None and task.id not in on_spine:
        task = task.parent
    return task


def _below(task, on_spine) -> list:
    """Every task under ``task`` except the spine child ``on_spine`` and its subtree."""
    found, stack = [], [child for child in task.children if child.id != on_spine.id]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.children)
    return found
