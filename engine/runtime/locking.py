"""The instance lock, and what counts as a transient database clash.

Lock order (the rule that keeps writers of one instance from deadlocking): a transaction
that writes any row belonging to an instance (its workflow state, human tasks, timer jobs,
subscriptions, audit chain) first takes that instance's row lock with ``lock_instance``;
one that writes several instances locks them in ascending id order. On PostgreSQL this is
``SELECT ... FOR UPDATE``: a second writer of the same instance waits for the first to
commit, then reads what it wrote (READ COMMITTED). On SQLite every write transaction holds
the database lock from ``BEGIN IMMEDIATE``, which serializes writers anyway.
"""
from __future__ import annotations

import random
import time
from typing import Callable, Iterable, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from ..errors import Busy
from ..persistence.models import ProcessInstance

T = TypeVar("T")
# PostgreSQL SQLSTATEs of clashes that a repeat resolves: serialization failure, deadlock,
# lock not available (NOWAIT), query cancelled by lock_timeout / statement_timeout.
_TRANSIENT_STATES = {"40001", "40P01", "55P03", "57014"}


def lock_instance(session, instance_id: int, *, skip_locked: bool = False) -> ProcessInstance | None:
    """Lock instance ``instance_id`` for the rest of ``session``'s transaction and return its
    fresh row (None if there is no such instance, or with ``skip_locked`` if another
    transaction holds it)."""
    query = select(ProcessInstance).where(ProcessInstance.id == instance_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=skip_locked)
    return session.execute(query.execution_options(populate_existing=True)).scalar_one_or_none()


def lock_instances(session, instance_ids: Iterable[int]) -> None:
    """Lock several instances, in ascending id order (see the module's lock order)."""
    for instance_id in sorted(set(instance_ids)):
        lock_instance(session, instance_id)


def is_transient(exc: BaseException) -> bool:
    """True for a database error that a repeat of the whole transaction may not meet again:
    a deadlock, a serialization failure, a lock timeout, SQLite's "database is locked", a
    race on a unique index, or a stale optimistic version."""
    if isinstance(exc, (StaleDataError, IntegrityError)):
        return True
    if isinstance(exc, OperationalError):
        state = getattr(getattr(exc, "orig", None), "sqlstate", None)
        return state in _TRANSIENT_STATES or "database is locked" in str(exc) or state is None
    return False


def as_busy(exc: DBAPIError | StaleDataError) -> Busy:
    """The Busy (409, retryable) a transient clash becomes; never the database's own text."""
    return Busy("该案件刚被他人或系统同时修改，请刷新后重试 "
                "(the instance was changed at the same moment by someone else; reload and try again)")


def retry_transient(call: Callable[[], T], *, attempts: int = 8, base_delay: float = 0.02) -> T:
    """Run ``call`` again after a Busy (with jittered exponential back-off, at most about
    ``base_delay * 2**attempts`` seconds in all); the last Busy is raised. For the system's
    own senders, which must not drop what they send."""
    for attempt in range(attempts):
        try:
            return call()
        except Busy:
            if attempt == attempts - 1:
                raise
            time.sleep(base_delay * (2 ** attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")
