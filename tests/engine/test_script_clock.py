"""Scripts see the engine's clock: when a demo or a test moves time, a script's "today" moves
with the timers and due dates of the same step (the zone is the engine's, Asia/Shanghai)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from engine.clock import frozen_at
from engine.sandbox import SandboxedEnvironment

STAMP = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="stamp" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="note_time"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>local_now = datetime.now()
today = date.today()
also_today = datetime.today().date()
utc_naive = datetime.utcnow()
aware = datetime.now(timezone.utc)
deadline = datetime.combine(today, datetime.min.time()) + timedelta(days=3)
checks = [isinstance(reported_at, datetime), isinstance(deadline, datetime), isinstance(today, date)]</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="after"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="note_time"/>
    <bpmn:sequenceFlow id="f2" sourceRef="note_time" targetRef="after"/>
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def stamped(engine):
    started = engine.runtime.start("stamp", {"reported_at": datetime(2025, 1, 2, 8, 0)})
    return engine.runtime.workflow(started.instance_id).get_next_task(spec_name="after").data


def test_a_script_reads_the_engine_clock_and_moves_with_it(engine, clock):
    engine.repository.deploy({"stamp.bpmn": STAMP.encode()})
    clock.set(datetime(2025, 3, 3, 17, 30, tzinfo=timezone.utc))          # 01:30 on 4 March in Shanghai
    first = stamped(engine)
    assert first["local_now"] == datetime(2025, 3, 4, 1, 30)
    assert first["today"] == first["also_today"] == date(2025, 3, 4)
    assert first["utc_naive"] == datetime(2025, 3, 3, 17, 30)
    assert first["aware"] == clock()
    assert first["deadline"] == datetime(2025, 3, 7, 0, 0)                 # a standard datetime: kept in task data
    assert first["checks"] == [True, True, True]

    clock.advance(timedelta(days=40))
    later = stamped(engine)
    assert later["today"] == date(2025, 4, 13) and later["aware"] == clock()


def test_outside_a_command_scripts_see_real_time_and_inside_the_frozen_moment():
    env = SandboxedEnvironment()
    moment = datetime(2031, 7, 1, 12, 0, tzinfo=timezone.utc)   # 1 July in every usual zone
    with frozen_at(moment):
        assert env.evaluate("datetime.now(timezone.utc)", {}) == moment
        assert env.evaluate("date.today().isoformat()", {}) == "2031-07-01"
    before = datetime.now(timezone.utc)
    assert before <= env.evaluate("datetime.now(timezone.utc)", {}) <= datetime.now(timezone.utc)
