"""Duelling timer workers (issue 8, fault 3): any number of ``baoxue worker`` processes and
``baoxue timers fire-due`` runs against one PostgreSQL fire each due timer exactly once, with
no deadlock, no healthy instance put into error, and nothing lost when one is killed.

``--instances`` instances of a diagram with two timers each (tests/engine/bpmn/timers.bpmn)
are started on a clock two days back, so every timer is due now. Then ``--workers``
``baoxue worker`` processes and ``--sweeps`` ``baoxue timers fire-due`` processes start at
once; one worker is killed with SIGKILL after ``--kill-after`` seconds. When no due timer is
left, the script prints how often each timer fired, the exit codes, the incidents and the
instances in error. Exit 1 if any timer fired twice or never, or anything is in error.

    .venv/bin/python -m tests.stress.workers [--pg URL] [--instances 300] [--workers 2] [--sweeps 3]
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from api.settings import ROOT
from engine.clock import FixedClock
from engine.persistence.models import AuditEvent, Incident, ProcessInstance, TimerJob
from engine.process_engine import EngineConfig, ProcessEngine

from .common import AUDIT_KEY, ENV, arguments, pg_schema, settings_for

DIAGRAM = ROOT / "tests" / "engine" / "bpmn" / "timers.bpmn"


def main() -> int:
    args = arguments(__doc__.splitlines()[0], instances=(300, "instances, two due timers each"),
                     workers=(2, "baoxue worker processes"), sweeps=(3, "concurrent baoxue timers fire-due runs"),
                     **{"kill-after": (1.0, "seconds before one worker is killed with SIGKILL")})
    with pg_schema(args.pg) as url:
        past = FixedClock(datetime.now(timezone.utc) - timedelta(days=2))
        setup = ProcessEngine(EngineConfig(database_url=url, clock=past, audit_key=AUDIT_KEY))
        _migrate_all(url)
        setup.repository.deploy_paths([DIAGRAM], actor="stress")
        ids = [setup.runtime.start("timers", {"wait_for": "P1D"}).instance_id for _ in range(args.instances)]
        env = {**os.environ, **ENV, "BAOXUE_DATABASE_URL": url}
        cli = [sys.executable, "-m", "api.cli"]
        started = time.perf_counter()
        workers = [subprocess.Popen(cli + ["worker", "--interval", "0.2"], cwd=ROOT, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(args.workers)]
        sweeps = [subprocess.Popen(cli + ["timers", "fire-due"], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(args.sweeps)]
        time.sleep(args.kill_after)
        workers[0].send_signal(signal.SIGKILL)
        sweep_codes = [p.wait() for p in sweeps]
        _wait_until_fired(setup, deadline=time.perf_counter() + 300)
        elapsed = time.perf_counter() - started
        for worker in workers[1:]:
            worker.terminate()
        for worker in workers:
            worker.wait()
        report = _report(setup, ids)
        setup.close()
    fired = report["fired_per_timer"]
    print(f"timer workers on PostgreSQL: {args.instances} instances, {2 * args.instances} due timers, "
          f"{args.workers} workers (one killed after {args.kill_after:g} s), {args.sweeps} fire-due runs, {elapsed:.1f} s")
    print(f"  fire-due exit codes: {sweep_codes}")
    print(f"  timer_fired events per instance: {dict(sorted(Counter(report['per_instance'].values()).items()))}")
    print(f"  jobs: {dict(report['jobs'])}; fired once: {fired.get(1, 0)}, twice or more: "
          f"{sum(v for k, v in fired.items() if k > 1)}")
    print(f"  incidents: {report['incidents']}, instances in error: {report['in_error']}")
    ok = (set(report["per_instance"].values()) == {2} and report["incidents"] == 0 and report["in_error"] == 0
          and report["jobs"].get("waiting", 0) == 0 and all(code == 0 for code in sweep_codes))
    print("  OK" if ok else "  FAILED")
    return 0 if ok else 1


def _migrate_all(url) -> None:
    from api.wiring import build_engine
    engine = build_engine(settings_for(url))
    engine.migrate()
    engine.close()


def _wait_until_fired(engine, deadline) -> None:
    while time.perf_counter() < deadline:
        with engine.db.read() as session:
            left = session.scalar(select(func.count()).select_from(TimerJob).where(TimerJob.status == "waiting"))
        if not left:
            return
        time.sleep(0.5)


def _report(engine, ids) -> dict:
    with engine.db.read() as session:
        per_instance = Counter(session.scalars(select(AuditEvent.instance_id).where(
            AuditEvent.kind == "timer_fired", AuditEvent.instance_id.in_(ids))))
        per_task = Counter(session.scalars(select(AuditEvent.task_id).where(
            AuditEvent.kind == "timer_fired", AuditEvent.instance_id.in_(ids))))
        jobs = Counter(session.scalars(select(TimerJob.status)))
        incidents = session.scalar(select(func.count()).select_from(Incident))
        in_error = session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.status == "error"))
    return {"per_instance": {i: per_instance.get(i, 0) for i in ids}, "fired_per_timer": Counter(per_task.values()),
            "jobs": jobs, "incidents": incidents, "in_error": in_error}


if __name__ == "__main__":
    sys.exit(main())
