"""Messages and correlation (issue 9): a message reaches only the case it is about.

Public bug reports of BPM engines, replayed: a case without its key, a message without its
key, multi-instance children of one instance, a key of two properties, two message starts
for one child, a catch without ``messageVariable``.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engine.errors import Conflict, InvalidInput
from engine.persistence.models import Message, MessageSubscription, ProcessInstance

from .helpers import deploy, kinds, open_tasks


def subscriptions(engine, instance_id):
    with engine.db.read() as session:
        return [(r.element_id, r.message_name, json.loads(r.correlation), r.status, r.missing)
                for r in session.scalars(select(MessageSubscription).where(
                    MessageSubscription.instance_id == instance_id).order_by(MessageSubscription.id))]


def count(engine, model, *where):
    with engine.db.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def status(engine, instance_id):
    return engine.runtime.get(instance_id).status


# -- 1. a case without its key never catches another child's message -------------------------

def test_a_case_started_without_its_key_waits_uncorrelatable_and_catches_nothing(engine):
    deploy(engine, "corr_missing_key.bpmn")
    keyless = engine.runtime.start("await_return", {}).instance_id
    blank = engine.runtime.start("await_return", {"child_id": " "}).instance_id
    child = engine.runtime.start("await_return", {"child_id": 1}).instance_id
    result = engine.messages.deliver("returned", {"child_id": 1}, {"date": "2025-03-03"})
    assert (result.status, result.reached) == ("delivered", [child])
    for case in (keyless, blank):
        assert subscriptions(engine, case) == [("a_wait", "returned", {}, "uncorrelatable", "child_id")]
        assert open_tasks(engine, case) == [] and status(engine, case) == "active"   # no incident
        assert "message_uncorrelatable" in kinds(engine, case)
        assert engine.runtime.incidents(keyless) == []
    assert {s.instance_id for s in engine.messages.uncorrelatable()} == {keyless, blank}
    findings = [f for f in engine.consistency.run().findings if f.check == "uncorrelatable"]
    assert sorted((f.instance_id, f.element_id) for f in findings) == [(keyless, "a_wait"), (blank, "a_wait")]
    # The administrator gives the case its key: from then on it waits for that child only.
    engine.runtime.set_variables(keyless, {"child_id": 2}, actor="admin")
    assert subscriptions(engine, keyless) == [("a_wait", "returned", {"child_id": 2}, "waiting", None)]
    assert engine.messages.deliver("returned", {"child_id": 2}).reached == [keyless]
    assert [t.element_id for t in open_tasks(engine, keyless)] == ["a_welcome"]


def test_a_start_without_a_required_key_is_refused_and_stores_nothing(engine):
    deploy(engine, "corr_missing_key.bpmn")
    for variables in ({}, {"child_id": None}, {"child_id": ""}):
        with pytest.raises(InvalidInput) as refused:
            engine.runtime.start("await_return_strict", variables)
        assert refused.value.errors == {"variables.child_id": "required by the process"}
    assert count(engine, ProcessInstance) == 0
    assert engine.runtime.start("await_return_strict", {"child_id": 3}).status == "active"


def test_the_deploy_warns_where_a_catch_key_is_not_certain(engine):
    deployed = deploy(engine, "corr_missing_key.bpmn")
    (lenient, strict) = deployed
    assert (lenient.process_key, strict.process_key) == ("await_return", "await_return_strict")
    # s_wait (its process requires child_id at start) is not among them.
    assert [(w["element_id"], w["file"]) for w in deployed.warnings] == [("a_wait", "corr_missing_key.bpmn")]
    assert "child_id" in deployed.warnings[0]["message"] and "requiredVariables" in deployed.warnings[0]["message"]


# -- 2. a message without its key is refused, and nothing reaches a case ---------------------

def test_a_message_without_its_key_is_refused_and_no_case_fails(engine):
    deploy(engine, "corr_missing_key.bpmn")
    keyless = engine.runtime.start("await_return", {}).instance_id
    sent = [({}, {}), ({"child_id": None}, {}), ({"child_id": ""}, {}), ({"other": 1}, {}),
            ({}, {"child_id": 1})]   # the key in the payload only: matching reads the correlation
    for correlation, payload in sent:
        with pytest.raises(InvalidInput) as refused:
            engine.messages.deliver("returned", correlation, payload)
        assert list(refused.value.errors) == ["correlation.child_id"]
    assert count(engine, Message) == 0
    assert status(engine, keyless) == "active" and engine.runtime.incidents(keyless) == []
    assert "message_received" not in kinds(engine, keyless)


def test_a_key_of_another_type_is_refused_or_never_matches(engine):
    """``true == 1`` in Python: a message for ``child_id: true`` reached child 1's case."""
    deploy(engine, "corr_missing_key.bpmn")
    one = engine.runtime.start("await_return", {"child_id": 1}).instance_id
    for value in (True, False, 1.0, [1], {"id": 1}):
        with pytest.raises(InvalidInput) as refused:
            engine.messages.deliver("returned", {"child_id": value}, {})
        assert refused.value.errors == {"correlation.child_id": "must be a text or a whole number"}
    assert count(engine, Message) == 0
    assert engine.messages.deliver("returned", {"child_id": "1"}, {}).status == "unmatched"   # text is not 1
    assert "message_received" not in kinds(engine, one)
    assert engine.messages.deliver("returned", {"child_id": 1}, {}).reached == [one]


def test_a_thrown_message_without_a_value_reaches_no_keyless_case(engine):
    """A process may throw a message whose key has no value (it is its own data): it is kept
    unmatched, and a case waiting without the key does not catch it."""
    deploy(engine, "corr_missing_key.bpmn")
    keyless = engine.runtime.start("await_return", {}).instance_id
    with engine.db.transaction() as session:
        engine.messages.enqueue(session, "returned", {"child_id": None}, {}, sender="instance:0")
    assert engine.messages.deliver_pending() == 1
    assert [m.name for m in engine.messages.unmatched()] == ["returned"]
    assert open_tasks(engine, keyless) == [] and status(engine, keyless) == "active"


# -- 3. correlation is per called instance, not per top instance ----------------------------

def test_each_multi_instance_child_catches_only_its_own_message(engine):
    deploy(engine, "corr_mi_call.bpmn")
    household = engine.runtime.start("household", {"children": [1, 2]}).instance_id
    waits = subscriptions(engine, household)
    assert sorted(s[2]["child_id"] for s in waits) == [1, 2] and {s[3] for s in waits} == {"waiting"}
    assert engine.messages.deliver("returned", {"child_id": 1}).reached == [household]
    assert [s[2] for s in subscriptions(engine, household)] == [{"child_id": 2}]   # child 2 still waits
    assert open_tasks(engine, household) == []
    assert kinds(engine, household).count("message_received") == 1
    assert engine.messages.deliver("returned", {"child_id": 1}).status == "unmatched"
    assert engine.messages.deliver("returned", {"child_id": 2}).reached == [household]
    assert [t.element_id for t in open_tasks(engine, household)] == ["h_close"]


# -- 4. every property of the key must match, with a value -----------------------------------

def test_a_key_of_two_properties_matches_only_with_both_values(engine):
    deploy(engine, "corr_two_keys.bpmn")
    case_a = engine.runtime.start("visits", {"child_id": 5, "case_no": 1}).instance_id
    case_b = engine.runtime.start("visits", {"child_id": 5}).instance_id
    assert subscriptions(engine, case_b) == [("v_first", "visit_done", {"child_id": 5}, "uncorrelatable", "case_no")]
    with pytest.raises(InvalidInput) as refused:
        engine.messages.deliver("visit_done", {"child_id": 5})
    assert list(refused.value.errors) == ["correlation.case_no"]
    assert engine.messages.deliver("visit_done", {"child_id": 5, "case_no": 2}).status == "unmatched"
    assert engine.messages.deliver("visit_done", {"child_id": 5, "case_no": 1}).reached == [case_a]
    assert subscriptions(engine, case_b)[0][3] == "uncorrelatable"
    # The first catch fixed the key for case A (its script clears case_no afterwards): the
    # second catch waits for (5, 1) still. SpiffWorkflow alone would take (5, 9): any one
    # matching property sufficed (PR #434).
    assert subscriptions(engine, case_a) == [("v_second", "visit_done", {"case_no": 1, "child_id": 5}, "waiting", None)]
    assert engine.messages.deliver("visit_done", {"child_id": 5, "case_no": 9}).status == "unmatched"
    assert engine.messages.deliver("visit_done", {"child_id": 5, "case_no": 1}).reached == [case_a]
    assert status(engine, case_a) == "completed" and status(engine, case_b) == "active"


# -- 5. one open case per business key, however it is started --------------------------------

def test_a_second_message_start_for_one_child_is_refused(engine):
    deploy(engine, "corr_referral_start.bpmn")
    first = engine.messages.deliver("referred", {"child_id": 7}, {"by": "village"})
    assert first.status == "delivered" and len(first.started) == 1
    assert engine.runtime.get(first.started[0]).business_key == "child_id=7"
    second = engine.messages.deliver("referred", {"child_id": 7}, {"by": "school"})
    assert (second.status, second.started) == ("unmatched", [])
    assert second.refused and second.refused[0]["business_key"] == "child_id=7"
    with engine.db.read() as session:
        assert "exists already" in session.get(Message, second.message_id).last_error
    assert engine.messages.deliver("referred", {"child_id": 8}).started   # another child: a case
    assert count(engine, ProcessInstance, ProcessInstance.process_key == "referral") == 2
    # Once the case is closed, a new referral opens a new one.
    (visit,) = open_tasks(engine, first.started[0])
    engine.runtime.complete_task(visit.id, {}, actor="clerk")
    assert engine.messages.deliver("referred", {"child_id": 7}).started


def test_a_message_start_and_a_direct_start_share_the_one_open_case_rule(make_engine):
    engine = make_engine(business_key=lambda key, correlation, payload, **_: f"child:{correlation['child_id']}")
    deploy(engine, "corr_referral_start.bpmn")
    started = engine.messages.deliver("referred", {"child_id": 9, "school_code": "x"}, {"note": "n"}).started
    assert engine.runtime.get(started[0]).business_key == "child:9"
    # The payload goes to its messageVariable; the correlation is the instance's own variable
    # (its routing and later catches read it), and nothing else of the sender's becomes one.
    visit = engine.runtime.workflow(started[0]).get_next_task(spec_name="r_visit").data
    assert visit["child_id"] == 9 and visit["referral"]["note"] == "n" and "school_code" not in visit
    with pytest.raises(Conflict):
        engine.runtime.start("referral", {"child_id": 9}, business_key="child:9")
    assert count(engine, ProcessInstance) == 1


def test_the_business_key_rule_learns_who_sent_the_message(make_engine):
    """A caller may key an instance by its sender (a case's own follow-up file): the hook gets
    ``sender``, the account for a message delivered from outside."""
    seen = []
    engine = make_engine(business_key=lambda key, correlation, payload, *, session=None, sender=None:
                         seen.append(sender) or f"from:{sender}")
    deploy(engine, "corr_referral_start.bpmn")
    started = engine.messages.deliver("referred", {"child_id": 5}, actor="clerk").started
    assert seen == ["clerk"] and engine.runtime.get(started[0]).business_key == "from:clerk"


# -- 6. a catch without messageVariable keeps the payload ------------------------------------

def test_a_catch_without_message_variable_merges_the_payload_into_the_task_data(engine):
    deploy(engine, "corr_no_message_variable.bpmn")
    case = engine.runtime.start("notes", {"child_id": 4}).instance_id
    engine.messages.deliver("note_filed", {"child_id": 4}, {"note": "back at school"})
    data = engine.runtime.workflow(case).get_next_task(spec_name="n_read").data
    assert (data["note"], data["child_id"]) == ("back at school", 4)
    started = engine.messages.deliver("open_file", {}, {"reason": "referral"}).started[0]
    assert engine.runtime.workflow(started).get_next_task(spec_name="o_read").data["reason"] == "referral"
