"""A called process's tasks without a lane take the calling activity's lane (issue 9 item 11).

SpiffWorkflow gives them ``lane=None`` (spiff-arena #1131), which sent them to the task-force
deputy as unroutable. The deploy says where the rule applies.
"""
from __future__ import annotations

from .conftest import ROLES
from .helpers import deploy, open_tasks


def _roles(engine, instance_id):
    return {t.element_id: (t.lane, t.candidate_role, t.unroutable) for t in open_tasks(engine, instance_id)}


def test_called_tasks_take_the_lane_of_the_call_activity_at_every_depth(make_engine):
    engine = make_engine(known_roles=ROLES)
    deploy(engine, "called_lanes.bpmn")
    started = engine.runtime.start("lane_caller", {}, actor="clerk1")
    iid = started.instance_id
    assert _roles(engine, iid) == {"review": ("clerk", "clerk", False)}

    engine.runtime.complete_task(open_tasks(engine, iid)[0].id, {}, actor="clerk1")
    # Two calls deep, through an embedded subprocess of a process without lanes.
    assert _roles(engine, iid) == {"review": ("clerk", "clerk", False)}

    engine.runtime.complete_task(open_tasks(engine, iid)[0].id, {}, actor="clerk1")
    # A called process that draws lanes keeps its own (x_own in "clerk" though called from
    # "manager"); only its task outside a lane inherits.
    assert _roles(engine, iid) == {"x_own": ("clerk", "clerk", False)}
    engine.runtime.complete_task(open_tasks(engine, iid)[0].id, {}, actor="clerk1")
    assert _roles(engine, iid) == {"x_free": ("manager", "manager", False)}
    engine.runtime.complete_task(open_tasks(engine, iid)[0].id, {}, actor="boss")
    assert engine.runtime.get(iid).status == "completed"


def test_the_deploy_notes_each_call_activity_whose_called_tasks_inherit(make_engine):
    engine = make_engine(known_roles=ROLES)
    result = deploy(engine, "called_lanes.bpmn")
    notes = {(w["element_id"], w["file"]): w["message"] for w in result.warnings}
    assert set(notes) == {("call_review", "called_lanes.bpmn"), ("call_middle", "called_lanes.bpmn"),
                          ("call_mixed", "called_lanes.bpmn")}
    # Through the called process's own call activity (outside any lane), two levels down.
    assert "laneless_review/review" in notes[("call_middle", "called_lanes.bpmn")]
    assert 'lane "clerk"' in notes[("call_review", "called_lanes.bpmn")]
    assert "review" in notes[("call_review", "called_lanes.bpmn")]
    assert "x_free" in notes[("call_mixed", "called_lanes.bpmn")]
    assert "x_own" not in notes[("call_mixed", "called_lanes.bpmn")]
    assert all(w["line"] for w in result.warnings)


def test_a_deploy_without_call_activities_in_lanes_has_no_warnings(make_engine):
    engine = make_engine(known_roles=ROLES)
    assert deploy(engine, "two_lanes.bpmn").warnings == []
