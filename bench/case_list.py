"""How long one page of the case list takes as the number of cases grows (issue 13, issue 18).

    .venv/bin/python bench/case_list.py [--sizes 1000,10000,50000] [--pg URL]

Prints figures, asserts nothing about timing. For each size, fills a fresh database (SQLite in
a temp file, or a fresh PostgreSQL schema dropped afterwards) with a county-like town: 20
schools of 6 classes, 40 villages, one child and one case per child (rows inserted directly:
the list's queries are what is measured), each case with a finished and an open task (a third
of them overdue), a tenth closed. Then times ``ledger.case_list.case_list`` (the page of 50,
the counts per status and per step) for the inspector (every case), a principal (one
school), a village secretary (one village), and a search by a child's full name, median of
three; and the ratio of each to the smallest size.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from api.auth import Principal  # noqa: E402
from api.settings import Settings  # noqa: E402
from api.wiring import build_engine  # noqa: E402
from engine.persistence.models import HumanTask, ProcessInstance  # noqa: E402
from ledger.case_list import CaseFilter, case_list  # noqa: E402
from ledger.directory import Assignment  # noqa: E402
from ledger.models import Child, OrgUnit  # noqa: E402

BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="bench_case" name="bench" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="visit" name="visit"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="visit"/><bpmn:sequenceFlow id="f2" sourceRef="visit" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""
SCHOOLS, CLASSES, VILLAGES, BATCH = 20, 6, 40, 5000
NOW = datetime(2025, 11, 3, 2, 0, tzinfo=timezone.utc)


def fill(engine, size: int) -> None:
    definition_id = engine.repository.deploy({"bench_case.bpmn": BPMN}, actor="bench")[0].definition_id
    with engine.db.transaction() as session:
        units = [{"code": "town", "name": "镇", "kind": "town", "parent_code": None, "sort": 0}]
        units += [{"code": f"s{s}", "name": f"学校{s}", "kind": "school", "parent_code": "town", "sort": s}
                  for s in range(SCHOOLS)]
        units += [{"code": f"s{s}-{c}", "name": f"{c}班", "kind": "class", "parent_code": f"s{s}", "sort": c}
                  for s in range(SCHOOLS) for c in range(CLASSES)]
        units += [{"code": f"v{v}", "name": f"村{v}", "kind": "village", "parent_code": "town", "sort": v}
                  for v in range(VILLAGES)]
        session.execute(insert(OrgUnit), units)
    for offset in range(0, size, BATCH):
        ids = range(offset + 1, min(size, offset + BATCH) + 1)
        with engine.db.transaction() as session:
            session.execute(insert(Child), [{
                "id": n, "name": f"学生{n}", "gender": "男", "birth_date": date(2015, 1, 1),
                "id_number": f"{n:018d}", "school_code": f"s{n % SCHOOLS}",
                "class_code": f"s{n % SCHOOLS}-{n % CLASSES}", "village_code": f"v{n % VILLAGES}",
                "created_at": NOW} for n in ids])
            session.execute(insert(ProcessInstance), [{
                "id": n, "definition_id": definition_id, "process_key": "bench_case",
                "business_key": f"child:{n}", "status": "completed" if n % 10 == 0 else "active",
                "row_version": 1, "started_by": "bench", "created_at": NOW - timedelta(minutes=n),
                "updated_at": NOW, "completed_at": NOW if n % 10 == 0 else None} for n in ids])
            session.execute(insert(HumanTask), [{
                "id": f"t{n}-{k}", "instance_id": n, "process_key": "bench_case", "element_id": "visit",
                "name": "visit", "lane": "head_teacher", "candidate_role": "head_teacher",
                "org_unit": f"s{n % SCHOOLS}-{n % CLASSES}", "subject_id": str(n), "priority": 50,
                "status": "completed" if k == 0 or n % 10 == 0 else "open", "created_at": NOW,
                "due_at": NOW + timedelta(days=1 if n % 3 else -1)} for n in ids for k in (0, 1)])


def timed(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def person(role: str, unit: str) -> Principal:
    return Principal(1, role, role, (Assignment(role, unit),))


CALLS = {"inspector, page 1 of every case": (person("discipline_inspector", "town"), {}),
         "principal, one school": (person("principal", "s3"), {}),
         "village secretary, one village": (person("village_secretary", "v7"), {}),
         "inspector, a child's full name": (person("discipline_inspector", "town"), {"child": "学生77"}),
         "inspector, overdue only": (person("discipline_inspector", "town"), {"overdue": "1"}),
         "inspector, sorted by the nearest deadline": (person("discipline_inspector", "town"), {"sort": "due"}),
         "principal, running, overdue": (person("principal", "s3"), {"overdue": "1", "status": "running"})}


def measure(pg: str | None, size: int) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="baoxue-caselist-bench-"))
    schema, admin, url = None, None, f"sqlite:///{workdir / 'bench.db'}"
    if pg:
        schema, admin = f"bench_{uuid.uuid4().hex[:8]}", create_engine(pg)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{pg}{'&' if '?' in pg else '?'}options=-csearch_path%3D{schema}"
    engine = build_engine(Settings.from_env(database_url=url, var_dir=workdir, secret_key="bench",
                                            audit_key="bench-audit-key-0123456789"))
    try:
        engine.migrate()
        fill(engine, size)
        engine.clock = lambda: NOW
        if pg:
            with engine.db.transaction() as session:
                session.execute(text("ANALYZE"))
        return {label: timed(lambda: case_list(engine, who, CaseFilter.from_query(args)))
                for label, (who, args) in CALLS.items()}
    finally:
        engine.close()
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--pg", metavar="URL", help="PostgreSQL URL (a schema is created and dropped)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {size: measure(args.pg, size) for size in sizes}
    print(f"{'PostgreSQL' if args.pg else 'SQLite'}: case_list, median of 3, seconds (ratio to {sizes[0]} cases)")
    for label in CALLS:
        cells = "  ".join(f"{size}: {results[size][label]:.3f} ({results[size][label] / results[sizes[0]][label]:.1f}x)"
                          for size in sizes)
        print(f"  {label:<36} {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
