"""How long verifying the whole audit record takes, and a checkpoint (verify + write).

    .venv/bin/python bench/audit_verify.py [--streams 2000] [--per-stream 50] [--access 50000] [--pg URL]

Prints figures, asserts nothing about timing. Fills a fresh database (SQLite in a temp file,
or a fresh PostgreSQL schema that is dropped afterwards) with ``--streams`` instance-like
chains of ``--per-stream`` keyed events each (written with ``append_event``, not through
workflows: the chain is what is measured) and ``--access`` access-log rows, then times
``ledger.audit_record.verify_record`` (what ``baoxue audit verify`` and the worker's
checkpoint run) and ``write_record_checkpoint``, each three times; also the checkpoint
file's size.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from api.settings import Settings  # noqa: E402
from api.wiring import build_engine  # noqa: E402
from engine.audit import append_event, instance_stream  # noqa: E402
from ledger.access_log import log_access  # noqa: E402
from ledger.audit_record import verify_record, write_record_checkpoint  # noqa: E402

BATCH = 2000


def fill(engine, streams: int, per_stream: int, access: int) -> None:
    start = datetime(2025, 9, 1, tzinfo=timezone.utc)
    pending = [(s, n) for s in range(1, streams + 1) for n in range(per_stream)]
    for offset in range(0, len(pending), BATCH):
        with engine.db.transaction() as session:
            for stream, n in pending[offset:offset + BATCH]:
                append_event(session, instance_stream(stream), "task_ready", at=start + timedelta(minutes=n),
                             actor=f"user-{n % 7}", instance_id=stream, element_id=f"step_{n}",
                             data={"name": f"step {n}", "role": "head_teacher", "org_unit": "zx-3-1"})
    for offset in range(0, access, BATCH):
        with engine.db.transaction() as session:
            for n in range(offset, min(access, offset + BATCH)):
                log_access(session, f"user-{n % 11}", "view", f"child:{n % 900}", {"page": "detail"},
                           start + timedelta(seconds=n))


def timed(fn, runs: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--per-stream", type=int, default=50)
    parser.add_argument("--access", type=int, default=50000)
    parser.add_argument("--pg", metavar="URL", help="PostgreSQL URL (a schema is created and dropped)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="baoxue-audit-bench-"))
    schema, admin = None, None
    url = f"sqlite:///{workdir / 'bench.db'}"
    if args.pg:
        schema, admin = f"bench_{uuid.uuid4().hex[:8]}", create_engine(args.pg)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{args.pg}{'&' if '?' in args.pg else '?'}options=-csearch_path%3D{schema}"
    settings = Settings.from_env(database_url=url, var_dir=workdir, secret_key="bench",
                                 audit_key="bench-audit-key-0123456789")
    engine = build_engine(settings)
    try:
        engine.migrate()
        began = time.perf_counter()
        fill(engine, args.streams, args.per_stream, args.access)
        links = args.streams * args.per_stream + args.access
        print(f"{'PostgreSQL' if args.pg else 'SQLite'}: {args.streams} chains x {args.per_stream} events "
              f"+ {args.access} access rows = {links} links (filled in {time.perf_counter() - began:.1f} s)")
        seconds, report = timed(lambda: verify_record(engine, settings.audit_checkpoint_file))
        assert report.ok, [r.problems[:1] for r in report.bad]
        print(f"verify_record (no checkpoint yet): {seconds:.2f} s median of 3 ({links / seconds:,.0f} links/s)")
        seconds, result = timed(lambda: write_record_checkpoint(engine, settings.audit_checkpoint_file))
        assert result.report.ok
        print(f"write_record_checkpoint (verify + line): {seconds:.2f} s median of 3")
        size = settings.audit_checkpoint_file.stat().st_size
        print(f"checkpoint file after 3 lines: {size / 1024:.0f} KiB (first line holds every head; "
              "later lines only the changed ones)")
    finally:
        engine.close()
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
