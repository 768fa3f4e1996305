"""Loops and long cases (issue 9, items 7-8): a gateway loop past SpiffWorkflow's depth cap,
a loop around a parallel split/join past its recursion limit, engine steps bounded per
transaction and continued by the worker, an endless loop stopped with an incident."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import StepFailed
from engine.persistence.models import HumanTask, ProcessInstance, TimerJob
from engine.runtime.steps import EndNotReached, StepLimits, check_end_reached

from .helpers import deploy, kinds, open_tasks, run_to_rest, task_named

SMALL = StepLimits(per_transaction=40, slice=10, keep=8, per_run=5_000)


def pending_steps(engine, instance_id):
    with engine.db.read() as session:
        return session.scalar(select(ProcessInstance.pending_steps).where(ProcessInstance.id == instance_id))


def test_gateway_loop_past_the_depth_cap_reaches_the_task_after_it(make_engine):
    # 340 rounds of merge -> script -> gateway: at round 333 SpiffWorkflow's iterators lost
    # the READY merge below depth 1000 and the instance was marked completed.
    engine = make_engine(steps=SMALL)
    deploy(engine, "gateway_loop.bpmn")
    started = engine.runtime.start("gateway_loop", {"rounds": 0, "target": 340})
    assert started.running and started.status == "active" and started.next_tasks == []
    continuations = run_to_rest(engine, started.instance_id)
    assert continuations >= 340 * 3 // SMALL.per_transaction
    instance = engine.runtime.get(started.instance_id)
    assert instance.status == "active" and instance.pending_steps is None
    after = task_named(engine, started.instance_id, "after")
    assert after.candidate_role == "clerk"   # routed when the worker reached it
    assert engine.runtime.variables(started.instance_id)["rounds"] == 340
    # The compacted tree is shallow, and the loop's elements are still in the history.
    workflow = engine.runtime.workflow(started.instance_id)
    assert max(t.depth for t in workflow.tasks.values()) < 40
    assert engine.runtime.variables(started.instance_id, "count")["rounds"] == 340
    done = engine.runtime.complete_task(after.id, {}, actor="clerk1")
    assert done.status == "completed" and not done.running
    assert kinds(engine, started.instance_id)[-1] == "instance_completed"


def test_parallel_loop_runs_past_the_recursion_limit(make_engine):
    # 200 rounds around a parallel split/join raised RecursionError after ~9 minutes.
    engine = make_engine(steps=SMALL)
    deploy(engine, "parallel_loop.bpmn")
    started = engine.runtime.start("parallel_loop", {"rounds": 0, "target": 210})
    assert started.running
    run_to_rest(engine, started.instance_id)
    after = task_named(engine, started.instance_id, "after")
    # (left_seen keeps its first round's value: SpiffWorkflow's join lets the firing branch's
    # stale copy win, with or without compaction; engine/README.md "Loops and long cases".)
    assert engine.runtime.variables(started.instance_id)["rounds"] == 210
    assert engine.runtime.complete_task(after.id, {}, actor="clerk1").status == "completed"


def test_a_loop_on_one_branch_while_the_other_waits(make_engine):
    # Compaction cannot cut above the split (the waiting branch is open): each branch's own
    # finished run is compacted, so the depth still does not grow with the rounds.
    engine = make_engine(steps=SMALL)
    deploy(engine, "branch_loop.bpmn")
    started = engine.runtime.start("branch_loop", {"rounds": 0, "target": 400})
    run_to_rest(engine, started.instance_id)
    assert sorted(t.element_id for t in open_tasks(engine, started.instance_id)) == ["after", "wait"]
    workflow = engine.runtime.workflow(started.instance_id)
    assert max(t.depth for t in workflow.tasks.values()) < 40
    assert engine.runtime.variables(started.instance_id, "count")["rounds"] == 400
    for element in ("wait", "after"):
        done = engine.runtime.complete_task(task_named(engine, started.instance_id, element).id, {}, actor="clerk1")
    assert done.status == "completed"


def test_compaction_keeps_subprocesses_timers_and_task_rows_right(make_engine):
    # Rounds of a person's visit (a boundary reminder on it) prepared by an embedded
    # subprocess: compaction drops finished rounds with their subprocesses and cancelled
    # reminders, while the open round's task row and timer job stay exact.
    engine = make_engine(steps=StepLimits(per_transaction=40, slice=5, keep=4, per_run=5_000))
    deploy(engine, "visit_rounds.bpmn")
    started = engine.runtime.start("visit_rounds", {"visits": 0, "target": 12})
    for visit in range(1, 13):
        [row] = open_tasks(engine, started.instance_id)
        with engine.db.read() as session:
            timers = list(session.scalars(select(TimerJob).where(
                TimerJob.instance_id == started.instance_id, TimerJob.status == "waiting")))
        assert row.element_id == "visit" and [t.element_id for t in timers] == ["remind"]
        assert engine.runtime.variables(started.instance_id, "p_count")["visits"] == visit
        done = engine.runtime.complete_task(row.id, {}, actor="clerk1")
    assert done.status == "completed"
    workflow = engine.runtime.workflow(started.instance_id)
    assert len(workflow.subprocesses) <= 2 and len(workflow.tasks) < 40
    with engine.db.read() as session:
        rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == started.instance_id)))
    assert sorted(r.status for r in rows) == ["completed"] * 12
    assert kinds(engine, started.instance_id).count("task_completed") == 12


def test_a_short_loop_finishes_inside_the_request(engine):
    deploy(engine, "gateway_loop.bpmn")
    started = engine.runtime.start("gateway_loop", {"rounds": 0, "target": 5})
    assert not started.running and [t["element_id"] for t in started.next_tasks] == ["after"]
    assert pending_steps(engine, started.instance_id) is None


def test_a_task_reached_by_the_worker_is_indexed_and_audited_once(make_engine):
    engine = make_engine(steps=SMALL)
    deploy(engine, "gateway_loop.bpmn")
    started = engine.runtime.start("gateway_loop", {"rounds": 0, "target": 30})
    assert pending_steps(engine, started.instance_id) == SMALL.per_transaction
    assert open_tasks(engine, started.instance_id) == []
    assert engine.runtime.continue_pending() == 1
    assert engine.runtime.continue_pending() == 1
    assert engine.runtime.continue_pending() == 0   # nothing left: no command runs
    with engine.db.read() as session:
        rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == started.instance_id)))
    assert [(r.element_id, r.status) for r in rows] == [("after", "open")]
    assert kinds(engine, started.instance_id).count("task_ready") == 1


def test_the_consistency_check_finds_steps_no_worker_will_run(make_engine):
    engine = make_engine(steps=SMALL)
    deploy(engine, "gateway_loop.bpmn")
    started = engine.runtime.start("gateway_loop", {"rounds": 0, "target": 30})
    assert engine.consistency.run(record=False).findings == []   # running, and marked so
    with engine.db.transaction() as session:
        session.get(ProcessInstance, started.instance_id).pending_steps = None
    report = engine.consistency.run(record=False)
    assert [(f.check, f.instance_id) for f in report.findings] == [("process_instance", started.instance_id)]
    assert "never run" in report.findings[0].message


def test_an_endless_loop_becomes_an_incident_and_a_fix_lets_it_finish(make_engine):
    engine = make_engine(steps=StepLimits(per_transaction=40, slice=10, keep=8, per_run=100))
    deploy(engine, "gateway_loop.bpmn")
    started = engine.runtime.start("gateway_loop", {"rounds": 0, "target": 10 ** 9})
    engine.runtime.continue_pending()
    engine.runtime.continue_pending()
    with pytest.raises(StepFailed) as failed:
        engine.runtime.continue_steps(started.instance_id)
    assert failed.value.element_id in {"merge", "count", "again"}
    assert "loop without end" in str(failed.value)
    assert engine.runtime.get(started.instance_id).status == "error"
    assert engine.runtime.continue_pending() == 0   # an instance in error is left alone
    # The administrator corrects the data and retries: the run counts anew and ends.
    engine.runtime.set_variables(started.instance_id, {"target": 50}, actor="admin")
    engine.runtime.retry(failed.value.incident_id, actor="admin")
    run_to_rest(engine, started.instance_id)
    assert task_named(engine, started.instance_id, "after")
    assert engine.runtime.get(started.instance_id).status == "active"


def test_the_engine_never_reports_a_workflow_finished_with_a_task_not_done(engine):
    deploy(engine, "gateway_loop.bpmn")
    started = engine.runtime.start("gateway_loop", {"rounds": 0, "target": 3})
    workflow = engine.runtime.workflow(started.instance_id)
    check_end_reached(workflow)   # running, not complete: passes
    # SpiffWorkflow caches a True is_completed(); whatever made it say so (10-B: an iterator
    # that cannot see a deep task), a task still open refutes it.
    workflow.completed = True
    with pytest.raises(EndNotReached) as refused:
        check_end_reached(workflow)
    assert refused.value.task.task_spec.bpmn_id in {"after", "end"}


def test_long_loops_complete(make_engine):
    """The proof with the default limits: 1,200 rounds of a gateway loop and 320 of the
    parallel loop, continued by the worker, reach the task after the loop."""
    engine = make_engine()
    deploy(engine, "gateway_loop.bpmn", "parallel_loop.bpmn")
    for key, rounds in (("gateway_loop", 1200), ("parallel_loop", 320)):
        started = engine.runtime.start(key, {"rounds": 0, "target": rounds})
        run_to_rest(engine, started.instance_id)
        assert engine.runtime.variables(started.instance_id)["rounds"] == rounds
        after = task_named(engine, started.instance_id, "after")
        assert engine.runtime.complete_task(after.id, {}, actor="clerk1").status == "completed"
