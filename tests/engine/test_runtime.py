"""Instances through the one command path: lanes, forms, scripts, gateways, call activity,
multi-instance, the human-task index and optimistic concurrency."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import Conflict, InvalidInput, NotFound
from engine.persistence.models import HumanTask, ProcessInstance, WorkflowState

from .conftest import ROLES
from .helpers import deploy, kinds, open_tasks, task_named


def test_lanes_route_tasks_and_index_tracks_them(make_engine, clock):
    engine = make_engine(known_roles=ROLES)
    deployed = deploy(engine, "two_lanes.bpmn")
    assert [(d.process_key, d.version, d.created) for d in deployed] == [("two_lanes", 1, True)]

    started = engine.runtime.start("two_lanes", {"requester": "u1"}, actor="u1")
    assert started.status == "active"
    fill = task_named(engine, started.instance_id, "fill")
    assert (fill.lane, fill.candidate_role, fill.form_key) == ("clerk", "clerk", "request.schema.json")
    assert fill.due_at == clock() + timedelta(days=1)          # dueIn "P1D"
    assert [t["element_id"] for t in started.next_tasks] == ["fill"]

    done = engine.runtime.complete_task(fill.id, {"amount": 60}, actor="u1")
    assert [t["element_id"] for t in done.next_tasks] == ["approve"]
    assert done.next_tasks[0]["role"] == "manager"
    assert engine.tasks.get(fill.id).status == "completed"
    assert engine.tasks.get(fill.id).completed_by == "u1"
    wf = engine.runtime.workflow(started.instance_id)
    assert wf.get_next_task(spec_name="approve").data["score"] == 120

    approve = task_named(engine, started.instance_id, "approve")
    engine.runtime.complete_task(approve.id, {}, actor="boss")
    assert engine.runtime.get(started.instance_id).status == "completed"
    assert open_tasks(engine, started.instance_id) == []
    assert kinds(engine, started.instance_id) == [
        "instance_started", "task_ready", "task_completed", "task_ready",
        "task_completed", "instance_completed"]


def test_default_flow_when_condition_false(engine):
    deploy(engine, "two_lanes.bpmn")
    started = engine.runtime.start("two_lanes", {})
    result = engine.runtime.complete_task(task_named(engine, started.instance_id, "fill").id, {"amount": 3}, actor="u")
    assert result.status == "completed" and result.next_tasks == []


def test_form_validation_rejects_and_keeps_state(engine):
    deploy(engine, "two_lanes.bpmn")
    started = engine.runtime.start("two_lanes", {})
    fill = task_named(engine, started.instance_id, "fill")
    with pytest.raises(InvalidInput) as err:
        engine.runtime.complete_task(fill.id, {"amount": -1, "extra": 1}, actor="u")
    assert set(err.value.errors) == {"amount", "extra"}   # "extra" is named, not the whole form ("data")
    with pytest.raises(InvalidInput) as err:
        engine.runtime.complete_task(fill.id, {}, actor="u")
    assert err.value.errors == {"amount": "required"}
    assert engine.tasks.get(fill.id).status == "open"
    assert kinds(engine, started.instance_id) == ["instance_started", "task_ready"]


def test_completed_task_cannot_be_completed_again(engine):
    deploy(engine, "two_lanes.bpmn")
    started = engine.runtime.start("two_lanes", {})
    fill = task_named(engine, started.instance_id, "fill")
    engine.runtime.complete_task(fill.id, {"amount": 1}, actor="u")
    with pytest.raises(Conflict):
        engine.runtime.complete_task(fill.id, {"amount": 1}, actor="u")
    with pytest.raises(NotFound):
        engine.runtime.complete_task("no-such-task", {"amount": 1}, actor="u")


def test_claim_unclaim_and_assignee_enforced(engine):
    deploy(engine, "two_lanes.bpmn")
    started = engine.runtime.start("two_lanes", {})
    fill = task_named(engine, started.instance_id, "fill")
    engine.tasks.claim(fill.id, "alice")
    with pytest.raises(Conflict):
        engine.tasks.claim(fill.id, "bob")
    with pytest.raises(Conflict):
        engine.runtime.complete_task(fill.id, {"amount": 1}, actor="bob")
    engine.tasks.unclaim(fill.id, actor="alice")
    engine.tasks.assign(fill.id, "bob", actor="leader")
    engine.runtime.complete_task(fill.id, {"amount": 1}, actor="bob")
    assert kinds(engine, started.instance_id)[2:5] == ["task_claimed", "task_unclaimed", "task_assigned"]


def test_call_activity_and_parallel_multi_instance(engine):
    deploy(engine, "call_and_mi.bpmn")
    started = engine.runtime.start("parent", {"units": ["a", "b", "c"]})
    signs = open_tasks(engine, started.instance_id)
    assert [t.element_id for t in signs] == ["sign", "sign", "sign"]     # all ready at once
    wf = engine.runtime.workflow(started.instance_id)
    for row in reversed(signs):                                          # completion order c, b, a
        unit = wf.get_task_from_id(__import__("uuid").UUID(row.id)).data["unit"]
        engine.runtime.complete_task(row.id, {"result": unit + "-signed"}, actor="u")
    child = task_named(engine, started.instance_id, "child_task")       # inside the called process
    result = engine.runtime.complete_task(child.id, {}, actor="u")
    assert result.status == "completed"
    data = engine.runtime.workflow(started.instance_id).data
    assert data["units"] == ["a-signed", "b-signed", "c-signed"]         # input order kept
    assert data["child_result"] == 3


def test_stale_writer_gets_conflict(engine):
    deploy(engine, "two_lanes.bpmn")
    started = engine.runtime.start("two_lanes", {})
    fill = task_named(engine, started.instance_id, "fill")
    # A writer that read the instance before another command committed must not win.
    with engine.db.transaction() as session:
        stale = session.get(ProcessInstance, started.instance_id)
        session.expunge(stale)
    engine.tasks.claim(fill.id, "alice")                 # does not touch the instance row
    engine.runtime.complete_task(fill.id, {"amount": 500}, actor="alice")
    with pytest.raises(StaleDataError):
        with engine.db.transaction() as session:
            stale = session.merge(stale, load=False)
            stale.status = "terminated"
    assert engine.runtime.get(started.instance_id).status == "active"
    assert [t.element_id for t in open_tasks(engine, started.instance_id)] == ["approve"]


def test_two_users_completing_at_once_one_wins(make_engine):
    first, second = make_engine(), make_engine()     # two processes' engines, one database
    deploy(first, "two_lanes.bpmn")
    started = first.runtime.start("two_lanes", {})
    fill = task_named(first, started.instance_id, "fill")
    outcomes, barrier = [], threading.Barrier(2)

    def complete(engine, amount):
        barrier.wait()
        try:
            engine.runtime.complete_task(fill.id, {"amount": amount}, actor=f"u{amount}")
            outcomes.append("ok")
        except (Conflict, NotFound) as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=complete, args=(e, a)) for e, a in ((first, 500), (second, 600))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[0] in ("Conflict", "NotFound") and sorted(outcomes).count("ok") == 1
    approve = [t for t in open_tasks(first, started.instance_id) if t.element_id == "approve"]
    assert len(approve) == 1                           # exactly one continuation
    assert kinds(first, started.instance_id).count("task_completed") == 1


def test_state_is_stored_as_written_and_round_trips(engine):
    """jsonb would reorder keys and silently empty task data (SPIFFWORKFLOW-NOTES 10-A)."""
    deploy(engine, "two_lanes.bpmn")
    started = engine.runtime.start("two_lanes", {"requester": "u1"})
    fill = task_named(engine, started.instance_id, "fill")
    engine.runtime.complete_task(fill.id, {"amount": 77, "note": "数据"}, actor="u1")
    with engine.db.transaction() as session:
        text = session.get(WorkflowState, started.instance_id).state
    assert text == engine.store.dumps(engine.store.loads(text))
    approve = engine.runtime.workflow(started.instance_id).get_next_task(spec_name="approve")
    assert approve.data["note"] == "数据" and approve.data["requester"] == "u1"


def test_redeploy_unchanged_is_not_a_new_version_and_instances_pin(engine, tmp_path):
    from .conftest import BPMN
    first = deploy(engine, "two_lanes.bpmn")[0]
    again = deploy(engine, "two_lanes.bpmn")[0]
    assert (again.version, again.created) == (1, False)
    old = engine.runtime.start("two_lanes", {})
    changed = (BPMN / "two_lanes.bpmn").read_text().replace('name="Approve"', 'name="Approve it"')
    (tmp_path / "two_lanes.bpmn").write_text(changed)
    second = engine.repository.deploy_paths([tmp_path / "two_lanes.bpmn"], actor="admin")[0]
    assert second.version == 2 and second.definition_id != first.definition_id
    new = engine.runtime.start("two_lanes", {})
    assert engine.runtime.get(old.instance_id).definition_id == first.definition_id
    assert engine.runtime.get(new.instance_id).definition_id == second.definition_id
    assert engine.history.verify_chain(None).ok
    with engine.db.transaction() as session:
        assert session.scalar(select(HumanTask).where(HumanTask.instance_id == new.instance_id)).name == "Fill in the request"
