"""Append-only, keyed hash chains: writing a link and verifying a chain.

Each stream (``instance:<id>``, ``definitions``, ``checkpoints``, and any the caller adds,
e.g. the domain's ``access`` log) is a chain: a link's hash covers the previous link's hash,
its own header (stream, seq, its fields, algorithm, key id) and its data, exactly as stored.
``audit_stream`` holds each chain's head (seq, hash) so that the newest links cannot be
dropped without the head disagreeing; the checkpoint file (``checkpoints``) catches a head
rolled back with them.

Algorithms (``alg`` per link, engine migration 0005):
- ``hmac-sha256`` (``KEYED``): every link written since 0005, keyed with the audit key
  (``keys.py``), which is never stored in the database. ``key_id`` names the key.
- ``sha256`` (``LEGACY``): links written before 0005, verified as they were written. Anyone
  can recompute them, so they are trusted only as far as a checkpoint covers them: the first
  checkpoint records each stream's head and its count of legacy links, and from then on an
  edit, a deletion or a further legacy link is reported (``verify.py``). Legacy links may
  only open a stream: one after a keyed link is a forged downgrade.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..persistence.models import AuditEvent, AuditStream
from .keys import KEYED, LEGACY, AuditKeyring

GENESIS = "0" * 64
DEFINITIONS_STREAM = "definitions"
CHECKPOINTS_STREAM = "checkpoints"
KEYS_INFO = "baoxue.audit_keys"   # Session.info entry set by engine.persistence.Database


def instance_stream(instance_id: int) -> str:
    return f"instance:{instance_id}"


def canonical_json(value) -> str:
    """Stable JSON text (sorted keys, no spaces, UTF-8 kept); unknown types as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def utc_text(moment: datetime) -> str:
    # The database gives times back in UTC: a clock in another zone must hash the same.
    return (moment.astimezone(timezone.utc) if moment.tzinfo else moment).isoformat()


def session_keys(session: Session) -> AuditKeyring:
    """The audit keyring of a session made by ``Database``; RuntimeError for any other."""
    keys = session.info.get(KEYS_INFO)
    if keys is None:
        raise RuntimeError("this session carries no audit key: open it with engine.db.transaction()")
    return keys


def link_hash(keys: AuditKeyring | None, alg: str, key_id: str | None, prev_hash: str, stream: str,
              seq: int, fields: dict, data: str) -> str | None:
    """The hash a link must carry, or None when it cannot be computed (unknown algorithm
    or key id). ``fields``: what the link's row says besides stream, seq and data."""
    header = {**fields, "stream": stream, "seq": seq}
    if alg != LEGACY:
        header.update(alg=alg, key_id=key_id)
    text = f"{prev_hash}\n{canonical_json(header)}\n{data}"
    if alg == LEGACY:
        return hashlib.sha256(text.encode()).hexdigest()
    key = keys.get(key_id) if keys is not None and alg == KEYED else None
    return key.mac(text) if key is not None else None


@dataclass(frozen=True)
class Seal:
    seq: int
    prev_hash: str
    hash: str
    alg: str
    key_id: str


def seal(session: Session, stream: str, fields: dict, data: str) -> Seal:
    """Take the next link of ``stream`` (head row locked ``FOR UPDATE`` on PostgreSQL, so
    two writers never take the same seq) and sign it with the current key."""
    keys = session_keys(session)
    head = session.execute(
        select(AuditStream).where(AuditStream.stream == stream).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditStream(stream=stream, seq=0, head_hash=GENESIS)
        session.add(head)
    key_id = keys.current.key_id
    seq = head.seq + 1
    digest = link_hash(keys, KEYED, key_id, head.head_hash, stream, seq, fields, data)
    result = Seal(seq, head.head_hash, digest, KEYED, key_id)
    head.seq, head.head_hash = seq, digest
    return result


def event_fields(event: AuditEvent) -> dict:
    return {"instance_id": event.instance_id, "kind": event.kind, "actor": event.actor,
            "at": utc_text(event.at), "element_id": event.element_id, "task_id": event.task_id}


def append_event(session: Session, stream: str, kind: str, *, at: datetime, actor: str | None,
                 instance_id: int | None = None, element_id: str | None = None,
                 task_id: str | None = None, data=None) -> AuditEvent:
    """Add one event to ``stream`` in the caller's transaction and return it (keyed link)."""
    event = AuditEvent(stream=stream, instance_id=instance_id, kind=kind, actor=actor, at=at,
                       element_id=element_id, task_id=task_id, data=canonical_json(data or {}))
    sealed = seal(session, stream, event_fields(event), event.data)
    event.seq, event.prev_hash, event.hash = sealed.seq, sealed.prev_hash, sealed.hash
    event.alg, event.key_id = sealed.alg, sealed.key_id
    session.add(event)
    return event


@dataclass
class ChainReport:
    """One chain checked: ``ok``; ``first_bad`` (the first bad seq, 0 for the chain as a
    whole, None when ok) and one line per problem; ``count`` links, ``legacy`` of them
    unkeyed; the last link's (``head_seq``, ``head_hash``) as found."""

    stream: str
    count: int = 0
    legacy: int = 0
    legacy_prefix: int = 0                # legacy links opening the chain (the only allowed place)
    head_seq: int = 0
    head_hash: str = GENESIS
    first_bad: int | None = None
    problems: list[str] = field(default_factory=list)
    # (seq, kind) per problem, kind one of LINK_PROBLEMS or a caller's own (for pages)
    findings: list[tuple[int, str | None]] = field(default_factory=list)
    watched_hash: str | None = None       # the hash of link ``watch`` (verify_links)

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, seq: int, why: str, kind: str | None = None) -> None:
        if self.first_bad is None or seq < self.first_bad:
            self.first_bad = seq
        self.problems.append(why)
        self.findings.append((seq, kind))


class EventSource:
    """The chains stored in ``audit_event`` (every stream the engine writes)."""

    def chains(self, session: Session, stream: str | None = None) -> Iterable[tuple[str, list]]:
        """(stream, its rows ordered by seq) for one stream or all, read in batches."""
        # Plain rows, not ORM objects: a county's record is millions of links, read whole.
        query = select(*AuditEvent.__table__.columns).order_by(AuditEvent.stream, AuditEvent.seq)
        if stream is not None:
            query = query.where(AuditEvent.stream == stream)
        current, rows = None, []
        for event in session.execute(query.execution_options(yield_per=1000)):
            if event.stream != current and rows:
                yield current, rows
                rows = []
            current = event.stream
            rows.append(event)
        if rows:
            yield current, rows

    @staticmethod
    def fields(event: AuditEvent) -> tuple[dict, str]:
        return event_fields(event), event.data

    @staticmethod
    def describe(event: AuditEvent) -> str:
        return f"#{event.seq} ({event.kind})"


EVENTS = EventSource()


def verify_links(stream: str, rows: Iterable, source, keys: AuditKeyring | None,
                 head: AuditStream | None, watch: int | None = None) -> ChainReport:
    """Recompute one chain's links (rows ordered by seq, each with seq, prev_hash, hash,
    alg, key_id; read once, so a generator will do); report missing, inserted, reordered,
    edited or downgraded links and a head that disagrees with the last link. The hash of
    link ``watch`` (a checkpoint's recorded seq) is kept in ``watched_hash``."""
    report = ChainReport(stream)
    prev, expected, keyed_seen = GENESIS, 1, False
    for row in rows:
        name = source.describe(row)
        if row.seq != expected:
            report.fail(min(expected, row.seq), f"{name}: link #{expected} is missing (deleted or renumbered)", "missing")
        if row.prev_hash != prev:
            report.fail(row.seq, f"{name}: does not link to the link before it", "unlinked")
        fields, data = source.fields(row)
        digest = link_hash(keys, row.alg, row.key_id, row.prev_hash, stream, row.seq, fields, data)
        if row.alg == LEGACY:
            report.legacy += 1
            report.legacy_prefix += 0 if keyed_seen else 1
            if keyed_seen:
                report.fail(row.seq, f"{name}: an unkeyed (legacy) link after keyed ones: a forged downgrade", "downgraded")
        else:
            keyed_seen = True
        if digest is None:
            report.fail(row.seq, f"{name}: signed with an unknown algorithm or key ({row.alg}, key {row.key_id})",
                        "unknown_key")
        elif digest != row.hash:
            report.fail(row.seq, f"{name}: altered after it was written (its hash does not match)", "altered")
        if row.seq == watch:
            report.watched_hash = row.hash
        report.count += 1
        prev, expected = row.hash, row.seq + 1
    report.head_seq, report.head_hash = expected - 1, prev
    if head is None and rows:
        report.fail(0, "the chain head record is missing", "head_missing")
    elif head is not None and (head.seq, head.head_hash) != (report.head_seq, prev):
        report.fail(min(head.seq, report.head_seq) + 1,
                    f"the chain ends at #{report.head_seq} but its head record says #{head.seq}", "head_mismatch")
    return report


def verify_chain(session: Session, stream: str, keys: AuditKeyring | None = None, source=EVENTS) -> ChainReport:
    """Recompute the chain of ``stream`` alone (keys: the session's by default). Without a
    checkpoint it cannot see a head rolled back with the newest links: ``verify_all`` can."""
    keys = keys or session_keys(session)
    rows = next((rows for _, rows in source.chains(session, stream)), [])
    return verify_links(stream, rows, source, keys, session.get(AuditStream, stream))
