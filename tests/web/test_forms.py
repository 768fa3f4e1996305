"""The form mapping: JSON Schema + UI schema → widgets, and posted strings → typed JSON."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from api.web.forms import build_fields, initial_values, parse_submission, posted_values

from .conftest import HOME_VISIT_SCHEMA, HOME_VISIT_UI


def by_name(fields):
    return {f.name: f for f in fields}


def test_each_schema_shape_gets_its_widget_in_ui_order():
    fields = build_fields(HOME_VISIT_SCHEMA, HOME_VISIT_UI)
    assert [f.name for f in fields] == ["visited_on", "reason", "attitude", "contacted", "family_size",
                                        "distance_km", "supports", "summary", "contact_name", "confirmed"]
    widgets = {f.name: f.widget for f in fields}
    assert widgets == {"visited_on": "date", "reason": "select", "attitude": "radio", "contacted": "yesno",
                       "family_size": "number", "distance_km": "number", "supports": "checkboxes",
                       "summary": "textarea", "contact_name": "text", "confirmed": "confirm"}
    f = by_name(fields)
    assert f["family_size"].attrs == {"step": "1", "min": 1, "max": 20}
    assert f["distance_km"].attrs["step"] == "any"
    assert f["reason"].options[1] == ("family", "家庭困难") and len(f["reason"].options) == 5
    assert f["attitude"].options == [("support", "support"), ("neutral", "neutral"), ("oppose", "oppose")]
    assert f["contacted"].options == [("true", "是"), ("false", "否")]
    assert f["supports"].options[0] == ("lunch", "营养午餐")
    assert f["summary"].label == "家访情况" and f["summary"].help == "写明见到谁、谈了什么"
    assert f["summary"].attrs["maxlength"] == 500
    assert f["contact_name"].help == "与学生的关系请写在家访情况中"
    assert f["summary"].required and not f["contact_name"].required


def test_radio_or_select_follows_the_ui_schema_then_the_number_of_options():
    schema = {"type": "object", "properties": {
        "many": {"type": "string", "enum": list("abcde")}, "few": {"type": "string", "enum": ["a", "b"]}}}
    assert {f.name: f.widget for f in build_fields(schema)} == {"many": "select", "few": "radio"}
    ui = {"many": {"ui:widget": "radio"}, "few": {"ui:widget": "select"}}
    assert {f.name: f.widget for f in build_fields(schema, ui)} == {"many": "radio", "few": "select"}


def test_ui_widget_date_hidden_and_order_without_star():
    schema = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"},
                                               "c": {"type": "string"}}}
    ui = {"ui:order": ["c", "a"], "a": {"ui:widget": "date"}, "b": {"ui:widget": "hidden"}}
    assert [(f.name, f.widget) for f in build_fields(schema, ui)] == [("c", "text"), ("a", "date")]
    assert build_fields(None) == [] and build_fields({"type": "object"}) == []


def test_posted_strings_become_the_schemas_types_and_empty_fields_are_left_out():
    fields = build_fields(HOME_VISIT_SCHEMA, HOME_VISIT_UI)
    form = MultiDict([("visited_on", "2025-03-04"), ("reason", "family"), ("attitude", ""),
                      ("contacted", "false"), ("family_size", " 5 "), ("distance_km", "2.5"),
                      ("supports", "lunch"), ("supports", "transport"), ("summary", "见到母亲\r\n同意返校 "),
                      ("contact_name", "   "), ("confirmed", "true"), ("csrf_token", "x"), ("extra", "ignored")])
    assert parse_submission(fields, form) == {
        "visited_on": "2025-03-04", "reason": "family", "contacted": False, "family_size": 5,
        "distance_km": 2.5, "supports": ["lunch", "transport"], "summary": "见到母亲\n同意返校",
        "confirmed": True}


def test_values_that_do_not_parse_are_passed_on_for_the_engine_to_reject():
    fields = build_fields(HOME_VISIT_SCHEMA, HOME_VISIT_UI)
    data = parse_submission(fields, MultiDict([("family_size", "2.5"), ("distance_km", "abc")]))
    assert data["family_size"] == "2.5" and data["distance_km"] == "abc"
    assert parse_submission(fields, MultiDict([("family_size", "1e999999999")]))["family_size"] == "1e999999999"
    assert parse_submission(fields, MultiDict([("distance_km", "NaN")]))["distance_km"] == "NaN"
    assert parse_submission(fields, MultiDict([("family_size", "4.0")]))["family_size"] == 4


def test_an_unticked_required_confirmation_is_false_and_an_optional_one_is_left_out():
    fields = build_fields(HOME_VISIT_SCHEMA, HOME_VISIT_UI)
    assert parse_submission(fields, MultiDict())["confirmed"] is False
    optional = build_fields({"type": "object", "properties": {"ok": {"type": "boolean", "const": True}}})
    assert parse_submission(optional, MultiDict()) == {}


def test_integer_enums_and_defaults():
    schema = {"type": "object", "properties": {
        "grade": {"type": "integer", "title": "年级", "enum": [1, 2, 3], "default": 2},
        "days": {"type": "array", "items": {"type": "integer", "enum": [1, 2, 3, 4, 5]}, "default": [1]}}}
    fields = build_fields(schema)
    assert [f.widget for f in fields] == ["radio", "checkboxes"]
    assert initial_values(fields) == {"grade": "2", "days": ["1"]}
    form = MultiDict([("grade", "3"), ("days", "2"), ("days", "5")])
    assert parse_submission(fields, form) == {"grade": 3, "days": [2, 5]}
    assert posted_values(fields, form) == {"grade": "3", "days": ["2", "5"]}


def test_objects_and_free_arrays_are_shown_as_unsupported_and_not_sent():
    schema = {"type": "object", "properties": {"address": {"type": "object"},
                                               "tags": {"type": "array", "items": {"type": "string"}}}}
    fields = build_fields(schema)
    assert [f.widget for f in fields] == ["unsupported", "unsupported"]
    assert parse_submission(fields, MultiDict([("address", "x"), ("tags", "y")])) == {}


def test_fields_marked_x_choices_from_offer_the_tasks_choices():
    rule = {"accounts": ["home_teacher"], "within": "school"}
    schema = {"type": "object", "required": ["lead"], "properties": {
        "lead": {"type": "string", "title": "负责教师", "x-choicesFrom": rule},
        "others": {"type": "array", "items": {"type": "string", "x-choicesFrom": rule}}}}
    offered = {"lead": [("wang", "王老师（送教教师）")], "others": [("wang", "王老师（送教教师）"), ("chen", "陈老师（班主任）")]}
    lead, others = build_fields(schema, {"lead": {"ui:widget": "select"}}, offered)
    assert (lead.widget, lead.options, lead.offered, lead.required) == ("select", offered["lead"], True, True)
    assert (others.widget, others.options, others.item_kind) == ("checkboxes", offered["others"], "string")
    assert parse_submission([lead, others], MultiDict([("lead", "wang"), ("others", "chen")])) == {
        "lead": "wang", "others": ["chen"]}
    lonely, nobody = build_fields(schema)                          # a task offering nobody
    assert (lonely.widget, nobody.widget) == ("select", "checkboxes") and "暂无可选人员" in lonely.help
