"""The background worker: periodic jobs run by ``baoxue worker`` (several may run at once).

Jobs: ``timers`` (fire due timers), ``outbox`` (deliver pending messages and attendance
events, apply the cases' ``case_event`` messages to the children's status: ledger.child_status),
``continue`` (engine steps a command left for later), ``check``, ``audit-checkpoint``. Each job
is a ``PeriodicJob``: a name, how often it runs (seconds) and a function of the engine that returns a short line to log (or None when it did nothing). A job that raises
is logged and retried with back-off; the worker never dies of a transient database error.
Jobs must be safe to run in several workers at the same moment (locks in the database,
never in the process).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

log = logging.getLogger("baoxue.worker")
SWEEP_LIMIT = 200  # timers per sweep: a backlog is worked off in bounded transactions


@dataclass
class PeriodicJob:
    name: str
    every: float                              # seconds between runs
    run: Callable[[object], str | None]       # run(engine) -> line to log, or None
    failures: int = 0
    next_at: float = field(default=0.0)


def _fire_timers(engine) -> str | None:
    from ledger.agreement_check import after_step as agreements_after_step
    from ledger.child_status import apply_case_events
    fired = engine.timers.sweep(limit=SWEEP_LIMIT)
    if not fired:
        return None
    applied = apply_case_events(engine)   # a timer's step may tell the ledger something
    agreements_after_step(engine)         # an agreement's reminder or overdue (ledger.agreement_check)
    shown = ", ".join(f"#{f.instance_id} {f.process_key}/{f.element_id}" for f in fired[:10])
    return (f"fired {len(fired)} timer(s): {shown}" + (" ..." if len(fired) > 10 else "")
            + (f"; {applied} case event(s) applied" if applied else ""))


CONTINUE_LIMIT = 20  # instances continued per run: each is one transaction of bounded steps


def _continue_instances(engine) -> str | None:
    """Engine steps a command left for later (a long loop: engine.runtime.steps)."""
    ran = engine.runtime.continue_pending(limit=CONTINUE_LIMIT)
    return f"continued {ran} instance(s)" if ran else None


def _deliver_outboxes(engine) -> str | None:
    """Messages and attendance events left pending (a crash after commit, a busy or failed
    case): delivered at least once, applied once (engine.messages, ledger.case_handoff)."""
    from ledger.agreement_check import after_step as agreements_after_step
    from ledger.case_handoff import dispatch_pending
    from ledger.child_status import apply_case_events
    messages, handoffs = engine.messages.deliver_pending(), dispatch_pending(engine)
    applied = apply_case_events(engine)     # what the cases told the ledger (the child's status)
    applied += agreements_after_step(engine)  # and what the agreement processes told or asked it
    if not (messages or handoffs or applied):
        return None
    return f"{messages} message(s), {handoffs} attendance event(s) handed on, {applied} case event(s) applied"


CHECK_POLL = 3600.0  # seconds between looks at whether the consistency check is due


def consistency_check(period_hours: float) -> Callable[[object], str | None]:
    """The daily ``baoxue check`` as a job: runs when the last stored run (by any worker, or
    by ``baoxue check``) is ``period_hours`` old or there is none, and stores its result.
    Two workers that look at the same moment may both run it: harmless, two rows."""
    period = timedelta(hours=period_hours)

    def run(engine) -> str | None:
        last = engine.consistency.last()
        if last is not None and engine.clock() - last.at < period:
            return None
        report = engine.consistency.run()
        if report.ok:
            return f"consistent ({report.duration_ms} ms)"
        log.warning("consistency check: %d finding(s); see /admin/incidents or baoxue check", len(report.findings))
        return f"{len(report.findings)} finding(s) ({report.duration_ms} ms)"
    return run


def audit_checkpoint_job(path, minutes: float) -> PeriodicJob:
    """Verify the audit record and append a checkpoint to ``path`` every ``minutes``
    (docs/operations.md "The audit record"); the first run is at the worker's start. A
    record that does not verify, or a file of another database, gets no line."""
    from engine.audit import ForeignCheckpointFile
    from ledger.audit_record import write_record_checkpoint

    from .cli_errors import foreign_checkpoint_file

    def run(engine) -> str | None:
        try:
            result = write_record_checkpoint(engine, path)
        except ForeignCheckpointFile as exc:
            # A setting mistake, not a bug: one line, no traceback; retried next period.
            log.error("audit-checkpoint: %s", foreign_checkpoint_file(exc))
            return None
        if not result.written:
            return (f"audit record BROKEN in {len(result.report.bad)} place(s), see the errors; "
                    f"no checkpoint written to {path}")
        return f"checkpoint #{result.n} of {result.streams} chains written to {path}; audit record intact"
    return PeriodicJob("audit-checkpoint", minutes * 60, run)


AGREEMENTS_EVERY = 3600.0   # seconds between the agreements' daily checks (each is idempotent)


def agreements_job(open_day: str | None) -> PeriodicJob:
    """The agreements' daily check (``ledger.agreement_check.daily_check``), hourly: opens the
    year's campaign on ``open_day``, adds newcomers' signings, withdraws leavers'."""
    from ledger.agreement_check import daily_check
    return PeriodicJob("agreements", AGREEMENTS_EVERY, lambda engine: daily_check(engine, open_day).summary())


def default_jobs(interval: float, settings=None, *, check_hours: float | None = None) -> list[PeriodicJob]:
    """The jobs of ``baoxue worker``: ``interval`` is the timer sweep's and the outboxes'
    period in seconds; the consistency check runs every ``check_hours`` (default:
    ``settings.check_hours``, else 24); with ``settings`` (api.settings.Settings) also the
    audit checkpoint."""
    hours = check_hours or (settings.check_hours if settings is not None else 24.0)
    jobs = [PeriodicJob("timers", interval, _fire_timers),
            PeriodicJob("outbox", interval, _deliver_outboxes),
            PeriodicJob("check", min(CHECK_POLL, hours * 3600), consistency_check(hours)),
            PeriodicJob("continue", interval, _continue_instances)]
    if settings is not None:
        jobs.append(audit_checkpoint_job(settings.audit_checkpoint_file, settings.audit_checkpoint_minutes))
        jobs.append(agreements_job(settings.agreement_open_day))
    return jobs


def run_forever(engine, jobs: list[PeriodicJob], *, tick: float = 0.5) -> None:
    """Run ``jobs`` until interrupted (Ctrl-C); each at its own period, with back-off after
    a failure (doubling, at most 300 s)."""
    log.info("worker started: %s", ", ".join(f"{job.name} every {job.every:g} s" for job in jobs))
    try:
        while True:
            run_due(engine, jobs, time.monotonic())
            time.sleep(tick)
    except KeyboardInterrupt:
        log.info("worker stopped")


def run_due(engine, jobs: list[PeriodicJob], now: float) -> None:
    """Run every job whose time has come (one pass of the loop)."""
    for job in jobs:
        if now < job.next_at:
            continue
        try:
            line = job.run(engine)
            job.failures = 0
            if line:
                log.info("%s: %s", job.name, line)
        except Exception:  # noqa: BLE001 - keep the worker alive; the next run retries
            job.failures += 1
            log.exception("%s failed (%d in a row); retrying", job.name, job.failures)
        delay = job.every if not job.failures else min(job.every * (2 ** min(job.failures, 8)), 300)
        job.next_at = now + delay
