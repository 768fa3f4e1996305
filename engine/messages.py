"""Message delivery with strict correlation, and a record of every message received.

SpiffWorkflow accepts a message when *any* correlation key matches (PR #434) and silently
queues one that nothing catches. Here a waiting catch event matches only if every
correlation property it expects is given with an equal value, and a message that reaches
nothing is stored with status ``unmatched``.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from sqlalchemy import select

from .errors import Conflict, InvalidInput, StepFailed
from .persistence.models import Message, MessageStart, MessageSubscription
from .runtime.commands import CatchMessage, StartInstance


@dataclass
class DeliveryResult:
    message_id: int
    status: str                                   # delivered | unmatched (| pending, delivering)
    reached: list[int] = field(default_factory=list)     # waiting instances that caught it
    started: list[int] = field(default_factory=list)     # instances started by a message start event
    failed: list[dict] = field(default_factory=list)     # [{instance_id, incident_id, message}]

    def to_dict(self) -> dict:
        return {"message_id": self.message_id, "status": self.status, "reached": self.reached,
                "started": self.started, "failed": self.failed}


def correlation_matches(expected: dict, given: dict) -> bool:
    """Every property the catch event expects must be given, with an equal value."""
    return all(key in given and given[key] == value for key, value in expected.items())


class MessageService:
    def __init__(self, engine):
        self.engine = engine
        self._local = threading.local()

    def deliver(self, name: str, correlation: dict | None = None, payload: dict | None = None, *,
                actor: str | None = None) -> DeliveryResult:
        """Deliver message ``name`` to the waiting instances whose correlation matches.

        If no waiting catch event matches, the latest versions with a message start event
        of that name are started with ``payload`` as data. Returns which instances it
        reached; raises InvalidInput for a malformed message.
        """
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("message name is required", errors={"name": "required"})
        for label, value in (("correlation", correlation), ("payload", payload)):
            if value is not None and not isinstance(value, dict):
                raise InvalidInput(f"{label} must be a JSON object", errors={label: "must be an object"})
        correlation, payload = correlation or {}, payload or {}
        clashes = [key for key in correlation if key in payload and payload[key] != correlation[key]]
        if clashes:
            raise InvalidInput("payload contradicts the correlation",
                               errors={f"payload.{key}": "differs from the correlation value" for key in clashes})
        result = self._route(name, correlation, payload, actor)
        with self.engine.db.transaction() as session:
            row = Message(name=name, correlation=_dumps(correlation), payload=_dumps(payload),
                          status=result.status, reached=_dumps(result.reached + result.started),
                          received_at=self.engine.clock(), sender=actor)
            session.add(row)
            session.flush()
            result.message_id = row.id
        self.deliver_pending()
        return result

    def deliver_pending(self, limit: int = 100) -> int:
        """Deliver messages thrown by processes (stored ``pending`` by the command that threw
        them, in its transaction); returns how many were handled. Not re-entrant: a
        delivery that throws again leaves the new message to this same loop."""
        if getattr(self._local, "busy", False):
            return 0
        self._local.busy = True
        try:
            handled = 0
            while handled < limit:
                claimed = self._claim_pending()
                if claimed is None:
                    break
                message_id, name, correlation, payload, sender = claimed
                result = self._route(name, correlation, payload, sender)
                with self.engine.db.transaction() as session:
                    row = session.get(Message, message_id)
                    row.status, row.reached = result.status, _dumps(result.reached + result.started)
                handled += 1
            return handled
        finally:
            self._local.busy = False

    def _claim_pending(self):
        with self.engine.db.transaction() as session:
            query = select(Message).where(Message.status == "pending").order_by(Message.id).limit(1)
            if self.engine.db.is_postgres:
                query = query.with_for_update(skip_locked=True)
            row = session.scalars(query).first()
            if row is None:
                return None
            # Claimed before delivery: a crash in between leaves it "delivering" (at most once).
            row.status = "delivering"
            return row.id, row.name, json.loads(row.correlation), json.loads(row.payload), row.sender

    def _route(self, name, correlation, payload, actor) -> DeliveryResult:
        result = DeliveryResult(message_id=0, status="unmatched")
        for instance_id in self._matching_instances(name, correlation):
            self._try(result, lambda: self.engine.executor.execute(
                instance_id, CatchMessage(name, correlation, payload), actor), instance_id, reached=True)
        if not result.reached:
            for definition_id in self._message_starts(name):
                command = StartInstance(message={"name": name, "correlation": correlation, "payload": payload})
                self._try(result, lambda: self._start(definition_id, command, actor), None, reached=False)
        result.status = "delivered" if (result.reached or result.started) else "unmatched"
        return result

    def _start(self, definition_id, command, actor):
        outcome = self.engine.runtime.start_definition(definition_id, {}, actor=actor, command=command)
        return outcome.instance_id, None

    def _try(self, result, call, instance_id, *, reached):
        try:
            started_id, caught = call()[:2]
        except Conflict:
            return  # the instance moved on (completed, stale) since it was matched
        except StepFailed as err:
            result.failed.append({"instance_id": err.instance_id, "incident_id": err.incident_id,
                                  "message": err.message})
            return
        if reached and caught:
            result.reached.append(instance_id)
        elif not reached:
            result.started.append(started_id)

    def _matching_instances(self, name, correlation) -> list[int]:
        with self.engine.db.read() as session:
            rows = session.scalars(select(MessageSubscription).where(
                MessageSubscription.message_name == name).order_by(MessageSubscription.instance_id))
            matched = [row.instance_id for row in rows
                       if correlation_matches(json.loads(row.correlation), correlation)]
        return sorted(set(matched))

    def _message_starts(self, name) -> list[int]:
        with self.engine.db.read() as session:
            return list(session.scalars(select(MessageStart.definition_id).where(
                MessageStart.message_name == name).order_by(MessageStart.definition_id)))

    def waiting(self, name: str) -> list[dict]:
        """The correlations that waiting catch events of message ``name`` expect, one per
        subscription (``[{"child_id": 7}, ...]``): who would catch it if it came now."""
        with self.engine.db.read() as session:
            rows = session.scalars(select(MessageSubscription.correlation).where(
                MessageSubscription.message_name == name).order_by(MessageSubscription.id))
            return [json.loads(row) for row in rows]

    def unmatched(self) -> list[Message]:
        with self.engine.db.read() as session:
            return list(session.scalars(select(Message).where(Message.status == "unmatched").order_by(Message.id)))


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
