"""Applying the domain's own messages exactly once: messages a process throws for the ledger
(``case_event`` → the child's status, ``agreement_event`` → the agreement register) are kept
by the engine; a ledger row keyed by the message id marks each as applied, so a sweep in
several processes at once applies each one once (the unique key refuses a second)."""
from __future__ import annotations

from datetime import timedelta
from typing import Callable

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from engine.outbox import wall_clock
from engine.persistence.models import Message

BATCH = 100


def apply_pending(engine, name: str, record, apply_one: Callable[..., int], limit: int = 1000) -> int:
    """Apply messages called ``name`` that have no ``record`` row (a model with a unique
    ``message_id``) yet, oldest first, each in its own transaction: ``apply_one(engine,
    session, message_id)`` returns how many it applied (0 or 1). Returns the total, at most
    ``limit``. One applied elsewhere meanwhile (IntegrityError) is skipped."""
    applied, after = 0, 0
    while applied < limit:
        with engine.db.read() as session:
            ids = list(session.scalars(select(Message.id).where(
                Message.name == name, Message.id > after,
                ~exists().where(record.message_id == Message.id)).order_by(Message.id).limit(BATCH)))
        if not ids:
            break
        for message_id in ids:
            after = message_id
            try:
                with engine.db.transaction() as session:
                    applied += apply_one(engine, session, message_id)
            except IntegrityError:   # another process applied it first
                continue
    return applied


def pending_older_than(session, name: str, record, older_than: timedelta) -> list[Message]:
    """Messages called ``name`` still without a ``record`` row ``older_than`` after they were
    thrown, for ``baoxue check``: the ledger is behind its processes."""
    return list(session.scalars(select(Message).where(
        Message.name == name, Message.received_at < wall_clock() - older_than,
        ~exists().where(record.message_id == Message.id)).order_by(Message.id)))
