"""The command that goes on with engine steps a command left for later (``engine.runtime.steps``)."""
from __future__ import annotations

from SpiffWorkflow.util.task import TaskState

from .commands import Command, run_engine_steps


class RunawayLoop(Exception):
    """An instance ran ``StepLimits.per_run`` engine steps without stopping at a user task,
    a timer or a message: a loop whose exit condition never holds. ``task`` is the next
    step, named in the incident; a retry grants the instance a fresh allowance."""

    def __init__(self, task, steps: int):
        self.task = task
        super().__init__(f"{task.task_spec.bpmn_id or task.task_spec.name} was reached after {steps} engine "
                         "steps without waiting for a person, a timer or a message: a loop without end?")


class ContinueSteps(Command):
    """Go on with an instance's engine steps that an earlier command left for the worker
    (``process_instance.pending_steps``); does nothing if none are left."""

    type = "continue_steps"

    def __init__(self, fresh: bool = False):
        self.fresh = fresh   # set when the incident is recorded: its retry counts anew

    def to_json(self):
        return {"type": self.type, "fresh": self.fresh}

    def run(self, ctx):
        if ctx.instance.pending_steps is None:
            return 0
        if self.fresh:
            ctx.instance.pending_steps = 0
        if ctx.instance.pending_steps >= ctx.limits.per_run:
            ready = [t for t in ctx.workflow.get_tasks(state=TaskState.READY) if not t.task_spec.manual]
            if ready:
                self.fresh = True
                raise RunawayLoop(ready[0], ctx.instance.pending_steps)
        run_engine_steps(ctx.workflow)
        return 1
