"""The timer worker's sweep: fire every due timer exactly once.

Jobs are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several
workers can sweep at once without firing a timer twice; on SQLite the write lock taken at
``BEGIN IMMEDIATE`` serializes sweeps. Each job fires in the transaction that claims it.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime

from sqlalchemy import select

from .errors import Conflict
from .persistence.models import ProcessInstance, TimerJob
from .repository import next_start_time
from .runtime.commands import FireTimers, StartInstance
from .runtime.executor import PendingFailure
from .runtime.locking import lock_instance

log = logging.getLogger(__name__)


class TimerService:
    def __init__(self, engine):
        self.engine = engine

    def fire_due(self, now: datetime | None = None, limit: int | None = None) -> int:
        """Fire the timers due at ``now`` (default: the engine clock); returns how many fired.
        ``limit`` bounds how many jobs one call works on (the worker's sweep size).

        An instance whose step fails gets an incident (its job stays waiting and is skipped
        while the instance is in error). Timers that become due because others fired (a
        timer after a timer) are fired in the same sweep.
        """
        now = now or self.engine.clock()
        fired = attempts = 0
        tried: set[int] = set()   # a job that did not fire is not claimed again in this sweep
        while limit is None or attempts < limit:
            count = self._fire_one(now, tried)
            if count is None:
                break
            fired, attempts = fired + count, attempts + 1
        self.engine.messages.deliver_pending()
        return fired

    def _fire_one(self, now, tried: set[int]) -> int | None:
        try:
            with self.engine.db.transaction() as session:
                return self._claim_and_fire(session, now, tried)
        except PendingFailure as failure:
            # Rolled back: an event job stays waiting and is skipped while its instance is in
            # error; a start job is consumed now (its instance exists, in error) so that it
            # does not start a new failing instance on every sweep.
            err = self.engine.executor.record_failure(failure)
            log.warning("timer step failed: %s", err)
            if failure.job_id is not None:
                with self.engine.db.transaction() as session:
                    self._consume_start(session, session.get(TimerJob, failure.job_id), now)
            return 0
        except Conflict:
            return 0  # a clash (Busy) or the instance moved on: the job, if still due, stays waiting

    def _claim_and_fire(self, session, now, tried: set[int]) -> int | None:
        # Strictly before now, as SpiffWorkflow's has_fired compares (a timer due at exactly
        # ``now`` fires on the next sweep). The candidate is read without a lock: locks are
        # taken in the order of engine.runtime.locking (the instance first), else a worker
        # holding a job and a user holding the instance would deadlock.
        candidate = session.execute(
            select(TimerJob.id, TimerJob.kind, TimerJob.instance_id)
            .outerjoin(ProcessInstance, TimerJob.instance_id == ProcessInstance.id)
            .where(TimerJob.status == "waiting", TimerJob.due_at < now, TimerJob.id.not_in(tried))
            .where((ProcessInstance.status.is_(None)) | (ProcessInstance.status == "active"))
            .order_by(TimerJob.due_at, TimerJob.id).limit(1)).first()
        if candidate is None:
            return None
        job_id, kind, instance_id = candidate
        tried.add(job_id)
        if kind == "start":
            job = session.scalars(self._locked(select(TimerJob).where(
                TimerJob.id == job_id, TimerJob.status == "waiting"))).first()
            return 0 if job is None else self._fire_start(session, job, now)
        # Another worker or a person holds the instance: it is theirs now, the next sweep
        # comes back to it (nothing is lost: the job stays waiting).
        instance = lock_instance(session, instance_id, skip_locked=True)
        if instance is None or instance.status != "active":
            return 0
        # Read under the instance lock: what an earlier holder fired is no longer waiting.
        due_ids = list(session.scalars(select(TimerJob.task_id).where(
            TimerJob.instance_id == instance_id, TimerJob.status == "waiting", TimerJob.due_at < now)))
        if not due_ids:
            return 0
        _, fired, _, _ = self.engine.executor.execute(instance_id, FireTimers(due_ids), actor="timer",
                                                      now=now, session=session)
        return fired

    def _locked(self, query):
        return query.with_for_update(skip_locked=True) if self.engine.db.is_postgres else query

    def _fire_start(self, session, job, now) -> int:
        self._consume_start(session, job, now)
        try:
            # Same transaction: the job is consumed only if the instance is really started.
            self.engine.runtime.start_definition(job.definition_id, {}, actor="timer", now=now,
                                                 command=StartInstance(timer=True), session=session)
        except PendingFailure as failure:
            failure.job_id = job.id
            raise
        return 1

    def _consume_start(self, session, job, now) -> None:
        job.status, job.fired_at = "fired", now
        if job.repeat:
            following = next_start_time(job.due_at, json.loads(job.repeat), now)
            if following is not None:
                session.add(TimerJob(kind="start", definition_id=job.definition_id, element_id=job.element_id,
                                     due_at=following[0], status="waiting", repeat=json.dumps(following[1])))
        session.flush()
