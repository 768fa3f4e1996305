"""The child's 就学状态 follows its persuasion case (issue 10 §8), written by the domain.

The case says what happened by throwing a ``case_event`` message (processes/persuasion.bpmn:
``{child_id, event, outcome?}``, ``ledger.case_outcomes.CASE_EVENTS``). The engine stores it
in the same transaction as the step that threw it (its message outbox), so nothing a case
says is lost; no process catches it. ``apply_case_events`` then applies each such message
once (``case_event.message_id`` is unique), in the order a child's messages were thrown:
it reads the rules (``ledger.case_outcomes.next_status``), sets ``Child.enrolment_status``
and writes the ``CaseEventRecord`` (who, when, old → new, which case, the outcome).

It runs right after each step that may throw (a task completed through the API or a page,
an attendance report, a timer sweep of the worker) and on every outbox sweep of the worker,
which picks up whatever a crash left. A move the rules refuse (the child is 死亡 or 转出 by
another procedure) is recorded with the status unchanged and the reason in ``note``.
"""
from __future__ import annotations

import json
import logging

from datetime import timedelta

from sqlalchemy import exists, select
from sqlalchemy.exc import DBAPIError

from engine.persistence.models import AuditEvent, Message

from .case_outcomes import CASE_EVENTS, RuleError, next_status, outcome_label
from .message_apply import apply_pending, pending_older_than
from .models import Child
from .register import record_system_change
from .status_models import CaseEventRecord

log = logging.getLogger(__name__)
CASE_EVENT = "case_event"       # the message name the persuasion diagram throws

__all__ = ["CASE_EVENT", "apply_case_events", "apply_now", "history", "outcomes"]


def apply_case_events(engine, limit: int = 500) -> int:
    """Apply the ``case_event`` messages not applied yet, oldest first; returns how many were
    applied. Safe in several processes at once (a message applied elsewhere meanwhile is
    skipped; a child's messages apply in order). A message that names no known child is
    logged and left (it cannot belong to a ledger row)."""
    return apply_pending(engine, CASE_EVENT, CaseEventRecord, _apply, limit)


def unapplied(session, older_than: timedelta = timedelta(minutes=1)) -> list[Message]:
    """``case_event`` messages not applied ``older_than`` after they were thrown (as
    ``engine.messages.undelivered``), for ``baoxue check``: a status change not yet made."""
    return pending_older_than(session, CASE_EVENT, CaseEventRecord, older_than)


def apply_now(engine) -> int:
    """``apply_case_events`` right after a step, on the caller's path: a database setback is
    logged, never raised (the step itself is done; the worker's sweep applies it later)."""
    try:
        return apply_case_events(engine)
    except DBAPIError as exc:
        log.warning("case events left to the worker: %s", exc)
        return 0


def _apply(engine, session, message_id: int) -> int:
    message = session.get(Message, message_id)
    payload = json.loads(message.payload or "{}")
    child_id = payload.get("child_id")
    child = session.get(Child, child_id, with_for_update=engine.db.is_postgres) \
        if isinstance(child_id, int) and not isinstance(child_id, bool) else None
    if child is None:
        log.warning("case_event message %s names no known child (%r): left unapplied", message_id, child_id)
        return 0
    if _earlier_unapplied(session, message):
        return 0      # the child's earlier event first (another process has it, or it comes next)
    if session.scalar(select(CaseEventRecord.id).where(CaseEventRecord.message_id == message_id)):
        return 0
    event, outcome = payload.get("event"), payload.get("outcome")
    before, note = child.enrolment_status, None
    try:
        after = next_status(before, event, outcome) or before
    except RuleError as exc:
        after, note = before, str(exc)
        log.warning("case_event message %s for child %s not applied to the status: %s", message_id, child_id, exc)
    child.enrolment_status = after
    instance_id = _instance_of(message)
    # The register's one history (ledger.register) keeps the case's move too.
    record_system_change(session, child, "enrolment_status", before, after,
                         f"案件 {instance_id}：" + CASE_EVENTS.get(event, str(event))
                         + (f"（{outcome_label(outcome)}）" if outcome else ""), message.received_at, instance_id)
    session.add(CaseEventRecord(message_id=message_id, instance_id=instance_id, child_id=child_id,
                                event=str(event)[:32], outcome=(str(outcome)[:32] if outcome else None),
                                status_before=before, status_after=after, at=message.received_at,
                                actor=_actor(session, instance_id, message), note=note))
    session.flush()
    if event == "closed":
        # A closure with the child back at school while the latest reported day is an
        # unexcused absence: that absence needs a case (imported here: case_handoff reads this module).
        from .case_handoff import absence_left_open
        absence_left_open(session, child_id, message.received_at)
    return 1


def _earlier_unapplied(session, message: Message) -> bool:
    return session.scalar(select(Message.id).where(
        Message.name == CASE_EVENT, Message.correlation == message.correlation, Message.id < message.id,
        ~exists().where(CaseEventRecord.message_id == Message.id)).limit(1)) is not None


def _instance_of(message: Message) -> int:
    sender = message.sender or ""
    return int(sender.split(":", 1)[1]) if sender.startswith("instance:") and sender[9:].isdigit() else 0


def _actor(session, instance_id: int, message: Message) -> str | None:
    """Who ran the step that threw it: the actor of the audit event written with it."""
    return session.scalar(select(AuditEvent.actor).where(
        AuditEvent.instance_id == instance_id, AuditEvent.kind == "message_sent",
        AuditEvent.at == message.received_at).order_by(AuditEvent.id.desc()).limit(1))


def history(session, child_id: int) -> list[CaseEventRecord]:
    """The child's status changes, oldest first (rows whose status changed)."""
    return list(session.scalars(select(CaseEventRecord).where(
        CaseEventRecord.child_id == child_id, CaseEventRecord.status_before != CaseEventRecord.status_after)
        .order_by(CaseEventRecord.id)))


def outcomes(session, child_id: int | None = None) -> list[CaseEventRecord]:
    """The closures (``event == "closed"``) with their outcome code, oldest first; one child's
    or everyone's (what the ledgers and figures read)."""
    query = select(CaseEventRecord).where(CaseEventRecord.event == "closed")
    if child_id is not None:
        query = query.where(CaseEventRecord.child_id == child_id)
    return list(session.scalars(query.order_by(CaseEventRecord.id)))
