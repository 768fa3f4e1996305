"""Suspend, resume, terminate (issue 14, "Running cases"): what waits, what is freed."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.errors import Conflict, InstanceSuspended, InvalidInput, StepFailed
from engine.persistence.models import Incident, MessageSubscription, TimerJob
from engine.tasks import TaskQuery
from tests.diagrams import linear_process, user_task

from .helpers import deploy, deploy_diagram, kinds, open_tasks, task_named

TIMER = ('<bpmn:intermediateCatchEvent id="wait_hour" name="Wait an hour"><bpmn:timerEventDefinition>'
         '<bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')


def _events(engine, instance_id, kind):
    return [e for e in engine.history.events(instance_id) if e.kind == kind]


def test_suspended_tasks_cannot_be_completed_or_claimed_and_leave_the_inbox(engine):
    deploy_diagram(engine, linear_process("two_steps", user_task("first"), user_task("second")))
    case = engine.runtime.start("two_steps", {})
    row = task_named(engine, case.instance_id, "first")
    assert engine.lifecycle.suspend(case.instance_id, "家长申请暂缓", actor="admin").status == "suspended"

    with pytest.raises(InstanceSuspended) as refused:
        engine.runtime.complete_task(row.id, {}, actor="u")
    assert refused.value.status == 409
    with pytest.raises(InstanceSuspended):
        engine.tasks.claim(row.id, "u")
    assert open_tasks(engine, case.instance_id) == []      # an inbox: not actionable, left out
    shown, _ = engine.tasks.list(TaskQuery(instance_id=case.instance_id, include_suspended=True))
    assert [t.id for t in shown] == [row.id]                # still open, for the case page
    assert engine.runtime.get(case.instance_id).status == "suspended"

    engine.lifecycle.resume(case.instance_id, "已核实", actor="admin")
    engine.runtime.complete_task(row.id, {}, actor="u")
    assert [t.element_id for t in open_tasks(engine, case.instance_id)] == ["second"]
    suspended, resumed = _events(engine, case.instance_id, "instance_suspended"), \
        _events(engine, case.instance_id, "instance_resumed")
    assert [(e.actor, e.data) for e in suspended] == [("admin", '{"reason":"家长申请暂缓"}')]
    assert [e.actor for e in resumed] == ["admin"]
    assert engine.history.verify_chain(case.instance_id).ok


def test_a_timer_due_while_suspended_fires_after_resume(engine, clock):
    deploy_diagram(engine, linear_process("timed", TIMER, user_task("after")))
    case = engine.runtime.start("timed", {})
    engine.lifecycle.suspend(case.instance_id, "暂停", actor="admin")
    later = clock() + timedelta(hours=2)
    assert engine.timers.fire_due(later) == 0
    with engine.db.read() as session:
        assert [j.status for j in session.scalars(select(TimerJob).where(
            TimerJob.instance_id == case.instance_id))] == ["waiting"]   # not lost, not fired
    assert open_tasks(engine, case.instance_id) == []

    engine.lifecycle.resume(case.instance_id, "继续", actor="admin")
    assert engine.timers.fire_due(later) == 1
    assert [t.element_id for t in open_tasks(engine, case.instance_id)] == ["after"]


def test_a_message_for_a_suspended_case_waits_and_is_delivered_on_resume(engine):
    deploy(engine, "messages.bpmn")
    case = engine.runtime.start("wait_payment", {"order_id": 41})
    engine.lifecycle.suspend(case.instance_id, "暂停", actor="admin")
    sent = engine.messages.deliver("paid", {"order_id": 41}, {"amount": 5})
    assert sent.status == "pending" and sent.reached == []
    assert open_tasks(engine, case.instance_id) == []

    engine.lifecycle.resume(case.instance_id, "继续", actor="admin")
    assert [t.element_id for t in open_tasks(engine, case.instance_id)] == ["ship"]
    assert "message_received" in kinds(engine, case.instance_id)


def test_terminate_cancels_everything_and_frees_the_business_key(engine):
    deploy_diagram(engine, linear_process("keyed", user_task("first")))
    case = engine.runtime.start("keyed", {}, business_key="child:1")
    engine.lifecycle.suspend(case.instance_id, "暂停", actor="admin")
    with pytest.raises(Conflict):      # a suspended case is still the open one
        engine.runtime.start("keyed", {}, business_key="child:1")

    result = engine.lifecycle.terminate(case.instance_id, "重复立案", actor="admin")
    assert result.status == "terminated"
    assert open_tasks(engine, case.instance_id) == []
    cancelled, _ = engine.tasks.list(TaskQuery(instance_id=case.instance_id, status="cancelled"))
    assert [t.element_id for t in cancelled] == ["first"]
    [event] = _events(engine, case.instance_id, "instance_terminated")
    assert event.actor == "admin" and "重复立案" in event.data and "suspended" in event.data
    second = engine.runtime.start("keyed", {}, business_key="child:1")
    assert second.status == "active"
    with pytest.raises(Conflict):
        engine.lifecycle.resume(case.instance_id, "x", actor="admin")
    assert engine.history.verify_chain(case.instance_id).ok


def test_terminate_drops_timers_and_subscriptions_and_closes_an_incident(engine):
    deploy(engine, "messages.bpmn")
    waiting = engine.runtime.start("wait_payment", {"order_id": 7})
    engine.lifecycle.terminate(waiting.instance_id, "撤销", actor="admin")
    with engine.db.read() as session:
        assert session.scalars(select(MessageSubscription).where(
            MessageSubscription.instance_id == waiting.instance_id)).all() == []
    assert engine.messages.deliver("paid", {"order_id": 7}, {}).status == "unmatched"

    deploy_diagram(engine, linear_process("timed", TIMER, user_task("after")))
    timed = engine.runtime.start("timed", {})
    engine.lifecycle.terminate(timed.instance_id, "撤销", actor="admin")
    with engine.db.read() as session:
        assert [j.status for j in session.scalars(select(TimerJob).where(
            TimerJob.instance_id == timed.instance_id))] == ["cancelled"]


def test_terminate_closes_the_open_incident_of_a_failed_case(engine):
    deploy(engine, "failing.bpmn")
    started = engine.runtime.start("failing", {"total": 10})
    with pytest.raises(StepFailed) as failed:
        engine.runtime.complete_task(task_named(engine, started.instance_id, "enter").id, {"divisor": 0}, actor="u")
    instance_id = failed.value.instance_id
    engine.lifecycle.terminate(instance_id, "流程图有误", actor="admin")
    with engine.db.read() as session:
        incident = session.get(Incident, failed.value.incident_id)
    assert (incident.status, incident.resolution) == ("resolved", "terminated")
    assert engine.runtime.get(instance_id).status == "terminated"


def test_bad_requests_change_nothing(engine):
    deploy_diagram(engine, linear_process("one", user_task("only")))
    case = engine.runtime.start("one", {})
    for reason in ("", "   ", None, "x" * 2001):
        with pytest.raises(InvalidInput) as bad:
            engine.lifecycle.suspend(case.instance_id, reason, actor="admin")
        assert "reason" in bad.value.errors
    with pytest.raises(Conflict):
        engine.lifecycle.resume(case.instance_id, "不在暂停", actor="admin")
    engine.runtime.complete_task(task_named(engine, case.instance_id, "only").id, {}, actor="u")
    for act in (engine.lifecycle.suspend, engine.lifecycle.terminate):
        with pytest.raises(Conflict):
            act(case.instance_id, "已办结", actor="admin")
    assert kinds(engine, case.instance_id).count("instance_suspended") == 0
