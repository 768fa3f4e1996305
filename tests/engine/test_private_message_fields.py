"""Fields the caller names private are kept only by the receiving process: a delivered or
unmatched message's stored copy drops them (``EngineConfig.private_message_fields``)."""
from __future__ import annotations

import json

from sqlalchemy import select

from engine.persistence.models import Message

from .helpers import deploy

PRIVATE = {"paid": ("note",), "*": ("health",)}


def stored(engine, message_id: int) -> dict:
    with engine.db.read() as session:
        return json.loads(session.scalar(select(Message.payload).where(Message.id == message_id)))


def test_the_receiver_keeps_private_fields_and_the_stored_message_drops_them(make_engine):
    engine = make_engine(private_message_fields=PRIVATE)
    deploy(engine, "messages.bpmn")
    waiting = engine.runtime.start("wait_payment", {"order_id": 2}).instance_id
    result = engine.messages.deliver("paid", {"order_id": 2}, {"amount": 9.5, "note": "父亲住院", "health": "哮喘"})
    assert result.status == "delivered"
    ship = engine.runtime.workflow(waiting).get_next_task(spec_name="ship")
    assert ship.data["payment"] == {"amount": 9.5, "order_id": 2, "note": "父亲住院", "health": "哮喘"}
    assert stored(engine, result.message_id) == {"amount": 9.5}


def test_an_unmatched_message_keeps_no_private_text(make_engine):
    engine = make_engine(private_message_fields=PRIVATE)
    deploy(engine, "messages.bpmn")
    result = engine.messages.deliver("nobody_waits", {"order_id": 1}, {"health": "抑郁", "kept": "yes"})
    assert result.status == "unmatched"
    assert stored(engine, result.message_id) == {"kept": "yes"}
    assert "抑郁" not in json.dumps([m.payload for m in engine.messages.unmatched()], ensure_ascii=False)


def test_without_rules_the_payload_is_stored_whole(engine):
    deploy(engine, "messages.bpmn")
    result = engine.messages.deliver("nobody_waits", {"order_id": 1}, {"health": "抑郁"})
    assert stored(engine, result.message_id) == {"health": "抑郁"}
