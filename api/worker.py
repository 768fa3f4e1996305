"""The background worker: periodic jobs run by ``baoxue worker`` (several may run at once).

Each job is a ``PeriodicJob``: a name, how often it runs (seconds) and a function of the
engine that returns a short line to log (or None when it did nothing). A job that raises
is logged and retried with back-off; the worker never dies of a transient database error.
Jobs must be safe to run in several workers at the same moment (locks in the database,
never in the process).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
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
    fired = engine.timers.fire_due(limit=SWEEP_LIMIT)
    return f"fired {fired} timer(s)" if fired else None


def audit_checkpoint_job(path, minutes: float) -> PeriodicJob:
    """Verify the audit record and append a checkpoint to ``path`` every ``minutes``
    (README "The audit record"); the first run is at the worker's start."""
    from ledger.audit_record import write_record_checkpoint

    def run(engine) -> str:
        result = write_record_checkpoint(engine, path)
        state = "intact" if result.report.ok else f"BROKEN in {len(result.report.bad)} place(s), see the errors"
        return f"checkpoint #{result.n} of {result.streams} chains written to {path}; audit record {state}"
    return PeriodicJob("audit-checkpoint", minutes * 60, run)


def default_jobs(interval: float, settings=None) -> list[PeriodicJob]:
    """The jobs of ``baoxue worker``; ``interval`` is the timer sweep's period in seconds;
    with ``settings`` (api.settings.Settings) also the audit checkpoint."""
    jobs = [PeriodicJob("timers", interval, _fire_timers)]
    if settings is not None:
        jobs.append(audit_checkpoint_job(settings.audit_checkpoint_file, settings.audit_checkpoint_minutes))
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
