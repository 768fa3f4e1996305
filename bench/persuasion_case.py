"""What one persuasion case costs: the attendance report, each task completion and each timer
sweep on processes/persuasion.bpmn, end to end through the REST API (test client), and the
size of the stored workflow state as the case grows.

    .venv/bin/python bench/persuasion_case.py [--no-pg] [--pg-url URL] [--cases 5]

Prints medians (ms) per step kind and the state size at each tier; asserts nothing about
timing. Each case walks the full escalation (call, visit, village, report, notice, deadline,
judicial office, leader, joint round) and then returns, is struck off and followed up to
closure. SQLite in a temp file; PostgreSQL in a fresh schema (default
postgresql+psycopg://postgres@127.0.0.1:5432/test) unless --no-pg.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, time as dtime
import uuid
from collections import defaultdict
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.app import create_app  # noqa: E402
from api.settings import ROOT, Settings  # noqa: E402
from api.wiring import build_engine  # noqa: E402
from engine.persistence.models import WorkflowState  # noqa: E402
from tests.processes.forms_data import (RECEIPT, CALL, CONFIRM, DECIDE, JOINT, LEGAL, NOTICE, REGISTRY,  # noqa: E402
                                        REPORT, STRIKE, VILLAGE, VISIT, WEEK)
from tests.processes.harness import P, U, Town  # noqa: E402


class Timed(Town):
    """The harness, timing every API call by kind."""

    def __init__(self, *args):
        super().__init__(*args)
        self.times: dict[str, list[float]] = defaultdict(list)

    def timed(self, kind, call, *args, **kwargs):
        started = time.perf_counter()
        result = call(*args, **kwargs)
        self.times[kind].append((time.perf_counter() - started) * 1000)
        return result

    def state_size(self, instance_id: int) -> int:
        with self.engine.db.read() as session:
            return len(session.get(WorkflowState, instance_id).state)


def walk(town: Timed, sizes: dict[str, list[int]]) -> None:
    """One full case for child 1 (a fresh town per case)."""
    def report(day, status):
        if town.clock() < datetime.combine(date.fromisoformat(day), dtime(16), town.clock().tzinfo):
            town.at(day)             # as the harness would, so that the token below stays valid
        town.headers("pzx")          # signing in (scrypt) is not what this measures
        town.timed("attendance report", town.report, day, {1: status})

    def complete(user, element, data):
        town.headers(user)
        town.timed("complete task", town.complete, user, element, data)
    report("2025-09-29", U)
    case = town.case(1).id
    complete("ht31", "phone_call", CALL)
    for day in ("2025-09-30", "2025-10-09"):
        report(day, U)
    complete("ht31", "home_visit", VISIT)
    report("2025-10-10", U)
    complete("vsjt", "village_check", VILLAGE)
    report("2025-10-11", U)
    sizes["town tier (day 5)"].append(town.state_size(case))
    complete("ht31", "dropout_report", REPORT)
    complete("pzx", "confirm_report", CONFIRM)
    complete("town", "receive_report", RECEIPT)
    complete("town", "issue_notice", NOTICE)
    for day in ("2025-10-13", "2025-10-14", "2025-10-15", "2025-10-16", "2025-10-17", "2025-10-20",
                "2025-10-21", "2025-10-22"):
        report(day, U)
    town.timed("timer sweep", town.pass_until, "2025-10-23", 8)
    complete("judicial", "legal_education", LEGAL)
    complete("leader", "leader_decision", DECIDE)
    complete("vsjt", "joint_persuasion", JOINT)
    sizes["after a leader round"].append(town.state_size(case))
    report("2025-10-23", P)
    complete("regzx", "restore_registry", {**REGISTRY, "done_on": "2025-10-23"})
    complete("livelihood", "strike_off", {**STRIKE, "struck_off_on": "2025-10-23"})
    for week in ("2025-10-31", "2025-11-08", "2025-11-16", "2025-11-24"):
        town.timed("timer sweep", town.pass_until, week, 18)
        complete("ht31", "weekly_check", {**WEEK, "week_checked_on": week})
    sizes["closed"].append(town.state_size(case))
    assert town.case(1).status == "completed"


def run(label: str, url_for_case, cases: int) -> None:
    times, sizes = defaultdict(list), defaultdict(list)
    for index in range(cases):
        with tempfile.TemporaryDirectory() as tmp:
            url = url_for_case(tmp)
            settings = Settings.from_env(database_url=url, var_dir=Path(tmp), secret_key="bench")
            town = Timed.build(settings, build_engine, create_app)
            town.engine.repository.deploy_paths([ROOT / "processes"], actor="admin")
            walk(town, sizes)
            for kind, values in town.times.items():
                times[kind].extend(values)
            town.engine.close()
    print(f"\n{label}: {cases} full cases")
    for kind, values in sorted(times.items()):
        print(f"  {kind:<18} n={len(values):<4} median {statistics.median(values):7.2f} ms   "
              f"p90 {sorted(values)[int(len(values) * 0.9) - 1]:7.2f} ms")
    for stage, values in sizes.items():
        print(f"  state size {stage:<22} {statistics.median(values) / 1024:7.1f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    run("SQLite", lambda tmp: f"sqlite:///{tmp}/bench.db", args.cases)
    if not args.no_pg:
        admin = create_engine(args.pg_url)
        schemas = []

        def pg(_tmp):
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            schemas.append(schema)
            return f"{args.pg_url}?options=-csearch_path%3D{schema}"
        try:
            run("PostgreSQL", pg, args.cases)
        finally:
            with admin.begin() as conn:
                for schema in schemas:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
