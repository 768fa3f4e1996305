"""Messages: strict correlation, message start events, unmatched messages kept."""
from __future__ import annotations

from .helpers import deploy, kinds, open_tasks


def test_message_reaches_only_the_correlated_instance(engine):
    deploy(engine, "messages.bpmn")
    first = engine.runtime.start("wait_payment", {"order_id": 1}).instance_id
    second = engine.runtime.start("wait_payment", {"order_id": 2}).instance_id
    result = engine.messages.deliver("paid", {"order_id": 2}, {"amount": 9.5}, actor="bank")
    assert (result.status, result.reached) == ("delivered", [second])
    assert [t.element_id for t in open_tasks(engine, second)] == ["ship"]
    assert open_tasks(engine, first) == []
    ship = engine.runtime.workflow(second).get_next_task(spec_name="ship")
    assert ship.data["payment"] == {"amount": 9.5, "order_id": 2}
    assert "message_received" in kinds(engine, second) and "message_received" not in kinds(engine, first)


def test_message_without_matching_correlation_is_kept_unmatched(engine):
    deploy(engine, "messages.bpmn")
    waiting = engine.runtime.start("wait_payment", {"order_id": 1}).instance_id
    for correlation in ({"order_id": 3}, {}, {"other": 1}):
        result = engine.messages.deliver("paid", correlation, {"amount": 1})
        assert (result.status, result.reached) == ("unmatched", [])
    assert engine.messages.deliver("nobody_waits", {"order_id": 1}).status == "unmatched"
    assert [m.name for m in engine.messages.unmatched()] == ["paid", "paid", "paid", "nobody_waits"]
    assert open_tasks(engine, waiting) == []


def test_message_start_event_starts_an_instance(engine):
    deploy(engine, "messages.bpmn")
    result = engine.messages.deliver("order_placed", {}, {"sku": "X1"})
    assert result.status == "delivered" and len(result.started) == 1
    (pack,) = open_tasks(engine, result.started[0])
    assert pack.element_id == "pack"
    assert engine.runtime.workflow(result.started[0]).get_next_task(spec_name="pack").data["order"] == {"sku": "X1"}


def test_a_message_thrown_by_one_instance_reaches_the_correlated_other(engine):
    deploy(engine, "throw_catch.bpmn")
    other = engine.runtime.start("receiver", {"case_id": 8}).instance_id
    waiting = engine.runtime.start("receiver", {"case_id": 7}).instance_id
    sender = engine.runtime.start("sender", {"case_id": 7})
    assert sender.status == "completed"
    assert [t.element_id for t in open_tasks(engine, waiting)] == ["take_over"]
    assert open_tasks(engine, other) == []
    data = engine.runtime.workflow(waiting).get_next_task(spec_name="take_over").data
    assert data["handoff"] == {"case_id": 7, "note": "from sender"}
    assert "message_sent" in kinds(engine, sender.instance_id)
    thrown = engine.messages.deliver("nothing", {})  # the outbox is drained; nothing pending
    assert thrown.status == "unmatched"
