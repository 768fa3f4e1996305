"""A completion sets only the fields its form declares, and never a variable the case is
routed or correlated by, whatever the form's schema says (issue 9, item 13)."""
from __future__ import annotations

import pytest

from engine.errors import InvalidInput
from engine.formschema import declared_fields
from engine.runtime.hooks import Route

from ..diagrams import linear_process, user_task
from .helpers import deploy_diagram, kinds, open_tasks, task_named

# No additionalProperties: false, as an administrator may well upload it.
LOOSE = {"type": "object", "properties": {"amount": {"type": "integer"}}}
CLAIMS_CHILD = {"type": "object", "properties": {"amount": {"type": "integer"}, "child_id": {"type": "integer"}}}
REPLY = ('<bpmn:message id="msg_reply" name="reply"/>'
         '<bpmn:correlationProperty id="case_ref" name="case_ref">'
         '<bpmn:correlationPropertyRetrievalExpression messageRef="msg_reply">'
         '<bpmn:formalExpression>case_ref</bpmn:formalExpression>'
         '</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>')
WAIT_REPLY = ('<bpmn:intermediateCatchEvent id="wait_reply"><bpmn:messageEventDefinition id="reply_def" '
              'messageRef="msg_reply"><bpmn:extensionElements><spiffworkflow:messageVariable>reply'
              '</spiffworkflow:messageVariable></bpmn:extensionElements></bpmn:messageEventDefinition>'
              '</bpmn:intermediateCatchEvent>')


def village_of_the_child(task):
    """A router like the domain's: the org unit comes from the case's child_id."""
    return Route(role=task.lane, org_unit=f"village-of-{task.data.get('child_id')}")


@pytest.fixture
def guarded(make_engine):
    engine = make_engine(protected_variables={"child_id"}, router=village_of_the_child)
    deploy_diagram(engine, linear_process("visit", user_task("fill", form="loose.schema.json"), user_task("next")),
                   forms={"loose.schema.json": LOOSE})
    return engine


def test_an_undeclared_field_is_refused_whatever_additional_properties_says(guarded):
    started = guarded.runtime.start("visit", {"child_id": 1})
    fill = task_named(guarded, started.instance_id, "fill")
    with pytest.raises(InvalidInput) as refused:
        guarded.runtime.complete_task(fill.id, {"amount": 1, "extra": "x"}, actor="u")
    assert list(refused.value.errors) == ["extra"]
    assert kinds(guarded, started.instance_id) == ["instance_started", "task_ready"]


def test_a_routing_variable_can_never_be_set_by_a_form(guarded):
    started = guarded.runtime.start("visit", {"child_id": 1})
    fill = task_named(guarded, started.instance_id, "fill")
    with pytest.raises(InvalidInput) as refused:
        guarded.runtime.complete_task(fill.id, {"amount": 1, "child_id": 2}, actor="u")
    assert list(refused.value.errors) == ["child_id"]
    done = guarded.runtime.complete_task(fill.id, {"amount": 1}, actor="u")
    assert done.next_tasks[0]["org_unit"] == "village-of-1"          # the case stayed with its child
    nxt = task_named(guarded, started.instance_id, "next")
    with pytest.raises(InvalidInput) as refused:                      # no form: still protected
        guarded.runtime.complete_task(nxt.id, {"child_id": 2}, actor="u")
    assert list(refused.value.errors) == ["child_id"]
    with pytest.raises(InvalidInput) as refused:                      # no form: it takes no data at all
        guarded.runtime.complete_task(nxt.id, {"remark": "free data on a task without a form"}, actor="u")
    assert list(refused.value.errors) == ["remark"]
    guarded.runtime.complete_task(nxt.id, {}, actor="u")
    assert guarded.runtime.get(started.instance_id).status == "completed"


def test_correlation_and_message_variables_are_the_engines_own(engine):
    deploy_diagram(engine, linear_process("await_reply", user_task("fill"), WAIT_REPLY, head=REPLY))
    started = engine.runtime.start("await_reply", {"case_ref": 5})
    fill = task_named(engine, started.instance_id, "fill")
    for forged in ({"case_ref": 6}, {"reply": {"ok": True}}):
        with pytest.raises(InvalidInput) as refused:
            engine.runtime.complete_task(fill.id, forged, actor="u")
        assert list(refused.value.errors) == list(forged)
    engine.runtime.complete_task(fill.id, {}, actor="u")
    assert engine.messages.waiting("reply") == [{"case_ref": 5}]
    assert open_tasks(engine, started.instance_id) == []


def test_deploy_refuses_a_form_that_declares_a_protected_variable(make_engine):
    engine = make_engine(protected_variables={"child_id"})
    with pytest.raises(InvalidInput) as refused:
        deploy_diagram(engine, linear_process("visit", user_task("fill", form="claims.schema.json")),
                       forms={"claims.schema.json": CLAIMS_CHILD})
    (error,) = refused.value.errors
    assert error["element_id"] == "fill"
    assert "claims.schema.json" in error["message"] and "child_id" in error["message"]
    with pytest.raises(InvalidInput) as refused:                      # the diagram's own correlation
        deploy_diagram(engine, linear_process("await_reply", user_task("fill", form="ref.schema.json"), WAIT_REPLY,
                                              head=REPLY),
                       forms={"ref.schema.json": {"type": "object", "properties": {"case_ref": {"type": "integer"}}}})
    (error,) = refused.value.errors
    assert error["element_id"] == "fill" and "case_ref" in error["message"]


def test_a_form_nested_under_a_variable_sets_that_variable_only(make_engine):
    engine = make_engine(protected_variables={"child_id"})
    deploy_diagram(engine, linear_process("visit", user_task("fill", form="loose.schema.json", variable="visit")),
                   forms={"loose.schema.json": LOOSE})
    started = engine.runtime.start("visit", {"child_id": 1})
    fill = task_named(engine, started.instance_id, "fill")
    with pytest.raises(InvalidInput) as refused:
        engine.runtime.complete_task(fill.id, {"amount": 1, "child_id": 2}, actor="u")
    assert list(refused.value.errors) == ["child_id"]                 # not a field of the form
    engine.runtime.complete_task(fill.id, {"amount": 1}, actor="u")
    assert engine.runtime.variables(started.instance_id, "fill")["visit"] == {"amount": 1}
    with pytest.raises(InvalidInput) as refused:
        deploy_diagram(engine, linear_process("visit", user_task("fill", form="loose.schema.json", variable="child_id")),
                       forms={"loose.schema.json": LOOSE})
    assert "child_id" in refused.value.errors[0]["message"]


def test_declared_fields_follow_combinators_and_local_references():
    schema = {"$defs": {"who": {"properties": {"visitor": {"type": "string"}}}},
              "properties": {"on": {"type": "string"}},
              "allOf": [{"$ref": "#/$defs/who"}],
              "if": {"properties": {"on": {"const": "x"}}}, "then": {"properties": {"why": {}}},
              "patternProperties": {"^n_": {}}, "additionalProperties": True}
    assert declared_fields(schema) == {"on", "visitor", "why"}
    assert declared_fields({"$ref": "#/nowhere"}) == set()
