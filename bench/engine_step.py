"""How long one user-task completion takes, and how that grows with the instance's history.

    .venv/bin/python bench/engine_step.py [--no-pg] [--pg-url URL] [--samples 30] [--profile]

Prints figures, asserts nothing about timing. For each backend (SQLite in a temp file;
PostgreSQL in a fresh schema that this script creates and drops) it measures:

* full path: ``engine.runtime.complete_task`` (task row read, form validation, load the
  workflow, run it, sync the task index/timers/messages, audit events, save, commit, status
  read) on instances whose history holds 5 and 500 completed rounds;
* raw floor: the same step with SpiffWorkflow alone, in memory, on the same stored state
  text: deserialize, find the ready user task, add the data, ``run()``,
  ``do_engine_steps()``, serialize, with the same sandboxed script engine.

The diagram (bench/bpmn/loop_step.bpmn) is one user task in a ``standardLoopCharacteristics``
loop (``not done``): the task tree stays shallow however many rounds run, unlike a gateway
loop (SPIFFWORKFLOW-NOTES 10-B). The script checks that the instance really reaches its
history and still completes afterwards.

History 5 is timed on ``--samples`` instances, each brought to 5 rounds and completed once;
history 500 on one instance brought to 500 rounds and then completed ``--samples`` more times
(rounds 500..500+samples-1). Bringing instances to their history is not timed. The four
figures are sampled interleaved, so load from other processes hits them alike.

``--profile`` adds, for SQLite, a wall-clock split of complete_task by phase (deserialize,
command, projections, serialize, rest; SQL and GC time) at history 5 and ~500, and cProfile's
top entries at ~500.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import io
import math
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, text  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from engine.persistence.models import WorkflowState  # noqa: E402
from engine.process_engine import EngineConfig, ProcessEngine  # noqa: E402
from engine.runtime import commands as commands_module  # noqa: E402
from engine.runtime import executor as executor_module  # noqa: E402
from engine.sandbox import make_script_engine, shutdown_workers  # noqa: E402
from engine.store import WorkflowStore  # noqa: E402
from engine.tasks import TaskQuery  # noqa: E402

BPMN_DIR = Path(__file__).resolve().parent / "bpmn"
PROCESS_KEY = "bench_loop_step"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HISTORIES = (5, 500)
TARGET_GROWTH = 1.2      # full path at history 500 <= 1.2x history 5
TARGET_OVERHEAD = 2.0    # full path <= 2x raw floor


def round_data(n: int, done: bool = False) -> dict:
    return {"round": n, "note": f"round {n}: visited, talked to the parents", "done": done}


def median(values):
    return statistics.median(values)


def p90(values):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def ms(seconds: float) -> float:
    return seconds * 1000.0


# -- building instances (untimed) ---------------------------------------------------------
class Driver:
    """One engine on one database, with the benchmark diagram deployed."""

    def __init__(self, url: str):
        self.engine = ProcessEngine(EngineConfig(database_url=url, audit_key=b"bench-audit-key-0123456789"))
        self.engine.migrate()
        files = {p.name: p.read_bytes() for p in sorted(BPMN_DIR.iterdir()) if p.is_file()}
        self.engine.repository.deploy(files, actor="bench")

    def start(self) -> tuple[int, str]:
        """A new instance and the id of its one open task."""
        started = self.engine.runtime.start(PROCESS_KEY, {"done": False}, actor="bench")
        return started.instance_id, self._only_next(started)

    def complete(self, task_id: str, n: int, done: bool = False):
        return self.engine.runtime.complete_task(task_id, round_data(n, done), actor="bench")

    def advance(self, instance_id: int, task_id: str, start_round: int, rounds: int) -> str:
        for n in range(start_round, start_round + rounds):
            task_id = self._only_next(self.complete(task_id, n))
        return task_id

    def state_text(self, instance_id: int) -> str:
        with self.engine.db.transaction() as session:
            return session.get(WorkflowState, instance_id).state

    def rounds_done(self, instance_id: int) -> int:
        """Completed rounds, as the loop task counts them (``get_tasks(state=COMPLETED)``
        does not descend below the unfinished loop task, SPIFFWORKFLOW-NOTES 10-M)."""
        wf = self.engine.store.loads(self.state_text(instance_id))
        loops = [t for t in wf.get_tasks() if t.task_spec.__class__.__name__ == "StandardLoopTask"]
        return len(loops[0].internal_data.get("merged", []))

    @staticmethod
    def _only_next(result) -> str:
        if result.status != "active" or len(result.next_tasks) != 1:
            raise RuntimeError(f"expected one next task, got {result}")
        return result.next_tasks[0]["task_id"]

    def close(self):
        self.engine.close()


# -- measurements ---------------------------------------------------------------------------
def measure(driver: Driver, raw_store: WorkflowStore, samples: int) -> dict:
    """Full-path and raw-floor timings at history 5 and 500, the state texts, and checks.

    The four figures are taken interleaved (one sample of each per round) so that load from
    other processes on the machine falls on all of them alike and the ratios stay fair."""
    out = {"full": {h: [] for h in HISTORIES}, "raw": {h: [] for h in HISTORIES},
           "raw_parts": {h: [] for h in HISTORIES}, "states": {}, "checks": []}

    # Warm up: spec cache, sandbox worker start, form schema cache, connection pool.
    iid, tid = driver.start()
    driver.advance(iid, tid, 0, 3)

    # History 5: `samples` instances, each to be completed once at exactly 5 rounds.
    short = []
    for _ in range(samples):
        iid, tid = driver.start()
        short.append(driver.advance(iid, tid, 0, 5))
    out["states"][5] = driver.state_text(iid)

    # History 500: one instance brought to 500 rounds, then completed `samples` more times.
    long_iid, long_tid = driver.start()
    built = time.perf_counter()
    long_tid = driver.advance(long_iid, long_tid, 0, 500)
    out["build_500_s"] = time.perf_counter() - built
    out["states"][500] = driver.state_text(long_iid)
    got = driver.rounds_done(long_iid)
    out["checks"].append(f"instance at history 500: loop task counts {got} merged rounds"
                         + ("" if got == 500 else "  <-- UNEXPECTED"))
    for h in HISTORIES:
        raw_step(raw_store, out["states"][h], h)  # warm-up

    gc.collect()
    for i in range(samples):
        t0 = time.perf_counter()
        driver.complete(short[i], 5)
        out["full"][5].append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        result = driver.complete(long_tid, 500 + i)
        out["full"][500].append(time.perf_counter() - t0)
        long_tid = Driver._only_next(result)

        for h in HISTORIES:
            parts = raw_step(raw_store, out["states"][h], h)[:3]
            out["raw_parts"][h].append(parts)
            out["raw"][h].append(sum(parts))
    out["long"] = (long_iid, long_tid, 500 + samples)
    return out


def finish_long_instance(driver: Driver, iid: int, tid: str, next_round: int) -> str:
    got = driver.rounds_done(iid)
    open_rows, _ = driver.engine.tasks.list(TaskQuery(instance_id=iid))
    result = driver.complete(tid, next_round, done=True)
    wf = driver.engine.runtime.workflow(iid)
    depth = max(t.depth for t in wf.get_tasks())
    ok = got == next_round and len(open_rows) == 1 and result.status == "completed"
    return (f"after {got} rounds: {len(open_rows)} open task; completing with done=True -> "
            f"instance {result.status}; max task depth {depth}" + ("" if ok else "  <-- UNEXPECTED"))


def raw_step(store: WorkflowStore, state: str, n: int) -> tuple[float, float, float, str]:
    """(deserialize, step, serialize) seconds for one in-memory completion."""
    t0 = time.perf_counter()
    wf = store.loads(state)
    t1 = time.perf_counter()
    task = wf.get_next_task(state=TaskState.READY, manual=True)
    spec = task.task_spec
    if hasattr(spec, "add_data_from_form"):      # as CompleteTask does
        spec.add_data_from_form(task, round_data(n))
    else:
        task.data.update(round_data(n))
    task.run()
    wf.do_engine_steps()
    t2 = time.perf_counter()
    out = store.dumps(wf)
    t3 = time.perf_counter()
    nxt = wf.get_next_task(state=TaskState.READY, manual=True)
    assert nxt is not None and nxt.task_spec.bpmn_id == spec.bpmn_id, "raw step did not loop"
    return t1 - t0, t2 - t1, t3 - t2, out


# -- profiling (--profile) ----------------------------------------------------------------
@contextmanager
def phase_timer(driver: Driver):
    """Wall-clock split of complete_task by phase, by wrapping (in this process only) the
    store's loads/dumps, CompleteTask.run and the executor's sync_all; plus SQL cursor time."""
    acc = {"loads": 0.0, "run": 0.0, "sync_all": 0.0, "dumps": 0.0, "sql": 0.0, "statements": 0,
           "gc": 0.0, "gc2": 0}
    store = driver.engine.store
    orig_run, orig_sync = commands_module.CompleteTask.run, executor_module.sync_all

    def timed(name, fn):
        def wrapper(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                acc[name] += time.perf_counter() - t0
        return wrapper

    starts = {}

    def before(conn, cursor, statement, parameters, context, executemany):
        starts[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        acc["sql"] += time.perf_counter() - starts.pop(id(cursor), time.perf_counter())
        acc["statements"] += 1

    gc_start = []

    def on_gc(phase, info):
        if phase == "start":
            gc_start.append(time.perf_counter())
        elif gc_start:
            acc["gc"] += time.perf_counter() - gc_start.pop()
            acc["gc2"] += info["generation"] == 2

    sql_engine = driver.engine.db.engine
    gc.callbacks.append(on_gc)
    store.loads, store.dumps = timed("loads", store.loads), timed("dumps", store.dumps)
    commands_module.CompleteTask.run = timed("run", orig_run)
    executor_module.sync_all = timed("sync_all", orig_sync)
    event.listen(sql_engine, "before_cursor_execute", before)
    event.listen(sql_engine, "after_cursor_execute", after)
    try:
        yield acc
    finally:
        del store.loads, store.dumps
        gc.callbacks.remove(on_gc)
        commands_module.CompleteTask.run = orig_run
        executor_module.sync_all = orig_sync
        event.remove(sql_engine, "before_cursor_execute", before)
        event.remove(sql_engine, "after_cursor_execute", after)


PHASES = (("loads", "deserialize (store.loads)"),
          ("run", "CompleteTask.run (form check, audit, task.run, engine steps)"),
          ("sync_all", "sync_all (task index, timers, messages)"),
          ("dumps", "serialize (store.dumps)"))


def split_phases(driver: Driver, count: int, step) -> dict:
    """Mean ms per completion of each phase over ``count`` calls of ``step(i)``."""
    total = 0.0
    with phase_timer(driver) as acc:
        for i in range(count):
            t0 = time.perf_counter()
            step(i)
            total += time.perf_counter() - t0
    out = {name: ms(acc[name]) / count for name, _ in PHASES}
    out["rest"] = ms(total) / count - sum(out.values())
    out["total"] = ms(total) / count
    out["sql"] = ms(acc["sql"]) / count
    out["statements"] = acc["statements"] / count
    out["gc"] = ms(acc["gc"]) / count
    out["gc2"] = acc["gc2"]
    return out


def profile(driver: Driver, tid: str, next_round: int, count: int = 20):
    """Phase split at history 5 and ~500, then cProfile at ~500; returns the long instance's
    next task id and round."""
    short = []
    for _ in range(count):
        iid, first = driver.start()
        short.append(driver.advance(iid, first, 0, 5))
    at5 = split_phases(driver, count, lambda i: driver.complete(short[i], 5))
    state = {"tid": tid}

    def long_step(i):
        state["tid"] = Driver._only_next(driver.complete(state["tid"], next_round + i))
    at500 = split_phases(driver, count, long_step)
    tid, next_round = state["tid"], next_round + count

    print(f"\n== --profile: where complete_task's time goes, SQLite ==")
    print(f"wall-clock split, mean ms per completion of {count} (no profiler; history ~500 = "
          f"rounds {next_round - count}..{next_round - 1})")
    print(f"  {'phase':<62} {'hist 5':>8} {'hist ~500':>10}")
    for name, label in (*PHASES, ("rest", "rest (task row read, session get/flush/commit, status read)"),
                        ("total", "total")):
        print(f"  {label:<62} {at5[name]:8.2f} {at500[name]:10.2f}")
    print(f"  {'SQL statements per completion':<62} {at5['statements']:8.1f} {at500['statements']:10.1f}")
    print(f"  {'SQL cursor time (inside the phases above, not added)':<62} {at5['sql']:8.2f} {at500['sql']:10.2f}")
    print(f"  {'cyclic GC pauses (inside the phases above, not added)':<62} {at5['gc']:8.2f} {at500['gc']:10.2f}")
    print(f"  {f'full (generation 2) collections in the {count} completions':<62} {at5['gc2']:8d} {at500['gc2']:10d}")

    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(next_round, next_round + count):
        tid = Driver._only_next(driver.complete(tid, n))
    profiler.disable()
    for key, top, what in (("cumulative", 15, "cumulative time"), ("tottime", 12, "own time")):
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).strip_dirs().sort_stats(key).print_stats(top)
        lines = buf.getvalue().splitlines()
        first = next(i for i, line in enumerate(lines) if "ncalls" in line)
        print(f"\ncProfile of {count} completions at history {next_round}..{next_round + count - 1}, "
              f"top {top} by {what} (the profiler inflates call-heavy code):")
        print("\n".join(line for line in lines[first:] if line.strip()))
    return tid, next_round + count


# -- backends -------------------------------------------------------------------------------
@contextmanager
def sqlite_url():
    with tempfile.TemporaryDirectory(prefix="baoxue-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


@contextmanager
def pg_url(base: str):
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in base else "?"
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        try:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            admin.dispose()


def run_backend(name: str, url: str, args, raw_store: WorkflowStore) -> dict:
    t0 = time.perf_counter()
    driver = Driver(url)
    try:
        result = measure(driver, raw_store, args.samples)
        iid, tid, next_round = result["long"]
        if args.profile and name == "sqlite":
            buf = io.StringIO()
            with redirect_stdout(buf):
                tid, next_round = profile(driver, tid, next_round)
            result["profile"] = buf.getvalue()
        result["checks"].append(finish_long_instance(driver, iid, tid, next_round))
    finally:
        driver.close()
    result["backend"], result["seconds"] = name, time.perf_counter() - t0
    return result


# -- report ---------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "holds" if ok else "does NOT hold"


def report(results: list[dict], samples: int) -> None:
    print(f"\n== Completing one user task: median of {samples} (p90), milliseconds ==")
    print("full = engine.runtime.complete_task (one command, one transaction); "
          "raw = SpiffWorkflow in memory on the same state")
    header = (f"{'backend':<11}{'history':>8}  {'full path ms (p90)':>20}  {'raw floor ms (p90)':>19}"
              f"  {'full/raw':>8}")
    print(header)
    print("-" * len(header))
    for r in results:
        for h in HISTORIES:
            f, w = r["full"][h], r["raw"][h]
            print(f"{r['backend']:<11}{h:>8}  {ms(median(f)):>9.2f} ({ms(p90(f)):>7.2f})  "
                  f"{ms(median(w)):>8.2f} ({ms(p90(w)):>7.2f})  {median(f) / median(w):>7.2f}x")
    print()
    for r in results:
        f = {h: median(r["full"][h]) for h in HISTORIES}
        w = {h: median(r["raw"][h]) for h in HISTORIES}
        print(f"{r['backend']:<11} history500/history5: full path {f[500] / f[5]:.2f}x, "
              f"raw floor {w[500] / w[5]:.2f}x")
    print("\nraw floor split, median ms: deserialize / run + engine steps / serialize")
    for r in results:
        for h in HISTORIES:
            parts = r["raw_parts"][h]
            cols = " / ".join(f"{ms(median([p[k] for p in parts])):6.2f}" for k in range(3))
            print(f"  {r['backend']:<11} history {h:>3}: {cols}")
    sizes = {h: len(results[0]["states"][h].encode("utf-8")) / 1024 for h in HISTORIES}
    print(f"serialized state: {sizes[5]:.1f} KB at history 5, {sizes[500]:.1f} KB at history 500 "
          f"(+{(sizes[500] - sizes[5]) * 1024 / 495:.0f} B per round)")

    print(f"\ntargets for later work: history 500 <= {TARGET_GROWTH}x history 5; "
          f"full path <= {TARGET_OVERHEAD:g}x raw floor")
    for r in results:
        f = {h: median(r["full"][h]) for h in HISTORIES}
        w = {h: median(r["raw"][h]) for h in HISTORIES}
        growth = f[500] / f[5]
        print(f"  {r['backend']:<11} full path history 500 <= {TARGET_GROWTH}x history 5: "
              f"{verdict(growth <= TARGET_GROWTH)} ({growth:.2f}x)")
        for h in HISTORIES:
            ratio = f[h] / w[h]
            print(f"  {r['backend']:<11} full path <= {TARGET_OVERHEAD:g}x raw floor at history {h:>3}: "
                  f"{verdict(ratio <= TARGET_OVERHEAD)} ({ratio:.2f}x)")
    print("\nchecks:")
    for r in results:
        for line in r["checks"]:
            print(f"  {r['backend']:<11} {line}")
        print(f"  {r['backend']:<11} building history 500 (untimed) took {r['build_500_s']:.1f} s; "
              f"backend total {r['seconds']:.1f} s")


def load_note() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return f"{os.cpu_count()} CPUs"
    return f"{os.cpu_count()} CPUs, load average {one:.2f} (1 min) {five:.2f} (5 min)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"PostgreSQL URL (default {DEFAULT_PG_URL})")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--samples", type=int, default=30, help="timed completions per history (default 30)")
    parser.add_argument("--profile", action="store_true",
                        help="also profile the full path at history 500 on SQLite (cProfile, top 15)")
    args = parser.parse_args(argv)
    if args.samples < 3:
        parser.error("--samples must be at least 3")

    started = time.perf_counter()
    print(f"Python {sys.version.split()[0]}; diagram {BPMN_DIR.relative_to(ROOT)}/loop_step.bpmn "
          f"(user task in a standard loop); {args.samples} samples per figure; {load_note()}")
    raw_store = WorkflowStore(make_script_engine())
    results = []
    try:
        with sqlite_url() as url:
            results.append(run_backend("sqlite", url, args, raw_store))
        if not args.no_pg:
            try:
                with pg_url(args.pg_url) as url:
                    results.append(run_backend("postgresql", url, args, raw_store))
            except Exception as exc:  # noqa: BLE001 - report and go on with SQLite's figures
                print(f"\nPostgreSQL skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        report(results, args.samples)
        for r in results:
            if "profile" in r:
                print(r["profile"], end="")
    finally:
        shutdown_workers()
    print(f"\n(whole run {time.perf_counter() - started:.1f} s; {load_note()}: timings on a busy "
          "machine are noisy, the interleaved ratios less so)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
