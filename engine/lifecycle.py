"""Suspend, resume and terminate an instance (an administrator's acts, each with a reason).

What waits while an instance is suspended, and why nothing is lost:

* **Tasks.** Its open ``human_task`` rows stay open but are not actionable: completing
  (and claiming) raises ``InstanceSuspended`` (409), as Camunda refuses work on a suspended
  task. Inbox queries leave them out (``TaskQuery.include_suspended``).
* **Timers.** The timer worker only fires jobs of ``active`` instances, so a job that falls
  due stays ``waiting``; after resume it is still due and the next sweep fires it (late,
  never lost; a cycle's missed periods are dropped as after downtime).
* **Messages.** A message that correlates with a suspended instance is *not* applied and
  *not* dropped: its catch keeps its subscription, the delivery raises ``InstanceSuspended``
  (an ``InstanceInError``), and the outbox keeps the message ``pending`` with a back-off
  (at most ``messages.MAX_BACKOFF``), exactly as for an instance in error. Resume then
  delivers what waited at once (``deliver_pending(ignore_backoff=True)``). The alternative,
  refusing the message back to its sender, would lose it whenever the sender cannot resend;
  a domain outbox that delivers in its own transaction (``MessageService.deliver_in``) gets
  the same error and retries by itself.
* **Continuations.** The worker continues ``active`` instances only: steps left stay left.
"""
from __future__ import annotations

from .errors import InvalidInput
from .runtime.lifecycle import ResumeInstance, SuspendInstance, TerminateInstance

REASON_MAX = 2000   # characters


def checked_reason(reason) -> str:
    """The stripped reason; InvalidInput ``{"reason": ...}`` when empty or too long."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise InvalidInput("a reason is required", errors={"reason": "required"})
    if len(text) > REASON_MAX:
        raise InvalidInput(f"the reason has more than {REASON_MAX} characters",
                           errors={"reason": f"at most {REASON_MAX} characters"})
    return text


class LifecycleService:
    def __init__(self, engine):
        self.engine = engine

    def suspend(self, instance_id: int, reason: str, *, actor: str | None):
        """Suspend an ``active`` instance; ``instance_suspended`` {reason} audited.
        Returns the CommandResult (status ``suspended``). Raises InvalidInput (reason),
        NotFound, Conflict (not active: completed, terminated, error, already suspended)."""
        return self._run(instance_id, SuspendInstance(checked_reason(reason)), actor)

    def resume(self, instance_id: int, reason: str, *, actor: str | None):
        """Resume a ``suspended`` instance (status ``active``; ``instance_resumed`` audited),
        then deliver the messages that waited for it. Timers that fell due meanwhile fire at
        the worker's next sweep. Raises InvalidInput, NotFound, Conflict (not suspended)."""
        outcome = self._run(instance_id, ResumeInstance(checked_reason(reason)), actor)
        self.engine.messages.deliver_pending(ignore_backoff=True)
        return outcome

    def terminate(self, instance_id: int, reason: str, *, actor: str | None):
        """Terminate an active, suspended or failed instance: open tasks cancelled, timer
        jobs cancelled, subscriptions dropped, open incidents closed, status ``terminated``
        (its business key is free for a new case); ``instance_terminated`` {reason,
        status_before} audited. Raises InvalidInput, NotFound, Conflict (completed or
        terminated already)."""
        return self._run(instance_id, TerminateInstance(checked_reason(reason)), actor)

    def _run(self, instance_id, command, actor):
        return self.engine.runtime.run_command(instance_id, command, actor)
