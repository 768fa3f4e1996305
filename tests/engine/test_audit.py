"""The audit chain: every state change is an event; editing or deleting one is detected."""
from __future__ import annotations

from sqlalchemy import delete, select, update

from engine.persistence.models import AuditEvent

from .helpers import deploy, task_named


def run_case(engine):
    deploy(engine, "two_lanes.bpmn")
    started = engine.runtime.start("two_lanes", {"requester": "u1"}, actor="u1")
    fill = task_named(engine, started.instance_id, "fill")
    engine.tasks.claim(fill.id, "u1")
    engine.runtime.complete_task(fill.id, {"amount": 70}, actor="u1")
    return started.instance_id


def test_events_carry_actor_time_element_and_data(engine, clock):
    instance_id = run_case(engine)
    events = engine.history.events(instance_id)
    completed = next(e for e in events if e.kind == "task_completed")
    assert (completed.actor, completed.element_id, completed.at) == ("u1", "fill", clock())
    assert '"amount":70' in completed.data
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert engine.history.verify_chain(instance_id).ok
    assert engine.history.verify_chain(None).ok             # version_deployed chain


def test_edited_event_is_detected(engine):
    instance_id = run_case(engine)
    with engine.db.transaction() as session:
        session.execute(update(AuditEvent).where(AuditEvent.instance_id == instance_id,
                                                 AuditEvent.kind == "task_completed")
                        .values(data='{"name":"Fill in the request","submitted":{"amount":7}}'))
    report = engine.history.verify_chain(instance_id)
    assert not report.ok and "altered" in report.problems[0]


def test_deleted_event_in_the_middle_or_at_the_end_is_detected(engine):
    instance_id = run_case(engine)
    with engine.db.transaction() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.instance_id == instance_id, AuditEvent.seq == 2))
    assert any("missing" in p for p in engine.history.verify_chain(instance_id).problems)

    other = engine.runtime.start("two_lanes", {}).instance_id
    with engine.db.transaction() as session:
        last = session.scalar(select(AuditEvent).where(AuditEvent.instance_id == other)
                              .order_by(AuditEvent.seq.desc()))
        session.delete(last)
    assert not engine.history.verify_chain(other).ok


def test_recomputed_hash_of_an_edited_event_still_breaks_the_link(engine):
    instance_id = run_case(engine)
    with engine.db.transaction() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.instance_id == instance_id, AuditEvent.seq == 2))
        event.actor = "someone-else"
        from engine.audit import _digest
        event.hash = _digest(event.prev_hash, event)       # a forger who knows the scheme
    report = engine.history.verify_chain(instance_id)
    assert any("does not link" in p for p in report.problems)
