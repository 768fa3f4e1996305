"""Time per loop round, before and after the fixes of engine/README.md "Loops and long cases".

    .venv/bin/python bench/loops.py [--pg-url URL] [--quick]

Prints figures, asserts nothing about timing. The diagrams are the tests' own
(tests/engine/bpmn/gateway_loop.bpmn: merge → script → gateway; parallel_loop.bpmn: the same
around a parallel split/join). For each loop length it prints:

* ``before``: SpiffWorkflow 3.2 as shipped, in memory, in a child process that never imports
  ``engine`` (so none of its patches apply): ``do_engine_steps`` on the whole loop. Lengths
  past the failures are not run (the gateway loop stalls at round 333, the parallel loop
  raises RecursionError near round 200 after minutes);
* ``after, memory``: the same in memory with ``engine`` imported (patched iterators and
  helpers) and ``run_engine_steps`` (slices, history compaction), one unbounded budget;
* ``after, engine``: ``engine.runtime.start`` then ``continue_steps`` until no steps are left,
  with the default ``StepLimits`` (SQLite in a temp file; PostgreSQL too with ``--pg-url``,
  in a fresh schema dropped afterwards): what the request and the worker do, commits included.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from tests.stress.common import pg_schema  # noqa: E402 - one way to make a throwaway schema

BPMN = ROOT / "tests" / "engine" / "bpmn"
BEFORE_LIMITS = {"gateway_loop": 330, "parallel_loop": 150}   # past these 3.2 fails (see above)

_RAW = """
import json, sys, time
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.bpmn import BpmnWorkflow
key, rounds, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
parser = SpiffBpmnParser(); parser.add_bpmn_file(path)
wf = BpmnWorkflow(parser.get_spec(key)); wf.task_tree.data.update(rounds=0, target=rounds)
start = time.perf_counter(); wf.do_engine_steps(); took = time.perf_counter() - start
ready = [t.task_spec.bpmn_id for t in wf.get_tasks(state=16)]
print(json.dumps({"seconds": took, "ready": ready, "completed": wf.is_completed()}))
"""


def before(key: str, rounds: int) -> dict:
    out = subprocess.run([sys.executable, "-c", _RAW, key, str(rounds), str(BPMN / f"{key}.bpmn")],
                         capture_output=True, text=True, check=True, cwd="/")
    return json.loads(out.stdout)


def after_memory(key: str, rounds: int) -> float:
    sys.path.insert(0, str(ROOT))
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.spiff.parser import SpiffBpmnParser

    from engine.runtime.commands import run_engine_steps
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(BPMN / f"{key}.bpmn"))
    wf = BpmnWorkflow(parser.get_spec(key))
    wf.task_tree.data.update(rounds=0, target=rounds)
    start = time.perf_counter()
    run_engine_steps(wf)
    return time.perf_counter() - start


def make_engine(url: str):
    sys.path.insert(0, str(ROOT))
    from engine.clock import FixedClock
    from engine.process_engine import EngineConfig, ProcessEngine
    engine = ProcessEngine(EngineConfig(database_url=url, audit_key=b"bench-loops-audit-key-0123",
                                        clock=FixedClock(datetime(2025, 3, 3, 1, 0, tzinfo=timezone.utc))))
    engine.migrate()
    engine.repository.deploy_paths([BPMN / "gateway_loop.bpmn", BPMN / "parallel_loop.bpmn"], actor="bench")
    return engine


def after_engine(engine, key: str, rounds: int) -> tuple[float, float, int]:
    """Seconds of the start request, seconds in all, continuations."""
    start = time.perf_counter()
    result = engine.runtime.start(key, {"rounds": 0, "target": rounds})
    request = time.perf_counter() - start
    continuations = 0
    while engine.runtime.get(result.instance_id).pending_steps is not None:
        engine.runtime.continue_steps(result.instance_id)
        continuations += 1
    assert engine.runtime.variables(result.instance_id)["rounds"] == rounds
    return request, time.perf_counter() - start, continuations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="also time the engine on this PostgreSQL database")
    parser.add_argument("--quick", action="store_true", help="shorter loops only")
    args = parser.parse_args()
    lengths = {"gateway_loop": [100, 300] + ([] if args.quick else [1000, 3000]),
               "parallel_loop": [50, 150] + ([] if args.quick else [300, 1000])}
    stack = ExitStack()
    backends = [("sqlite", f"sqlite:///{tempfile.mkdtemp()}/bench.db")]
    if args.pg_url:
        backends.append(("postgresql", stack.enter_context(pg_schema(args.pg_url))))
    engines = {name: make_engine(url) for name, url in backends}
    print(f"{'loop':<14}{'rounds':>7}  {'before ms/round':>16}  {'after mem ms/round':>19}  "
          + "  ".join(f"{name + ' ms/round (request s, continuations)':>42}" for name in engines))
    for key, sizes in lengths.items():
        for rounds in sizes:
            if rounds <= BEFORE_LIMITS[key]:
                raw = before(key, rounds)
                note = "" if raw["ready"] == ["after"] else f" (ready {raw['ready']}, completed {raw['completed']})"
                before_text = f"{raw['seconds'] * 1000 / rounds:.2f}{note}"
            else:
                before_text = "fails"
            memory = after_memory(key, rounds) * 1000 / rounds
            cells = []
            for name, engine in engines.items():
                request, total, continuations = after_engine(engine, key, rounds)
                cells.append(f"{total * 1000 / rounds:.2f} ({request:.2f} s, {continuations})")
            print(f"{key:<14}{rounds:>7}  {before_text:>16}  {memory:>19.2f}  " + "  ".join(f"{c:>42}" for c in cells))
    for engine in engines.values():
        engine.close()
    stack.close()   # drops the PostgreSQL schema


if __name__ == "__main__":
    main()
