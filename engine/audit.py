"""Append-only, hash-chained audit events.

Each stream (``instance:<id>``, ``definitions``) is a chain: an event's hash covers the
previous event's hash, its own header and its data, exactly as stored. ``audit_stream``
holds each chain's head so that deleting the newest events is detected too.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from .persistence.models import AuditEvent, AuditStream

GENESIS = "0" * 64
DEFINITIONS_STREAM = "definitions"


def instance_stream(instance_id: int) -> str:
    return f"instance:{instance_id}"


def canonical_json(value) -> str:
    """Stable JSON text (sorted keys, no spaces, UTF-8 kept); unknown types as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _utc(moment: datetime) -> datetime:
    # The database gives times back in UTC: a clock in another zone must hash the same.
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment


def _digest(prev_hash: str, event: AuditEvent) -> str:
    header = canonical_json({
        "stream": event.stream, "seq": event.seq, "instance_id": event.instance_id,
        "kind": event.kind, "actor": event.actor, "at": _utc(event.at).isoformat(),
        "element_id": event.element_id, "task_id": event.task_id,
    })
    return hashlib.sha256(f"{prev_hash}\n{header}\n{event.data}".encode()).hexdigest()


def append_event(session: Session, stream: str, kind: str, *, at: datetime, actor: str | None,
                 instance_id: int | None = None, element_id: str | None = None,
                 task_id: str | None = None, data=None) -> AuditEvent:
    """Add one event to ``stream`` in the caller's transaction and return it.

    The stream head row is locked (``FOR UPDATE`` on PostgreSQL) so that two writers
    never take the same sequence number; the unique (stream, seq) constraint backs it.
    """
    head = session.execute(
        select(AuditStream).where(AuditStream.stream == stream).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditStream(stream=stream, seq=0, head_hash=GENESIS)
        session.add(head)
    event = AuditEvent(
        stream=stream, seq=head.seq + 1, instance_id=instance_id, kind=kind, actor=actor,
        at=at, element_id=element_id, task_id=task_id, data=canonical_json(data or {}),
        prev_hash=head.head_hash,
    )
    event.hash = _digest(head.head_hash, event)
    head.seq, head.head_hash = event.seq, event.hash
    session.add(event)
    return event


@dataclass
class ChainReport:
    """Result of ``verify_chain``: ``ok`` and, when not, one line per problem found."""

    stream: str
    count: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(session: Session, stream: str) -> ChainReport:
    """Recompute the chain of ``stream``; report edited, deleted, inserted or reordered rows."""
    report = ChainReport(stream)
    events = session.execute(
        select(AuditEvent).where(AuditEvent.stream == stream).order_by(AuditEvent.seq)
    ).scalars().all()
    prev, expected_seq = GENESIS, 1
    for event in events:
        if event.seq != expected_seq:
            report.problems.append(f"event #{expected_seq} is missing (next found: #{event.seq})")
        if event.prev_hash != prev:
            report.problems.append(f"event #{event.seq} does not link to the event before it")
        if _digest(event.prev_hash, event) != event.hash:
            report.problems.append(f"event #{event.seq} ({event.kind}) was altered after it was written")
        prev, expected_seq = event.hash, event.seq + 1
    report.count = len(events)
    head = session.get(AuditStream, stream)
    if head is not None and (head.seq != expected_seq - 1 or head.head_hash != prev):
        report.problems.append(f"the chain ends at #{expected_seq - 1} but {head.seq} events were written")
    if head is None and events:
        report.problems.append("the chain head record is missing")
    return report
