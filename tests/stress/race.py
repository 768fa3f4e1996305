"""Race: people and the system change the same cases at the same moment (issue 8, fault 1).

For each of ``--cases`` children a day-1 absence opens a persuasion case; then, all at once
over ``--threads`` threads and two app instances (two server processes' worth of
connection pools on one PostgreSQL), the head teacher completes each case's phone call
through REST while the principal reports the child's day-2 absence through REST. Then two
people complete the two parallel tasks of a small diagram, ``--rounds`` times.

Prints the attempts and their 200/409/500 counts, and checks that every phone call was done
once, every day-2 absence reached its case (absence_days == 2, after the outbox drains) and
no case is in error. Exit 1 if any check fails.

    .venv/bin/python -m tests.stress.race [--pg URL] [--cases 150] [--threads 24]
"""
from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from api.app import create_app
from api.wiring import build_engine
from api.settings import ROOT
from engine.errors import Conflict
from engine.persistence.models import HumanTask, Incident, ProcessInstance
from engine.process_engine import EngineConfig, ProcessEngine
from engine.tasks import TaskQuery
from ledger.attendance_models import CaseHandoff
from ledger.case_handoff import dispatch_pending
from tests.processes.forms_data import CALL

from .common import AUDIT_KEY, arguments, build, pg_schema, settings_for


def main() -> int:
    args = arguments(__doc__.splitlines()[0], cases=(150, "children, one case each"),
                     threads=(24, "client threads"), rounds=(20, "rounds of the parallel-task race"))
    with pg_schema(args.pg) as url:
        town = build(url, args.cases)
        children = [101 + n for n in range(args.cases)]
        town.report("2025-09-29", {child: "absent_unexcused" for child in children})
        town.at("2025-09-30")
        second_engine = build_engine(settings_for(url), clock=town.clock)   # a second server process
        second_app = create_app(settings_for(url), engine=second_engine)
        clients = [town.client, second_app.test_client()]
        headers = {"ht31": town.headers("ht31"), "pzx": town.headers("pzx")}
        with town.engine.db.read() as session:   # every case's open call (the inbox pages by 20)
            calls = {int(key.split(":")[1]): task_id for task_id, key in session.execute(
                select(HumanTask.id, ProcessInstance.business_key).join(
                    ProcessInstance, HumanTask.instance_id == ProcessInstance.id).where(
                    HumanTask.element_id == "phone_call", HumanTask.status == "open"))}
        statuses: dict[str, Counter] = {"complete": Counter(), "attendance": Counter()}
        lock = threading.Lock()

        def complete(child, client):
            response = client.post(f"/api/v1/tasks/{calls[child]}/complete", headers=headers["ht31"],
                                   json={"data": CALL})
            with lock:
                statuses["complete"][response.status_code] += 1

        def report(child, client):
            response = client.post("/api/v1/attendance", headers=headers["pzx"], json={
                "school_code": "zx", "date": "2025-09-30", "records": [{"child_id": child, "status": "absent_unexcused"}]})
            with lock:
                statuses["attendance"][response.status_code] += 1

        started = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            for n, child in enumerate(children):
                pool.submit(complete, child, clients[n % 2])
                pool.submit(report, child, clients[(n + 1) % 2])
        elapsed = time.perf_counter() - started
        dispatch_pending(town.engine, ignore_backoff=True)        # what the worker does next
        problems = _check(town, children)
        pair_counts, pair_problems = _parallel_pair(url, args.rounds)
        problems += pair_problems
    attempts = sum(sum(c.values()) for c in statuses.values())
    print(f"race on PostgreSQL: {len(children)} cases, {args.threads} threads, 2 app instances, {elapsed:.1f} s")
    for kind, counter in statuses.items():
        print(f"  {kind:10s} attempts {sum(counter.values()):5d}  " +
              "  ".join(f"{code}: {counter.get(code, 0)}" for code in (200, 409, 500)))
    print(f"  all attempts {attempts}, 500s {sum(c.get(500, 0) for c in statuses.values())}")
    print(f"  parallel tasks of one instance, {args.rounds} rounds of two people at once: " +
          "  ".join(f"{k}: {pair_counts.get(k, 0)}" for k in ("ok", "409", "500")))
    for line in problems or ["every call done once, every day-2 absence on its case, no case in error"]:
        print("  " + line)
    return 1 if problems or pair_counts.get("500") or any(c.get(500) for c in statuses.values()) else 0


def _parallel_pair(url, rounds) -> tuple[Counter, list[str]]:
    """Two engines (two processes) complete the two parallel tasks of one instance together."""
    engines = [ProcessEngine(EngineConfig(database_url=url, audit_key=AUDIT_KEY)) for _ in range(2)]
    engines[0].repository.deploy_paths([ROOT / "tests" / "engine" / "bpmn" / "parallel_pair.bpmn"], actor="stress")
    counts, problems = Counter(), []
    for _ in range(rounds):
        instance_id = engines[0].runtime.start("parallel_pair", {}).instance_id
        rows, _ = engines[0].tasks.list(TaskQuery(instance_id=instance_id))
        barrier = threading.Barrier(2)

        def complete(engine, task_id):
            barrier.wait()
            try:
                engine.runtime.complete_task(task_id, {}, actor="stress")
                counts["ok"] += 1
            except Conflict:
                counts["409"] += 1
            except Exception:  # noqa: BLE001 - what the API would answer with a 500
                counts["500"] += 1

        threads = [threading.Thread(target=complete, args=(e, r.id)) for e, r in zip(engines, rows)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        after, _ = engines[0].tasks.list(TaskQuery(instance_id=instance_id))
        if [r.element_id for r in after] != ["after"]:
            problems.append(f"parallel pair {instance_id}: open after the race {[r.element_id for r in after]}")
    for engine in engines:
        engine.close()
    return counts, problems


def _check(town, children) -> list[str]:
    problems = []
    with town.engine.db.read() as session:
        done = Counter(session.scalars(select(HumanTask.instance_id).where(
            HumanTask.element_id == "phone_call", HumanTask.status == "completed")))
        errors = session.scalar(select(func.count()).select_from(Incident))
        in_error = session.scalar(select(func.count()).select_from(ProcessInstance).where(ProcessInstance.status == "error"))
        pending = session.scalar(select(func.count()).select_from(CaseHandoff).where(CaseHandoff.status == "pending"))
    for child in children:
        case = town.case(child)
        if done.get(case.id) != 1:
            problems.append(f"child {child}: phone call completed {done.get(case.id, 0)} times")
        if not _day_two_reached(town, case.id):
            problems.append(f"child {child}: the day-2 absence never reached case {case.id}")
    if errors or in_error:
        problems.append(f"{errors} incidents, {in_error} instances in error")
    if pending:
        problems.append(f"{pending} attendance events still pending")
    return problems


def _day_two_reached(town, instance_id) -> bool:
    """The case heard of day 2: as a message while it waited, or as data set while at a task."""
    for event in town.audit(instance_id):
        if event.kind == "message_received" and event.data.get("name") == "absence_day" \
                and event.data.get("payload", {}).get("count") == 2:
            return True
        if event.kind == "variables_set" and event.data.get("variables", {}).get("absence_days") == 2:
            return True
    return False


if __name__ == "__main__":
    sys.exit(main())
