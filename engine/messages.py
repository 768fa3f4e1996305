"""Message delivery with strict correlation, as an outbox: nothing sent is ever dropped.

SpiffWorkflow accepts a message when *any* correlation key matches (PR #434) and silently
queues one that nothing catches. Here a waiting catch event matches only if every
correlation property it expects is given with an equal value, and a message that reaches
nothing is stored with status ``unmatched``. A property without a value matches nothing (the
catch waits ``uncorrelatable``), a message without a value for one of its message's
correlation properties is refused (422), so is one whose payload lacks a key the catches
declare they read (their ``requiredPayload`` property: ``payload.<key>``), and an instance a message start event opens gets a
business key, so one open instance per key holds for message starts too (issue 9;
engine/README.md, "Messages and correlation").

Delivery is at least once and applied once. A message is first stored ``pending`` in the
sender's transaction (``enqueue``: the API's ``deliver``, or a process that throws one,
``runtime.projections.queue_thrown_messages``). A dispatcher then takes a lease on it and
delivers it to each matching instance in that instance's own command transaction, which
also writes a ``message_delivery`` row (message, target): a repeat after a crash finds the
row and skips that target. A target that cannot take it now (in error, or busy with another
writer) keeps the message ``pending`` with a later ``next_attempt_at``; a step that fails on
it hands the message to the incident (its retry applies it). A lease that runs out (the
dispatcher died) frees the message for the next dispatcher: the worker runs
``deliver_pending`` on every sweep.

Fields the caller names private (``EngineConfig.private_message_fields``: message name, or
``"*"`` for every message, to field names) are kept only by the process that receives them:
the stored message keeps them while it is pending (it must still be delivered) and loses
them once it is delivered, unmatched or handed to an incident (whose stored command keeps
them for its retry). An unmatched message thus keeps no such text.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from .outbox import backoff, claim_next, wall_clock
from .errors import Busy, Conflict, InstanceInError, InvalidInput, NotFound
from .persistence.models import (
    Message, MessageDelivery, MessageStart, MessageSubscription, ProcessDefinition, ProcessInstance,
)
from .runtime.correlation import MessageUse, correlation_matches, message_uses, require_keys, require_payload
from .runtime.commands import CatchMessage, StartInstance
from .runtime.executor import PendingFailure

LEASE = timedelta(seconds=30)         # a dispatcher that holds a message longer has died
MAX_BACKOFF = timedelta(minutes=5)


@dataclass
class DeliveryResult:
    message_id: int
    # delivered | unmatched | pending (will be retried) | incident (every target failed on it)
    status: str
    reached: list[int] = field(default_factory=list)     # waiting instances that caught it
    started: list[int] = field(default_factory=list)     # instances started by a message start event
    failed: list[dict] = field(default_factory=list)     # [{instance_id, incident_id, message}]
    refused: list[dict] = field(default_factory=list)    # starts refused: [{process_key, business_key, reason}]
    waiting: list = field(default_factory=list)          # targets that get it later (busy, in error)
    errors: list[str] = field(default_factory=list)      # why they could not take it now

    def to_dict(self) -> dict:
        return {"message_id": self.message_id, "status": self.status, "reached": self.reached,
                "started": self.started, "failed": self.failed, "refused": self.refused,
                "waiting": [w for w in self.waiting if w is not None]}


class MessageService:
    def __init__(self, engine):
        self.engine = engine
        self._local = threading.local()
        self._uses: dict[int, dict[str, MessageUse]] = {}   # definition id -> {message: its use}

    # -- sending -------------------------------------------------------------------------
    def deliver(self, name: str, correlation: dict | None = None, payload: dict | None = None, *,
                actor: str | None = None) -> DeliveryResult:
        """Store message ``name`` and deliver it now to the waiting instances whose
        correlation matches; if none matches, start the latest versions with a message start
        event of that name (``payload`` as data). Returns where it went; status ``pending``
        means some target takes it later (busy or in error), by the worker.

        Raises InvalidInput (422) for a malformed message, one that lacks a value for a
        correlation property its message has in a deployed process
        (``correlation_properties``), or one whose payload lacks a key the events that catch
        it declare (``required_payload``: ``{"payload.<key>": ...}``); nothing is stored then.
        Who may send it is the caller's check (``internal_senders``).
        """
        correlation, payload = _checked(name, correlation, payload)
        require_keys(name, correlation, self.correlation_properties(name))
        require_payload(name, payload, self.required_payload(name))
        with self.engine.db.transaction() as session:
            row = self.enqueue(session, name, correlation, payload, sender=actor)
            row.lease_until = wall_clock() + LEASE     # ours: the worker leaves it alone
            session.flush()
            message_id = row.id
        result = self._dispatch(message_id)
        self.deliver_pending()
        return result

    def enqueue(self, session, name: str, correlation: dict, payload: dict, *, sender: str | None) -> Message:
        """Add a ``pending`` message in the caller's transaction (the outbox): it is delivered
        after that transaction commits, or never if it rolls back."""
        row = Message(name=name, correlation=_dumps(correlation), payload=_dumps(payload), status="pending",
                      reached="[]", received_at=self.engine.clock(), sender=sender, attempts=0)
        session.add(row)
        return row

    def deliver_in(self, session, instance_id: int, name: str, correlation: dict, payload: dict, *,
                   actor: str | None) -> int:
        """Deliver message ``name`` to the one instance ``instance_id`` inside the caller's
        transaction, and store it as received (``delivered``, or ``unmatched`` if nothing in
        the instance caught it). For a domain outbox that marks its own event applied in the
        same transaction. Returns how many catch events caught it; raises as
        ``executor.execute`` with a session does (PendingFailure, InstanceInError, Busy,
        NotFound, Conflict)."""
        correlation, payload = _checked(name, correlation, payload)
        require_keys(name, correlation, self.correlation_properties(name, session))
        _, caught, _, _ = self.engine.executor.execute(instance_id, CatchMessage(name, correlation, payload),
                                                       actor, session=session)
        row = self.enqueue(session, name, correlation, payload, sender=actor)
        row.status, row.reached, row.attempts = ("delivered" if caught else "unmatched"), \
            _dumps([instance_id] if caught else []), 1
        self._withhold_private(row)
        session.flush()
        session.add(_delivery(row.id, f"instance:{instance_id}", instance_id, "applied", self.engine.clock()))
        return caught

    def deliver_pending(self, limit: int = 100, *, ignore_backoff: bool = False) -> int:
        """Deliver pending messages whose time has come (thrown by processes, or waiting for
        a busy target); returns how many were worked on. ``ignore_backoff``: also those
        waiting out a back-off (an incident was just resolved: its instance can take them
        now). Not re-entrant: a delivery that throws again leaves the new message to this
        same loop."""
        if getattr(self._local, "busy", False):
            return 0
        self._local.busy = True
        try:
            handled = 0
            while handled < limit:
                message_id = self._claim_next(ignore_backoff)
                if message_id is None:
                    break
                self._dispatch(message_id)
                handled += 1
            return handled
        finally:
            self._local.busy = False

    # -- dispatching ---------------------------------------------------------------------
    def _claim_next(self, ignore_backoff: bool = False) -> int | None:
        # One correlation's messages are delivered in the order they were sent.
        return claim_next(self.engine.db, Message, "correlation", lease=LEASE, ignore_backoff=ignore_backoff)

    def _dispatch(self, message_id: int) -> DeliveryResult:
        with self.engine.db.read() as session:
            row = session.get(Message, message_id)
            name, sender = row.name, row.sender
            correlation, payload = json.loads(row.correlation), json.loads(row.payload)
            done = dict(session.execute(select(MessageDelivery.target, MessageDelivery.instance_id).where(
                MessageDelivery.message_id == message_id)).all())
        result = DeliveryResult(message_id=message_id, status="unmatched")
        result.reached = [i for t, i in done.items() if t.startswith("instance:") and i is not None]
        result.started = [i for t, i in done.items() if t.startswith("start:") and i is not None]
        for instance_id in self._matching_instances(name, correlation):
            if f"instance:{instance_id}" not in done:
                self._to_instance(result, message_id, instance_id, CatchMessage(name, correlation, payload), sender)
        if not (result.reached or result.waiting or result.failed):
            command = StartInstance(message={"name": name, "correlation": correlation, "payload": payload})
            for definition_id in self._message_starts(name):
                if f"start:{definition_id}" not in done:
                    self._start(result, message_id, definition_id, command, sender)
        self._finish(message_id, result)
        return result

    def _to_instance(self, result, message_id, instance_id, command, actor) -> None:
        target = f"instance:{instance_id}"
        record = lambda ctx: ctx.session.add(_delivery(message_id, target, instance_id, "applied", ctx.now))  # noqa: E731
        try:
            with self.engine.db.transaction() as session:
                _, caught, _, _ = self.engine.executor.execute(instance_id, command, actor, session=session,
                                                               on_success=record)
        except PendingFailure as failure:
            self._hand_to_incident(result, failure, message_id, target)
        except (InstanceInError, Busy) as exc:
            result.waiting.append(instance_id)      # it gets the message when it can take it
            result.errors.append(f"{target}: {exc.message}")
        except (NotFound, Conflict):
            pass   # completed or terminated since it was matched: nothing waits any more
        else:
            if caught:
                result.reached.append(instance_id)

    def _start(self, result, message_id, definition_id, command, actor) -> None:
        """Start ``definition_id`` by its message start event. Its business key comes from
        the engine's ``business_key`` hook, as for every start: a second open instance for
        the same key is refused (the one-open-case rule), recorded in ``result.refused``."""
        target = f"start:{definition_id}"
        message = command.message
        process_key = self.engine.repository.get(definition_id).process_key
        business_key = None
        try:
            # The hook may refuse what cannot identify a case (InvalidInput): the start is refused.
            with self.engine.db.transaction() as session:
                business_key = self.engine.executor.hooks.business_key(
                    process_key, message["correlation"], message["payload"], session=session, sender=actor)
                known = self._definition_keys(definition_id, session).get(message["name"], set())
                # The correlation identifies the new instance: its later catches and its
                # routing read it at the top level, also when the payload goes to a messageVariable.
                identity = {key: value for key, value in message["correlation"].items() if key in known}
                outcome = self.engine.runtime.start_definition(definition_id, identity, business_key=business_key,
                                                               actor=actor, command=command, session=session)
                session.add(_delivery(message_id, target, outcome.instance_id, "started", self.engine.clock()))
        except PendingFailure as failure:
            self._hand_to_incident(result, failure, message_id, target)
        except (Conflict, InvalidInput) as exc:
            result.refused.append({"process_key": process_key, "business_key": business_key,
                                   "reason": exc.message})
            result.errors.append(f"{target}: {exc.message}")
        except Busy as exc:
            result.waiting.append(None)
            result.errors.append(f"{target}: {exc.message}")
        else:
            result.started.append(outcome.instance_id)

    def _hand_to_incident(self, result, failure, message_id, target) -> None:
        """The target's step failed on this message: the incident now holds it (its retry
        applies it), so the message counts as delivered to that target."""
        def also(session, instance_id, _incident_id):
            session.add(_delivery(message_id, target, instance_id, "incident", failure.now))
        err = self.engine.executor.record_failure(failure, also=also)
        result.failed.append({"instance_id": err.instance_id, "incident_id": err.incident_id,
                              "message": err.message})

    def _finish(self, message_id, result) -> None:
        with self.engine.db.transaction() as session:
            row = session.get(Message, message_id)
            row.lease_until = None
            row.reached = _dumps(sorted(set(result.reached + result.started)))
            row.last_error = "; ".join(result.errors)[:2000] or None
            if result.waiting:
                result.status = row.status = "pending"
                row.next_attempt_at = wall_clock() + backoff(row.attempts, MAX_BACKOFF)
            else:
                row.status = "delivered" if (result.reached or result.started or result.failed) else "unmatched"
                # The row is handed over either way (each incident holds it); the sender learns
                # that no case took it yet.
                result.status = "incident" if result.failed and not (result.reached or result.started) \
                    else row.status
                row.next_attempt_at = None
                self._withhold_private(row)

    def _withhold_private(self, row) -> None:
        """Drop the payload's private fields from a message that is no longer pending (see
        the module's docstring); the receiving process has them, nobody else keeps them."""
        rules = self.engine.config.private_message_fields or {}
        private = set(rules.get("*", ())) | set(rules.get(row.name, ()))
        payload = json.loads(row.payload or "{}")
        if private & set(payload):
            row.payload = _dumps({k: v for k, v in payload.items() if k not in private})

    # -- reading -------------------------------------------------------------------------
    def _matching_instances(self, name, correlation) -> list[int]:
        with self.engine.db.read() as session:
            rows = session.scalars(select(MessageSubscription).where(
                MessageSubscription.message_name == name, MessageSubscription.status == "waiting")
                .order_by(MessageSubscription.instance_id))
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
                MessageSubscription.message_name == name, MessageSubscription.status == "waiting")
                .order_by(MessageSubscription.id))
            return [json.loads(row) for row in rows]

    def subscriptions(self, instance_id: int) -> list[MessageSubscription]:
        """The message catches ``instance_id`` waits on (status ``waiting`` or ``uncorrelatable``)."""
        with self.engine.db.read() as session:
            return list(session.scalars(select(MessageSubscription).where(
                MessageSubscription.instance_id == instance_id).order_by(MessageSubscription.id)))

    def linked(self, instance_id: int) -> dict[str, list[int]]:
        """The instances linked to ``instance_id`` by messages: ``{"started_by": [ids of the
        instances whose thrown message started it], "started": [ids its thrown messages
        started]}``, oldest first (a case and its follow-up files, e.g. persuasion and its
        support measures). Two index lookups; empty lists when none."""
        with self.engine.db.read() as session:
            started = session.scalars(
                select(MessageDelivery.instance_id).join(Message, Message.id == MessageDelivery.message_id)
                .where(Message.sender == f"instance:{instance_id}", MessageDelivery.outcome == "started",
                       MessageDelivery.instance_id.is_not(None))
                .order_by(MessageDelivery.instance_id)).all()
            senders = session.scalars(
                select(Message.sender).join(MessageDelivery, Message.id == MessageDelivery.message_id)
                .where(MessageDelivery.instance_id == instance_id, MessageDelivery.outcome == "started")).all()
        by = sorted({int(s.partition(":")[2]) for s in senders
                     if s and s.startswith("instance:") and s.partition(":")[2].isdigit()})
        return {"started_by": by, "started": list(dict.fromkeys(started))}

    def uncorrelatable(self) -> list[MessageSubscription]:
        """Waiting catch events that can never be matched: their instance has no value for a
        correlation property (``missing``). Not an incident (nothing failed); an administrator
        sets the variable (``runtime.set_variables``) and the catch waits for its message."""
        with self.engine.db.read() as session:
            return list(session.scalars(select(MessageSubscription).where(
                MessageSubscription.status == "uncorrelatable").order_by(MessageSubscription.id)))

    def correlation_properties(self, name: str, session=None) -> set[str]:
        """Names of the correlation properties that message ``name`` has in the processes
        that can catch or be started by it now (latest versions, and the versions of instances
        waiting for it). SpiffWorkflow reads them out of every message it is given, so a message
        without them could only fail (NameError) or match the wrong case."""
        return set().union(*(use.correlation for use in self._uses_of(name, session)))

    def required_payload(self, name: str, session=None) -> set[str]:
        """The payload keys that the events catching message ``name`` declare they need
        (``requiredPayload``), in the same processes as ``correlation_properties``."""
        return set().union(*(use.payload for use in self._uses_of(name, session)))

    def internal_senders(self, name: str) -> list[str]:
        """Who sends message ``name`` from inside: the caller's own senders
        (``EngineConfig.reserved_messages``: name -> who, e.g. the attendance ledger), then each
        latest process version that throws it (``"process persuasion (returned_event)"``).
        Empty when nothing inside sends it. A front door that lets people send messages
        refuses these: a forged one would move a case, or what the caller records of it."""
        senders = [who for who in [(self.engine.config.reserved_messages or {}).get(name)] if who]
        with self.engine.db.read() as session:
            latest = list(session.scalars(select(func.max(ProcessDefinition.id))
                                          .group_by(ProcessDefinition.process_key)))
            for definition_id in sorted(latest):
                use = self._definition_uses(definition_id, session).get(name)
                if use is not None and use.thrown_at:
                    key = self.engine.repository.get(definition_id, session).process_key
                    senders.append(f"process {key} ({', '.join(sorted(use.thrown_at))})")
        return senders

    def _uses_of(self, name: str, session=None) -> list[MessageUse]:
        """How message ``name`` is used by the processes that can catch or be started by it
        now: the latest versions, and the versions of instances waiting for it."""
        def ids(session):
            latest = select(func.max(ProcessDefinition.id)).group_by(ProcessDefinition.process_key)
            running = select(ProcessInstance.definition_id).join(
                MessageSubscription, MessageSubscription.instance_id == ProcessInstance.id).where(
                MessageSubscription.message_name == name)
            return set(session.scalars(latest)) | set(session.scalars(running.distinct()))
        if session is None:
            with self.engine.db.read() as own:
                found = ids(own)
        else:
            found = ids(session)
        uses = [self._definition_uses(definition_id, session).get(name) for definition_id in sorted(found)]
        return [use for use in uses if use is not None]

    def _definition_keys(self, definition_id: int, session=None) -> dict[str, set[str]]:
        """{message name: correlation property names} of one process definition."""
        return {name: use.correlation for name, use in self._definition_uses(definition_id, session).items()}

    def _definition_uses(self, definition_id: int, session=None) -> dict[str, MessageUse]:
        """{message name: MessageUse} of one process definition (cached: a version never changes)."""
        if definition_id not in self._uses:
            definition = self.engine.repository.get(definition_id, session)
            self._uses[definition_id] = message_uses(*self.engine.repository.specs(definition, session))
        return self._uses[definition_id]

    def unmatched(self) -> list[Message]:
        with self.engine.db.read() as session:
            return list(session.scalars(select(Message).where(Message.status == "unmatched").order_by(Message.id)))

    def undelivered(self, older_than: timedelta = timedelta(minutes=1)) -> list[Message]:
        """Messages still pending after ``older_than`` (wall time): a dispatcher is down, or
        a target has been busy, in error or suspended that long (``baoxue check`` reports them)."""
        cutoff = wall_clock() - older_than
        with self.engine.db.read() as session:
            return list(session.scalars(select(Message).where(
                Message.status == "pending", Message.received_at < cutoff).order_by(Message.id)))


def _checked(name, correlation, payload) -> tuple[dict, dict]:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("message name is required", errors={"name": "required"})
    for label, value in (("correlation", correlation), ("payload", payload)):
        if value is not None and not isinstance(value, dict):
            raise InvalidInput(f"{label} must be a JSON object", errors={label: "must be an object"})
    correlation, payload = correlation or {}, payload or {}
    # A key identifies one thing: a text or a whole number (not true/false, a fraction, a list).
    kinds = {f"correlation.{key}": "must be a text or a whole number" for key, value in correlation.items()
             if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int)))}
    if kinds:
        raise InvalidInput("a correlation value must be a text or a whole number", errors=kinds)
    clashes = [key for key in correlation if key in payload and payload[key] != correlation[key]]
    if clashes:
        raise InvalidInput("payload contradicts the correlation",
                           errors={f"payload.{key}": "differs from the correlation value" for key in clashes})
    return correlation, payload


def _delivery(message_id, target, instance_id, outcome, at) -> MessageDelivery:
    return MessageDelivery(message_id=message_id, target=target, instance_id=instance_id, outcome=outcome, at=at)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
