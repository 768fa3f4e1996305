"""``engine.consistency``: a database left alone by the engine is clean; each kind of damage done
behind the engine's back with SQL (a deleted task row, a moved timer, a dropped subscription,
a corrupted workflow state, an edited audit event, an instance in error) is found and named."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from engine.consistency import Check, Finding
from engine.errors import StepFailed
from engine.persistence.models import (
    AuditEvent, AuditStream, CheckRun, HumanTask, MessageSubscription, ProcessInstance, TimerJob, WorkflowState,
)

from .helpers import deploy, task_named


@pytest.fixture
def busy(engine, clock):
    """Real cases in every state the index tables know: a task with two boundary timers (one
    fired), a case waiting for a message, one that caught it, and a completed case."""
    deploy(engine, "timers.bpmn", "messages.bpmn", "two_lanes.bpmn")
    timers = engine.runtime.start("timers", {"wait_for": "P1D"}).instance_id
    engine.timers.fire_due(clock() + timedelta(minutes=31))             # the reminder fires, review stays
    waiting = engine.runtime.start("wait_payment", {"order_id": 1}).instance_id
    paid = engine.runtime.start("wait_payment", {"order_id": 2}).instance_id
    engine.messages.deliver("paid", {"order_id": 2}, {"amount": 3})
    done = engine.runtime.start("two_lanes", {"requester": "u1"}, actor="u1").instance_id
    engine.runtime.complete_task(task_named(engine, done, "fill").id, {"amount": 10}, actor="u1")
    assert engine.runtime.get(done).status == "completed"
    return {"timers": timers, "waiting": waiting, "paid": paid, "done": done}


def found(engine) -> set[tuple]:
    report = engine.consistency.run(record=False)
    return {(f.check, f.instance_id, f.element_id) for f in report.findings}


def run_sql(engine, statement) -> None:
    with engine.db.transaction() as session:
        assert session.execute(statement).rowcount >= 1


def test_a_database_the_engine_wrote_is_clean(engine, busy):
    report = engine.consistency.run()
    assert report.ok and report.findings == [], [f.line() for f in report.findings]
    last = engine.consistency.last()
    assert last.ok and last.at == report.at and last.duration_ms == report.duration_ms


def test_a_deleted_task_row_and_a_stray_open_one_are_found(engine, busy):
    review = task_named(engine, busy["timers"], "review")
    run_sql(engine, delete(HumanTask).where(HumanTask.id == review.id))
    run_sql(engine, update(HumanTask).where(HumanTask.instance_id == busy["done"], HumanTask.element_id == "fill")
            .values(status="open"))
    assert found(engine) == {("human_task", busy["timers"], "review"), ("human_task", busy["done"], "fill")}


def test_a_moved_timer_a_duplicate_and_a_lost_one_are_found(engine, busy, clock):
    run_sql(engine, update(TimerJob).where(TimerJob.element_id == "timeout").values(due_at=clock() + timedelta(days=9)))
    report = engine.consistency.run(record=False)
    (finding,) = report.findings
    assert (finding.check, finding.instance_id, finding.element_id) == ("timer_job", busy["timers"], "timeout")
    assert "the workflow says" in finding.message and finding.line().startswith(
        f"timer_job: instance {busy['timers']} / timeout: ")
    run_sql(engine, delete(TimerJob).where(TimerJob.element_id == "timeout"))
    assert found(engine) == {("timer_job", busy["timers"], "timeout")}


def test_a_dropped_subscription_and_an_extra_one_are_found(engine, busy):
    run_sql(engine, delete(MessageSubscription).where(MessageSubscription.instance_id == busy["waiting"]))
    with engine.db.transaction() as session:
        session.add(MessageSubscription(instance_id=busy["paid"], task_id="x", element_id="wait_paid",
                                        message_name="paid", correlation='{"order_id": 2}'))
    assert found(engine) == {("message_subscription", busy["waiting"], "wait_paid"),
                             ("message_subscription", busy["paid"], "wait_paid")}


def test_a_corrupted_workflow_state_is_found_and_the_others_still_checked(engine, busy):
    run_sql(engine, update(WorkflowState).where(WorkflowState.instance_id == busy["waiting"])
            .values(state='{"serializer_version": "1.4", "spec": '))
    report = engine.consistency.run(record=False)
    assert [(f.check, f.instance_id) for f in report.findings] == [("workflow_state", busy["waiting"])]
    assert "does not load" in report.findings[0].message


def test_a_broken_or_missing_audit_chain_is_found(engine, busy):
    run_sql(engine, update(AuditEvent).where(AuditEvent.instance_id == busy["done"], AuditEvent.kind == "task_completed")
            .values(data='{"submitted":{"amount":99}}'))
    run_sql(engine, update(AuditEvent).where(AuditEvent.stream == "definitions", AuditEvent.seq == 1)
            .values(actor="someone else"))
    report = engine.consistency.run(record=False)
    assert {(f.check, f.instance_id, f.subject) for f in report.findings} == {
        ("audit_chain", busy["done"], None), ("audit_chain", None, "stream definitions")}
    assert any("altered" in f.message for f in report.findings)
    with engine.db.transaction() as session:     # an instance whose events are all gone
        session.execute(delete(AuditEvent).where(AuditEvent.instance_id == busy["paid"]))
        session.execute(delete(AuditStream).where(AuditStream.stream == f"instance:{busy['paid']}"))
    assert ("audit_chain", busy["paid"], None) in found(engine)


def test_instances_in_error_are_reported_with_their_incident(engine, busy):
    deploy(engine, "failing.bpmn")
    failing = engine.runtime.start("failing", {"total": 1}).instance_id
    with pytest.raises(StepFailed):
        engine.runtime.complete_task(task_named(engine, failing, "enter").id, {"divisor": 0}, actor="u")
    run_sql(engine, update(ProcessInstance).where(ProcessInstance.id == busy["waiting"]).values(status="error"))
    report = engine.consistency.run(record=False)
    assert {(f.check, f.instance_id, f.element_id) for f in report.findings} == {
        ("incidents", failing, "compute"), ("incidents", busy["waiting"], None)}
    by_instance = {f.instance_id: f.message for f in report.findings}
    assert "ZeroDivisionError" in by_instance[failing] and "without an open incident" in by_instance[busy["waiting"]]


def test_leftovers_on_a_closed_instance_are_found(engine, busy):
    with engine.db.transaction() as session:
        session.add(TimerJob(kind="event", instance_id=busy["done"], task_id="t", element_id="late",
                             due_at=engine.clock(), status="waiting"))
    assert found(engine) == {("timer_job", busy["done"], "late")}


def test_caller_checks_run_after_the_engines_and_a_broken_one_is_itself_a_finding(make_engine):
    def absent_children(engine):
        yield Finding("absence_without_case", "absent 3 school days, no open case", subject="child 12")

    def broken(engine):
        raise RuntimeError("bug in a check")
    engine = make_engine(checks=[Check("absent", absent_children), Check("broken", broken)])
    names = [c.name for c in engine.consistency.checks()]
    assert names == ["instances", "closed_instances", "uncorrelatable", "audit_chain", "incidents", "absent", "broken"]
    report = engine.consistency.run()
    assert [f.line() for f in report.findings] == [
        "absence_without_case: child 12: absent 3 school days, no open case",
        "broken: check: the check itself failed: RuntimeError: bug in a check"]
    assert not report.ok
    with engine.db.read() as session:
        (row,) = session.scalars(select(CheckRun))
    assert (row.ok, row.finding_count) == (False, 2)
    assert engine.consistency.last().findings == report.findings
