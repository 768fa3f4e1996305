"""How long ``baoxue check`` (``engine.consistency``) takes per open instance.

    .venv/bin/python bench/consistency_check.py [--instances 400] [--no-pg] [--pg-url URL]

Prints figures, asserts nothing about timing. For each backend (SQLite in a temp file;
PostgreSQL in a fresh schema created and dropped here) it starts ``--instances`` open cases,
half waiting on a user task with two boundary timers (one fired), half waiting for a message
(tests/engine/bpmn/timers.bpmn, messages.bpmn), then runs the whole check three times and
prints the fastest total and the time per instance. Starting the cases is not timed.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.engine_step import DEFAULT_PG_URL, pg_url  # noqa: E402
from engine.clock import FixedClock  # noqa: E402
from engine.process_engine import EngineConfig, ProcessEngine  # noqa: E402
from engine.sandbox import shutdown_workers  # noqa: E402

BPMN = ROOT / "tests" / "engine" / "bpmn"


def measure(url: str, instances: int) -> tuple[float, int]:
    """(fastest of three runs in ms, findings) on a database holding ``instances`` open cases."""
    clock = FixedClock(datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc))
    engine = ProcessEngine(EngineConfig(database_url=url, clock=clock, audit_key=b"bench-audit-key-0123456789"))
    try:
        engine.migrate()
        engine.repository.deploy_paths([BPMN / "timers.bpmn", BPMN / "messages.bpmn"], actor="bench")
        for i in range(instances):
            if i % 2:
                engine.runtime.start("wait_payment", {"order_id": i})
            else:
                engine.runtime.start("timers", {"wait_for": "P1D"})
        engine.timers.fire_due(clock() + timedelta(minutes=31))
        runs = [engine.consistency.run(record=False) for _ in range(3)]
        return min(r.duration_ms for r in runs), len(runs[-1].findings)
    finally:
        engine.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=400)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            backends = [("sqlite", f"sqlite:///{tmp}/bench.db")]
            for name, url in backends:
                report(name, *measure(url, args.instances), args.instances)
        if not args.no_pg:
            with pg_url(args.pg_url) as url:
                report("postgresql", *measure(url, args.instances), args.instances)
    finally:
        shutdown_workers()
    return 0


def report(name: str, total_ms: float, findings: int, instances: int) -> None:
    print(f"{name:10s} {instances} open instances: check {total_ms} ms "
          f"({total_ms / instances:.2f} ms per instance), {findings} findings")


if __name__ == "__main__":
    sys.exit(main())
