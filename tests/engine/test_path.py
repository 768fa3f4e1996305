"""The path an instance takes, recorded by the engine as it is taken (issue 13): elements
completed with their counts, the sequence flows taken (not guessed from the tree), where the
case stands now, and all of it inside the hash chain."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import StepFailed
from engine.persistence.models import AuditEvent

from .helpers import deploy, task_named


def state(engine, instance_id):
    return engine.tracing.diagram_state(instance_id)


def test_a_gateway_loop_counts_each_round_and_takes_the_back_flow(engine):
    deploy(engine, "gateway_loop.bpmn")
    started = engine.runtime.start("gateway_loop", {"rounds": 0, "target": 3})
    found = state(engine, started.instance_id)
    process = found["processes"]["gateway_loop"]
    assert process["elements"]["count"] == {"runs": 3, "state": "completed"}
    assert process["elements"]["merge"]["runs"] == 3 and process["elements"]["again"]["runs"] == 3
    assert process["elements"]["after"] == {"runs": 0, "state": "active"}
    assert set(process["flows"]) == {"f1", "f2", "f3", "f_back", "f_out"}
    assert found["recorded_since"] is None and found["version"] == 1


def test_a_loop_taken_once_never_marks_the_back_flow(engine):
    deploy(engine, "gateway_loop.bpmn")
    started = engine.runtime.start("gateway_loop", {"rounds": 0, "target": 1})
    process = state(engine, started.instance_id)["processes"]["gateway_loop"]
    assert "f_back" not in process["flows"] and process["elements"]["count"]["runs"] == 1


def test_both_branches_into_a_parallel_join_are_taken_and_the_boundary_timer_only_when_it_fires(engine, clock):
    deploy(engine, "parallel_pair.bpmn")
    started = engine.runtime.start("parallel_pair", {})
    first = state(engine, started.instance_id)["processes"]["parallel_pair"]
    assert first["elements"]["left"]["state"] == first["elements"]["right"]["state"] == "active"
    assert "late" not in first["elements"]          # armed, not where the case stands
    assert set(first["flows"]) == {"f1", "f2", "f3"}
    engine.timers.fire_due(clock() + timedelta(hours=2))       # the non-interrupting reminder
    engine.runtime.complete_task(task_named(engine, started.instance_id, "left").id, {}, actor="u1")
    engine.runtime.complete_task(task_named(engine, started.instance_id, "right").id, {}, actor="u2")
    done = state(engine, started.instance_id)["processes"]["parallel_pair"]
    assert {"f4", "f5", "f6", "f_late"} <= set(done["flows"])
    assert done["elements"]["join"] == {"runs": 1, "state": "completed"}
    assert done["elements"]["late"]["runs"] == 1 and done["elements"]["after"]["state"] == "active"


def test_the_path_is_in_the_hash_chain(engine):
    deploy(engine, "gateway_loop.bpmn")
    started = engine.runtime.start("gateway_loop", {"rounds": 0, "target": 2})
    assert engine.history.verify_chain(started.instance_id).ok
    with engine.db.transaction() as session:
        event = session.query(AuditEvent).filter_by(instance_id=started.instance_id, kind="path").first()
        event.data = event.data.replace('"f_back"', '"f_other"').replace('"merge"', '"count"', 1)
    report = engine.history.verify_chain(started.instance_id)
    assert not report.ok and report.first_bad == event.seq


def test_an_overdue_task_and_a_failed_step_are_marked(engine, clock):
    deploy(engine, "two_lanes.bpmn", "failing.bpmn")
    started = engine.runtime.start("two_lanes", {})
    fill = task_named(engine, started.instance_id, "fill")
    assert fill.due_at is not None
    assert state(engine, started.instance_id)["processes"]["two_lanes"]["elements"]["fill"]["state"] == "active"
    clock.set(fill.due_at + timedelta(minutes=1))
    assert state(engine, started.instance_id)["processes"]["two_lanes"]["elements"]["fill"]["state"] == "overdue"
    failing = engine.runtime.start("failing", {"total": 10})
    with pytest.raises(StepFailed):
        engine.runtime.complete_task(task_named(engine, failing.instance_id, "enter").id, {"divisor": 0}, actor="u")
    elements = state(engine, failing.instance_id)["processes"]["failing"]["elements"]
    assert elements["compute"]["state"] == "error" and elements["enter"]["state"] == "active"


def test_a_case_from_before_paths_were_recorded_says_so(engine, clock):
    deploy(engine, "gateway_loop.bpmn")
    started = engine.runtime.start("gateway_loop", {"rounds": 0, "target": 2})
    with engine.db.transaction() as session:   # as a case started before the engine recorded paths
        session.query(AuditEvent).filter_by(instance_id=started.instance_id, kind="path").delete()
    found = state(engine, started.instance_id)
    assert found["recorded_since"] == clock().isoformat()
    process = found["processes"]["gateway_loop"]
    assert process["flows"] == [] and process["elements"]["count"]["runs"] == 1   # completed, seen in the tree
