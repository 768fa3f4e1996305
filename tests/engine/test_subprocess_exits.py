"""What SpiffWorkflow 3.2 does when an embedded subprocess runs branches side by side and one
of them leaves it (issue 10 §2-§3, processes/persuasion.bpmn ``persuade``): an escalation end
event inside reaches an interrupting escalation boundary event on the subprocess, with the
payload its ``bpmn:escalation`` names; a terminate end event ends only the subprocess. In both
cases the other branch's open task is cancelled. Findings in engine/README.md."""
from __future__ import annotations

from tests.diagrams import flows, process_file

from .helpers import deploy_diagram, open_tasks, task_named

FORM = {"type": "object", "properties": {"cause": {"type": "string"}}}
ESCALATION = ('<bpmn:escalation id="esc_exit" name="lawful_exit" escalationCode="lawful_exit">'
              "<bpmn:extensionElements><spiffworkflow:payloadExpression>"
              '{"exit_cause": exit_cause, "exit_from": exit_from}</spiffworkflow:payloadExpression>'
              "<spiffworkflow:variableName>lawful_exit</spiffworkflow:variableName>"
              "</bpmn:extensionElements></bpmn:escalation>")


def _user(task_id: str) -> str:
    return (f'<bpmn:userTask id="{task_id}"><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="formJsonSchemaFilename" value="cause.schema.json"/>'
            "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>")


def _diagram(boundary: bool) -> str:
    inner = (
        '<bpmn:startEvent id="s_start"/><bpmn:parallelGateway id="fork"/>'
        + _user("call") + _user("count")
        + '<bpmn:exclusiveGateway id="gw" default="f_gw_call_end"/>'
        '<bpmn:scriptTask id="set_exit"><bpmn:script>exit_cause = cause\nexit_from = "call"</bpmn:script></bpmn:scriptTask>'
        '<bpmn:endEvent id="exit_end"><bpmn:escalationEventDefinition escalationRef="esc_exit"/></bpmn:endEvent>'
        '<bpmn:endEvent id="call_end"/>'
        '<bpmn:endEvent id="cleared"><bpmn:terminateEventDefinition/></bpmn:endEvent>'
        + flows("s_start>fork", "fork>call", "fork>count", "call>gw", 'gw>set_exit?cause == "disability"',
                "gw>call_end", "set_exit>exit_end", "count>cleared"))
    body = (f'<bpmn:startEvent id="start"/><bpmn:subProcess id="sp">{inner}</bpmn:subProcess>'
            '<bpmn:endEvent id="end"/>' + flows("start>sp", "sp>after", "after>end")
            + _user("after"))
    if boundary:
        body += ('<bpmn:boundaryEvent id="on_exit" attachedToRef="sp">'
                 '<bpmn:escalationEventDefinition escalationRef="esc_exit"/></bpmn:boundaryEvent>'
                 + _user("handle_exit") + '<bpmn:endEvent id="exit_done"/>'
                 + flows("on_exit>handle_exit", "handle_exit>exit_done"))
    return process_file("exits", body, head=ESCALATION)


def _start(engine, boundary=True):
    deploy_diagram(engine, _diagram(boundary), {"cause.schema.json": FORM})
    return engine.runtime.start("exits", {"case": 7}).instance_id


def test_an_escalation_end_in_a_branch_interrupts_the_subprocess_with_its_payload(engine):
    instance_id = _start(engine)
    assert sorted(t.element_id for t in open_tasks(engine, instance_id)) == ["call", "count"]
    engine.runtime.complete_task(task_named(engine, instance_id, "call").id, {"cause": "disability"}, actor="u")
    assert [t.element_id for t in open_tasks(engine, instance_id)] == ["handle_exit"]   # "count" cancelled
    data = engine.runtime.workflow(instance_id).get_next_task(spec_name="handle_exit").data
    assert data["lawful_exit"] == {"exit_cause": "disability", "exit_from": "call"}
    assert "exit_cause" not in data        # set inside, lost with the interruption: only the payload crosses
    cancelled = [e.element_id for e in engine.history.events(instance_id) if e.kind == "task_cancelled"]
    assert cancelled == ["count"]
    engine.runtime.complete_task(task_named(engine, instance_id, "handle_exit").id, {}, actor="u")
    assert engine.runtime.get(instance_id).status == "completed"


def test_another_cause_ends_only_its_branch(engine):
    instance_id = _start(engine)
    engine.runtime.complete_task(task_named(engine, instance_id, "call").id, {"cause": "poverty"}, actor="u")
    assert [t.element_id for t in open_tasks(engine, instance_id)] == ["count"]


def test_a_terminate_end_in_a_branch_ends_the_subprocess_and_cancels_the_late_task(engine):
    instance_id = _start(engine)
    engine.runtime.complete_task(task_named(engine, instance_id, "count").id, {}, actor="u")
    assert [t.element_id for t in open_tasks(engine, instance_id)] == ["after"]   # "call" cancelled
    cancelled = [e.element_id for e in engine.history.events(instance_id) if e.kind == "task_cancelled"]
    assert cancelled == ["call"]


def test_without_a_boundary_the_escalation_only_ends_its_branch(engine):
    instance_id = _start(engine, boundary=False)
    engine.runtime.complete_task(task_named(engine, instance_id, "call").id, {"cause": "disability"}, actor="u")
    assert [t.element_id for t in open_tasks(engine, instance_id)] == ["count"]
