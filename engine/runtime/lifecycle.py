"""Commands that change an instance's lifecycle, not its path: suspend, resume, terminate.

Each runs through the executor like any other command (one transaction with the
projections and the audit chain). None runs engine steps, so none can fail inside
SpiffWorkflow: none is ever stored by an incident (``commands.COMMANDS`` leaves them out).
"""
from __future__ import annotations

from sqlalchemy import select

from ..errors import Conflict
from ..persistence.models import Incident
from .commands import Command


class _ReasonedCommand(Command):
    def __init__(self, reason: str):
        self.reason = reason

    def to_json(self):
        return {"type": self.type, "reason": self.reason}

    def _require(self, ctx, *statuses: str) -> str:
        status = ctx.instance.status
        if status not in statuses:
            raise Conflict(f"instance {ctx.instance.id} is {status}: cannot {self.type}",
                           errors={"status": status})
        return status


class SuspendInstance(_ReasonedCommand):
    """Only an active instance is suspended. The workflow is left as it is: its open tasks
    cannot be completed or claimed (the executor refuses every command not marked
    ``allowed_when_suspended`` with InstanceSuspended), the timer worker leaves its due jobs
    waiting (it fires jobs of active instances only) and messages for it stay pending in the
    outbox (``engine.lifecycle``)."""

    type = "suspend"

    def run(self, ctx):
        self._require(ctx, "active")
        ctx.instance.status = "suspended"
        ctx.audit("instance_suspended", data={"reason": self.reason})


class ResumeInstance(_ReasonedCommand):
    type = "resume"
    allowed_when_suspended = True

    def run(self, ctx):
        self._require(ctx, "suspended")
        ctx.instance.status = "active"
        ctx.audit("instance_resumed", data={"reason": self.reason})


class TerminateInstance(_ReasonedCommand):
    """End the instance for good: every unfinished task of the workflow is cancelled
    (SpiffWorkflow's ``cancel``, subprocesses included), so the projections close its open
    tasks (``task_cancelled`` audited), cancel its timer jobs and drop its message
    subscriptions; an open incident is closed with resolution ``terminated``; the status
    ``terminated`` frees the business key (``models.OPEN_BUSINESS_KEY``)."""

    type = "terminate"
    allowed_in_error = True
    allowed_when_suspended = True

    def run(self, ctx):
        before = self._require(ctx, "active", "suspended", "error")
        ctx.workflow.cancel()
        for incident in ctx.session.scalars(select(Incident).where(
                Incident.instance_id == ctx.instance.id, Incident.status == "open")):
            incident.status, incident.resolved_at, incident.resolved_by = "resolved", ctx.now, ctx.actor
            incident.resolution, incident.note = "terminated", self.reason
        ctx.instance.status, ctx.instance.completed_at = "terminated", ctx.now
        ctx.instance.pending_steps = None
        ctx.audit("instance_terminated", data={"reason": self.reason, "status_before": before})
