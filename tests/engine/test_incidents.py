"""A failing script rolls the command back and leaves an incident an administrator can retry."""
from __future__ import annotations

import pytest

from engine.errors import Conflict, StepFailed
from engine.persistence.models import HumanTask, WorkflowState

from .helpers import deploy, kinds, open_tasks, task_named


def test_failing_script_rolls_back_and_records_incident_then_retry(engine):
    deploy(engine, "failing.bpmn")
    started = engine.runtime.start("failing", {"total": 10})
    enter = task_named(engine, started.instance_id, "enter")
    with engine.db.transaction() as session:
        state_before = session.get(WorkflowState, started.instance_id).state

    with pytest.raises(StepFailed) as err:
        engine.runtime.complete_task(enter.id, {"divisor": 0}, actor="u")
    assert err.value.element_id == "compute"
    assert "ZeroDivisionError" in err.value.message

    # Nothing of the failed command stayed: same state, same task open, no completion audited.
    with engine.db.transaction() as session:
        assert session.get(WorkflowState, started.instance_id).state == state_before
        assert session.get(HumanTask, enter.id).status == "open"
    assert engine.runtime.get(started.instance_id).status == "error"
    assert kinds(engine, started.instance_id) == ["instance_started", "task_ready", "error"]
    (incident,) = engine.runtime.incidents(started.instance_id)
    assert (incident.element_id, incident.status) == ("compute", "open")

    with pytest.raises(Conflict):       # no other command while in error
        engine.runtime.complete_task(enter.id, {"divisor": 2}, actor="u")
    with pytest.raises(StepFailed):     # retry without a fix fails again, same incident
        engine.runtime.retry(incident.id, actor="admin")
    assert len(engine.runtime.incidents(started.instance_id)) == 1



def test_retry_after_fixing_data_resumes(engine):
    deploy(engine, "failing.bpmn")
    started = engine.runtime.start("failing", {})          # no `total`: the script will fail
    enter = task_named(engine, started.instance_id, "enter")
    with pytest.raises(StepFailed) as err:
        engine.runtime.complete_task(enter.id, {"divisor": 4}, actor="u")
    assert "total" in err.value.message
    engine.runtime.set_variables(started.instance_id, {"total": 10}, actor="admin")
    result = engine.runtime.retry(err.value.incident_id, actor="admin")
    assert result.status == "active"
    assert [t.element_id for t in open_tasks(engine, started.instance_id)] == ["after"]
    assert engine.runtime.workflow(started.instance_id).get_next_task(spec_name="after").data["ratio"] == 2.5
    assert engine.runtime.incidents(started.instance_id) == []
    assert kinds(engine, started.instance_id)[-4:] == ["variables_set", "task_completed", "task_ready", "retried"]
    assert engine.history.verify_chain(started.instance_id).ok


HOSTILE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="hostile" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="evil"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>SCRIPT</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="evil"/>
    <bpmn:sequenceFlow id="f2" sourceRef="evil" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.mark.parametrize("script, expected", [
    ("while True:\n        pass", "time limit"),
    ("x = 'a' * 10**10", "memory limit"),
    ("x = ().__class__.__base__.__subclasses__()", "invalid attribute"),
])
def test_hostile_scripts_fail_their_instance_and_the_engine_keeps_serving(make_engine, script, expected):
    from engine.sandbox import SandboxConfig
    engine = make_engine(sandbox=SandboxConfig(time_limit_s=1.0))
    xml = HOSTILE.replace("SCRIPT", script)
    if "__class__" in script:        # refused at deploy already: never stored
        from engine.errors import InvalidInput
        with pytest.raises(InvalidInput) as err:
            engine.repository.deploy({"hostile.bpmn": xml.encode()})
        assert err.value.errors[0]["element_id"] == "evil" and expected in err.value.errors[0]["message"]
        return
    engine.repository.deploy({"hostile.bpmn": xml.encode()})
    with pytest.raises(StepFailed) as err:
        engine.runtime.start("hostile", {})
    assert err.value.element_id == "evil" and expected in err.value.message
    assert engine.runtime.get(err.value.instance_id).status == "error"
    assert engine.runtime.incidents(err.value.instance_id)[0].element_id == "evil"
    deploy(engine, "two_lanes.bpmn")                      # the engine still works
    assert engine.runtime.start("two_lanes", {}).status == "active"
