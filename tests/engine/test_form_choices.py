"""``x-choicesFrom``: a field whose values the caller's ``form_choices`` hook offers on the
task (people of a school, say): any other value is refused naming the field; the engine
reads the rule only to hand it to the hook (issue 11, "the plan names the teachers")."""
from __future__ import annotations

from datetime import date

from engine.errors import InvalidInput
from engine.formschema import choice_fields
from engine.runtime.formvalidation import validate_form

RULE = {"accounts": ["teacher"]}
SCHEMA = {"type": "object", "properties": {
    "lead": {"type": "string", "x-choicesFrom": RULE},
    "others": {"type": "array", "items": {"type": "string", "x-choicesFrom": RULE}},
    "note": {"type": "string"}}}


def errors(data, choices=lambda rule: [("wang", "王老师"), ("chen", "陈老师")]):
    asked = []

    def offered(rule):
        asked.append(rule)
        return choices(rule)
    try:
        validate_form(SCHEMA, data, lambda e: (e.validator, e.validator_value), today=date(2025, 10, 20),
                      choices=offered)
    except InvalidInput as exc:
        return exc.errors, asked
    return {}, asked


def test_a_value_the_task_offers_is_accepted_and_the_hook_is_asked_once_per_rule():
    assert errors({"lead": "wang", "others": ["chen", "wang"], "note": "x"}) == ({}, [RULE])


def test_any_other_value_is_refused_naming_the_field_or_the_item():
    found, _ = errors({"lead": "li", "others": ["chen", "zhao"]})
    assert found == {"lead": ("x-choicesFrom", RULE), "others.1": ("x-choicesFrom", RULE)}


def test_a_task_offering_nobody_takes_no_value():
    found, _ = errors({"lead": "wang"}, choices=lambda rule: [])
    assert found == {"lead": ("x-choicesFrom", RULE)}


def test_the_fields_with_choices_and_their_rules():
    assert choice_fields(SCHEMA) == {"lead": RULE, "others": RULE}
    assert choice_fields({"properties": {"x": {"type": "string"}}}) == {} and choice_fields(None) == {}
