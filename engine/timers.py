"""The timer worker's sweep: fire every due timer exactly once.

Jobs are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several
workers can sweep at once without firing a timer twice; on SQLite the write lock taken at
``BEGIN IMMEDIATE`` serializes sweeps. Each job fires in the transaction that claims it.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from datetime import datetime

from sqlalchemy import select

from .errors import Conflict
from .persistence.models import ProcessInstance, TimerJob
from .repository import next_start_time
from .runtime.commands import FireTimers, StartInstance
from .runtime.executor import PendingFailure
from .runtime.locking import lock_instance

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FiredTimer:
    """One timer a sweep fired.

    kind: ``event`` (a timer event of a running instance: boundary, intermediate, cycle) or
          ``start`` (a version's timer start event; ``instance_id`` is the instance it started)
    element_id, element_name: the timer event in the diagram (name None when it has none;
          for a failed step, the element that failed)
    due_at: when it was due (UTC)
    incident_id: set when the step the timer started failed: it rolled back and the instance
          waits in error for an administrator (the timer fires again after a retry)
    """
    kind: str
    instance_id: int
    process_key: str
    business_key: str | None
    element_id: str | None
    element_name: str | None
    due_at: datetime
    incident_id: int | None = None

    def to_dict(self) -> dict:
        return {**asdict(self), "due_at": self.due_at.isoformat()}


class TimerService:
    def __init__(self, engine):
        self.engine = engine

    def fire_due(self, now: datetime | None = None, limit: int | None = None) -> int:
        """Fire the timers due at ``now`` (default: the engine clock); returns how many fired
        without a failure (``sweep`` says which, and which failed)."""
        return sum(1 for f in self.sweep(now, limit) if f.incident_id is None)

    def sweep(self, now: datetime | None = None, limit: int | None = None) -> list[FiredTimer]:
        """Fire the timers due at ``now`` (default: the engine clock); returns what fired, in
        firing order; one whose step failed carries its ``incident_id``. ``limit`` bounds how
        many jobs one call works on (the worker's sweep size).

        An instance whose step fails gets an incident (its job stays waiting and is skipped
        while the instance is in error). Timers that become due because others fired (a
        timer after a timer) are fired in the same sweep.
        """
        now = now or self.engine.clock()
        fired: list[FiredTimer] = []
        attempts = 0
        tried: set[int] = set()   # a job that did not fire is not claimed again in this sweep
        while limit is None or attempts < limit:
            found = self._fire_one(now, tried)
            if found is None:
                break
            fired += found
            attempts += 1
        self.engine.messages.deliver_pending()
        return fired

    def _fire_one(self, now, tried: set[int]) -> list[FiredTimer] | None:
        try:
            with self.engine.db.transaction() as session:
                return self._claim_and_fire(session, now, tried)
        except PendingFailure as failure:
            # Rolled back: an event job stays waiting and is skipped while its instance is in
            # error; a start job is consumed now (its instance exists, in error) so that it
            # does not start a new failing instance on every sweep.
            err = self.engine.executor.record_failure(failure)
            log.warning("timer step failed: %s", err)
            with self.engine.db.transaction() as session:
                if failure.job_id is not None:
                    self._consume_start(session, session.get(TimerJob, failure.job_id), now)
                instance = session.get(ProcessInstance, err.instance_id)
                failed = self._fired("start" if failure.job_id is not None else "event", instance,
                                     err.element_id, now, session)
            return [replace(failed, incident_id=err.incident_id)]
        except Conflict:
            return []  # a clash (Busy) or the instance moved on: the job, if still due, stays waiting

    def _claim_and_fire(self, session, now, tried: set[int]) -> list[FiredTimer] | None:
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
            return [] if job is None else [self._fire_start(session, job, now)]
        # Another worker or a person holds the instance: it is theirs now, the next sweep
        # comes back to it (nothing is lost: the job stays waiting).
        instance = lock_instance(session, instance_id, skip_locked=True)
        if instance is None or instance.status != "active":
            return []
        # Read under the instance lock: what an earlier holder fired is no longer waiting.
        due = {job.task_id: job for job in session.scalars(select(TimerJob).where(
            TimerJob.instance_id == instance_id, TimerJob.status == "waiting", TimerJob.due_at < now))}
        if not due:
            return []
        due_at = {task_id: job.due_at for task_id, job in due.items()}
        self.engine.executor.execute(instance_id, FireTimers(list(due)), actor="timer", now=now, session=session)
        # The command marked the jobs it fired; the others were cancelled or moved on.
        return [self._fired("event", instance, job.element_id, due_at[job.task_id], session)
                for job in due.values() if job.status == "fired"]

    def _locked(self, query):
        return query.with_for_update(skip_locked=True) if self.engine.db.is_postgres else query

    def _fire_start(self, session, job, now) -> FiredTimer:
        self._consume_start(session, job, now)
        try:
            # Same transaction: the job is consumed only if the instance is really started.
            outcome = self.engine.runtime.start_definition(job.definition_id, {}, actor="timer", now=now,
                                                           command=StartInstance(timer=True), session=session)
        except PendingFailure as failure:
            failure.job_id = job.id
            raise
        return self._fired("start", session.get(ProcessInstance, outcome.instance_id), job.element_id,
                           job.due_at, session)

    def _fired(self, kind, instance, element_id, due_at, session) -> FiredTimer:
        definition = self.engine.repository.get(instance.definition_id, session)
        spec, subprocess_specs = self.engine.repository.specs(definition, session)
        names = {ts.bpmn_id: ts.bpmn_name for sp in (spec, *subprocess_specs.values()) if sp is not None
                 for ts in sp.task_specs.values()}
        return FiredTimer(kind, instance.id, instance.process_key, instance.business_key, element_id,
                          names.get(element_id), due_at)

    def _consume_start(self, session, job, now) -> None:
        job.status, job.fired_at = "fired", now
        if job.repeat:
            following = next_start_time(job.due_at, json.loads(job.repeat), now)
            if following is not None:
                session.add(TimerJob(kind="start", definition_id=job.definition_id, element_id=job.element_id,
                                     due_at=following[0], status="waiting", repeat=json.dumps(following[1])))
        session.flush()
