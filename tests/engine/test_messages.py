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
    result = engine.messages.deliver("paid", {"order_id": 3}, {"amount": 1})
    assert (result.status, result.reached) == ("unmatched", [])
    assert engine.messages.deliver("nobody_waits", {"order_id": 1}).status == "unmatched"
    assert [m.name for m in engine.messages.unmatched()] == ["paid", "nobody_waits"]
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


# -- the outbox: nothing sent is dropped, nothing applied twice (issue 8) -----------------

def _mark_in_error(engine, instance_id):
    """An open incident on a waiting instance (as a failed step leaves it); its stored
    command is a harmless data fix, so that the administrator's retry succeeds."""
    from engine.persistence.models import Incident, ProcessInstance
    with engine.db.transaction() as session:
        session.get(ProcessInstance, instance_id).status = "error"
        incident = Incident(instance_id=instance_id, status="open", created_at=engine.clock(), element_id=None,
                            message="test", command='{"type": "set_variables", "variables": {"fixed": true}}')
        session.add(incident)
        session.flush()
        return incident.id


def test_a_message_for_an_instance_in_error_waits_and_arrives_after_the_retry(engine):
    deploy(engine, "messages.bpmn")
    waiting = engine.runtime.start("wait_payment", {"order_id": 4}).instance_id
    incident_id = _mark_in_error(engine, waiting)
    result = engine.messages.deliver("paid", {"order_id": 4}, {"amount": 3})
    assert (result.status, result.reached, result.waiting) == ("pending", [], [waiting])
    assert engine.messages.deliver_pending() == 0            # backing off, not dropped
    engine.runtime.retry(incident_id, actor="admin")         # the administrator fixes the case
    assert [t.element_id for t in open_tasks(engine, waiting)] == ["ship"]
    assert kinds(engine, waiting).count("message_received") == 1
    with engine.db.read() as session:
        from engine.persistence.models import Message
        assert session.get(Message, result.message_id).status == "delivered"


def test_a_thrown_message_left_by_a_crash_is_delivered_once_by_the_next_dispatcher(make_engine):
    from sqlalchemy import update

    from engine.persistence.models import Message
    server, worker = make_engine(), make_engine()
    deploy(server, "throw_catch.bpmn")
    waiting = server.runtime.start("receiver", {"case_id": 7}).instance_id
    # The sender's command commits with its message in the outbox; the server "dies" before
    # delivering it (the session form of execute never delivers).
    from engine.runtime.commands import StartInstance
    with server.db.transaction() as session:
        server.runtime.start_definition(server.repository.latest("sender").id, {"case_id": 7},
                                        command=StartInstance(), session=session)
    assert open_tasks(server, waiting) == []
    assert worker.messages.deliver_pending() == 1
    assert [t.element_id for t in open_tasks(server, waiting)] == ["take_over"]
    # A dispatcher that died after delivering, before writing the outcome: the message is
    # pending again; the next one finds the delivery row and applies nothing twice.
    with worker.db.transaction() as session:
        session.execute(update(Message).where(Message.name == "handoff").values(status="pending", lease_until=None))
    assert worker.messages.deliver_pending() == 1
    assert kinds(server, waiting).count("message_received") == 1
    assert [t.element_id for t in open_tasks(server, waiting)] == ["take_over"]


def test_a_message_whose_only_target_fails_is_reported_as_held_by_the_incident(engine):
    """The sender must not read "delivered" when the one case it reached failed on it: the
    answer says ``incident`` and names it; the incident's retry applies the message."""
    deploy(engine, "message_then_script.bpmn")
    case = engine.runtime.start("split_bill", {"bill_id": 7}).instance_id
    result = engine.messages.deliver("share", {"bill_id": 7}, {"people": 0})
    assert result.status == "incident" and result.reached == [] and result.started == []
    (failure,) = result.failed
    assert failure["instance_id"] == case and failure["incident_id"]
    assert open_tasks(engine, case) == []
    fine = engine.runtime.start("split_bill", {"bill_id": 8}).instance_id
    assert engine.messages.deliver("share", {"bill_id": 8}, {"people": 4}).status == "delivered"
    assert [t.element_id for t in open_tasks(engine, fine)] == ["pay"]
