"""Cases in every state for the case-list tests (REST and pages), driven through the real engine.

``traced_case``: the head teacher's visit, then the village secretary's follow-up, then the case
closes telling the ledger its outcome (``case_event`` closed, as persuasion.bpmn does);
``timer_case``: waits 30 days on a timer; ``broken_case``: its first step fails (an error; its
start abandoned by an administrator: terminated).

| case | process | child (school, village) | state |
|---|---|---|---|
| a | traced_case | 1 张小明 (zx, v-jt) | running: visit open (ht31) |
| b | traced_case | 3 王芳芳 (fg, v-fg) | completed, returned_before_report |
| c | traced_case | 2 李红 (zx, v-fg) | running: follow_up open (vsfg), visit done by ht32 |
| d | timer_case | 1 张小明 (by its business key only: no task) | waiting |
| e | broken_case | — | error |
| f | broken_case | — | terminated |
"""
from __future__ import annotations

from types import SimpleNamespace

from engine.errors import StepFailed
from ledger.accounts import create_user
from ledger.child_status import apply_case_events

from .town import PASSWORD

DEFS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_{key}"
    targetNamespace="http://baoxue.local/bpmn">
  {body}
</bpmn:definitions>"""

TRACED = DEFS.format(key="traced", body="""
  <bpmn:message id="msg_case_event" name="case_event"/>
  <bpmn:collaboration id="collab_traced"><bpmn:participant id="p_traced" processRef="traced_case"/></bpmn:collaboration>
  <bpmn:process id="traced_case" name="测试劝返案件" isExecutable="true">
    <bpmn:laneSet id="lanes_traced">
      <bpmn:lane id="lane_ht" name="head_teacher"><bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>visit</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_vs" name="village_secretary"><bpmn:flowNodeRef>follow_up</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>closed</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="visit" name="班主任家访">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="dueIn" value="&quot;P3D&quot;"/></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="follow_up" name="村书记跟进"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:intermediateThrowEvent id="closed" name="结案">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:messageEventDefinition id="med_closed" messageRef="msg_case_event">
        <bpmn:extensionElements><spiffworkflow:messagePayload>{"child_id": child_id, "event": "closed", "outcome": "returned_before_report"}</spiffworkflow:messagePayload></bpmn:extensionElements>
      </bpmn:messageEventDefinition>
    </bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="visit"/>
    <bpmn:sequenceFlow id="f2" sourceRef="visit" targetRef="follow_up"/>
    <bpmn:sequenceFlow id="f3" sourceRef="follow_up" targetRef="closed"/>
    <bpmn:sequenceFlow id="f4" sourceRef="closed" targetRef="end"/>
  </bpmn:process>""")

TIMER = DEFS.format(key="timer", body="""
  <bpmn:process id="timer_case" name="测试定时等待" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P30D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
  </bpmn:process>""")

BROKEN = DEFS.format(key="broken", body="""
  <bpmn:process id="broken_case" name="测试出错流程" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="fails" name="计算"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>x = missing_value + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fails"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fails" targetRef="end"/>
  </bpmn:process>""")


def _failed_start(engine) -> int:
    try:
        engine.runtime.start("broken_case", {}, actor="leader")
    except StepFailed as exc:
        return exc.instance_id
    raise AssertionError("the broken start did not fail")


def build_cases(engine) -> SimpleNamespace:
    """Deploy the three processes, add the county bureau's account and make cases a-f."""
    for name, text in (("traced_case.bpmn", TRACED), ("timer_case.bpmn", TIMER), ("broken_case.bpmn", BROKEN)):
        engine.repository.deploy({name: text.encode()}, actor="admin")
    with engine.db.transaction() as session:
        create_user(session, "county", "县教育局", PASSWORD, now=engine.clock(), roles=[("county_bureau", "town")])
    start = engine.runtime.start

    def task(result):
        return result.next_tasks[0]["task_id"]

    a = start("traced_case", {"child_id": 1}, business_key="child:1", actor="ht31")
    b = start("traced_case", {"child_id": 3}, business_key="child:3", actor="ht11")
    follow_b = engine.runtime.complete_task(task(b), {}, actor="ht11")
    engine.runtime.complete_task(task(follow_b), {}, actor="vsfg")
    apply_case_events(engine)
    c = start("traced_case", {"child_id": 2}, business_key="child:2", actor="ht32")
    engine.runtime.complete_task(task(c), {}, actor="ht32")
    d = start("timer_case", {"child_id": 1}, business_key="child:1", actor="leader")
    e = _failed_start(engine)
    f = _failed_start(engine)
    engine.runtime.resolve_incident(engine.runtime.incidents(f)[0].id, "放弃该次启动", actor="admin")
    return SimpleNamespace(a=a.instance_id, b=b.instance_id, c=c.instance_id, d=d.instance_id, e=e, f=f)
