"""Leases on outbox rows: the one way a dispatcher takes a pending row to work on.

An outbox table (the engine's ``message``, the domain's ``case_handoff``) has ``id``,
``status`` (``pending`` until applied), ``attempts``, ``next_attempt_at`` (back-off) and
``lease_until``. ``claim_next`` gives one row to one dispatcher for ``lease``: a dispatcher
that dies frees it when the lease runs out, so every row is delivered at least once; the
caller makes the application idempotent. Rows of one group (one correlation, one child)
are taken oldest first, and a younger one waits while an older one is pending.
Leases and back-off are operational time (the wall clock), never the movable engine clock.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import aliased


def wall_clock() -> datetime:
    return datetime.now(timezone.utc)


def backoff(attempts: int, maximum: timedelta) -> timedelta:
    """2, 4, 8 … seconds after the 1st, 2nd, 3rd … attempt, at most ``maximum``."""
    return min(timedelta(seconds=2 ** min(max(attempts, 1), 16)), maximum)


def claim_next(db, model, group: str, *, lease: timedelta, where: Callable | None = None,
               ignore_backoff: bool = False) -> int | None:
    """Lease the oldest due pending row of ``model`` whose ``group`` column has no older
    pending row; returns its id (None when there is none). ``where(now)`` narrows the rows
    (e.g. one id); ``ignore_backoff`` takes rows still waiting out a back-off too."""
    now = wall_clock()
    earlier = aliased(model)
    conditions = [model.status == "pending",
                  model.lease_until.is_(None) | (model.lease_until < now),
                  ~select(earlier.id).where(earlier.status == "pending", earlier.id < model.id,
                                            getattr(earlier, group) == getattr(model, group)).exists()]
    if not ignore_backoff:
        conditions.append(model.next_attempt_at.is_(None) | (model.next_attempt_at <= now))
    if where is not None:
        conditions.append(where(now))
    with db.transaction() as session:
        query = select(model).where(*conditions).order_by(model.id).limit(1)
        if db.is_postgres:
            query = query.with_for_update(skip_locked=True, of=model)
        row = session.scalars(query).first()
        if row is None:
            return None
        row.lease_until, row.attempts = now + lease, (row.attempts or 0) + 1
        return row.id
