"""Errors the engine raises to its callers, each mapping to one HTTP status in the API."""
from __future__ import annotations


class EngineError(Exception):
    """Base class. ``status`` is the HTTP status a web layer should answer with."""

    status = 400

    def __init__(self, message: str, *, errors: dict | list | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors


class NotFound(EngineError):
    status = 404


class Conflict(EngineError):
    """Stale write, task already done, claimed by someone else, instance in error."""

    status = 409


class InstanceInError(Conflict):
    """The instance has an open incident: only an administrator's retry, resolve or data
    fix may change it. What the system sends it meanwhile waits (it is not dropped)."""


class InstanceSuspended(InstanceInError):
    """The instance is suspended (``engine.lifecycle``): only an administrator's resume,
    terminate, data fix or migration may change it. Like an instance in error, what the
    system sends it meanwhile waits (a message stays pending in the outbox, a due timer's
    job stays waiting) and is applied after resume."""


class Forbidden(EngineError):
    status = 403


class InvalidInput(EngineError):
    """Data that fails a form or a rule; ``errors`` maps field or element id to a reason."""

    status = 422


class TooLarge(EngineError):
    """An upload above its size limit; ``errors`` names the field. Nothing was stored."""

    status = 413


class StepFailed(EngineError):
    """A script, expression or timer failed while the engine ran; an incident was recorded.

    ``incident_id`` and ``element_id`` identify it; the instance is in ``error`` status and
    its workflow state is what it was before the failing command.
    """

    status = 409

    def __init__(self, message: str, *, instance_id: int, incident_id: int, element_id: str | None):
        super().__init__(message)
        self.instance_id = instance_id
        self.incident_id = incident_id
        self.element_id = element_id


class Busy(Conflict):
    """A transient clash with another writer (a deadlock, a lock timeout, a race on a unique
    index): the transaction was rolled back and nothing changed, so the same request may
    simply be repeated. A person is told to reload and try again; the system's own senders
    (the outbox dispatchers, the timer worker) retry it themselves and never drop it."""

    retryable = True
