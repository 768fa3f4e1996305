"""Form schemas an administrator uploads cannot hang the server or make it fetch files:
regexes run on a linear-time engine (RE2) and references stay inside the form."""
from __future__ import annotations

import json

import pytest

from engine.errors import InvalidInput
from engine.runtime.formvalidation import validate_form

from .test_validation import VISIT_LINE, assert_error, deploy

CATASTROPHIC = "^(a+)+$"          # Python's re: about 2**n steps on "a" * n + "!"
HOSTILE_INPUT = "a" * 10_000 + "!"  # hours with re; RE2 answers at once


def visit_form(**properties) -> dict:
    return {"visit-schema.json": json.dumps({"type": "object", **properties}).encode()}


def test_a_pattern_the_linear_engine_runs_is_accepted():
    schema = visit_form(properties={"phone": {"type": "string", "pattern": "^1[3-9][0-9]{9}$"},
                                    "code": {"type": "string", "pattern": CATASTROPHIC}},
                        patternProperties={"^note_[a-z]+$": {"type": "string"}})
    assert deploy(extra=schema).errors == []


@pytest.mark.parametrize("properties, pointer", [
    ({"properties": {"name": {"type": "string", "pattern": r"^(a)\1$"}}}, "/properties/name/pattern"),
    ({"properties": {"name": {"type": "string", "pattern": "^(?!admin).*$"}}}, "/properties/name/pattern"),
    ({"$defs": {"n": {"pattern": "(?<=x)y"}}}, "/$defs/n/pattern"),
    ({"patternProperties": {"^(?=a)b": {"type": "string"}}}, "/patternProperties/^(?=a)b"),
])
def test_a_regex_needing_backtracking_is_refused_with_the_file_and_pointer(properties, pointer):
    error = assert_error(deploy(extra=visit_form(**properties)), "visit", VISIT_LINE,
                         'form file "visit-schema.json"', "cannot be run in linear time", f"(at {pointer})")
    assert "backreferences" in error.message


@pytest.mark.parametrize("ref, pointer", [
    ({"$ref": "file:///etc/passwd"}, "/properties/x/$ref"),
    ({"$ref": "https://example.com/schema.json"}, "/properties/x/$ref"),
    ({"$ref": "other-form.json#/$defs/a"}, "/properties/x/$ref"),
    ({"$dynamicRef": "https://example.com/s#meta"}, "/properties/x/$dynamicRef"),
])
def test_a_reference_to_a_file_or_url_is_refused(ref, pointer):
    assert_error(deploy(extra=visit_form(properties={"x": ref})), "visit", VISIT_LINE,
                 'form file "visit-schema.json"', "is not a local reference", f"(at {pointer})")


def test_local_references_must_resolve_and_a_nested_id_is_refused():
    good = visit_form(**{"$defs": {"day": {"type": "string", "format": "date"}}},
                      properties={"visited_on": {"$ref": "#/$defs/day"}})
    assert deploy(extra=good).errors == []
    dangling = visit_form(properties={"visited_on": {"$ref": "#/$defs/nothing"}})
    assert_error(deploy(extra=dangling), "visit", VISIT_LINE, "does not point to anything",
                 "(at /properties/visited_on/$ref)")
    nested = visit_form(properties={"x": {"$id": "https://example.com/x", "type": "string"}})
    assert_error(deploy(extra=nested), "visit", VISIT_LINE, "below the root", "(at /properties/x/$id)")


@pytest.mark.parametrize("schema, data, refused", [
    ({"properties": {"code": {"type": "string", "pattern": CATASTROPHIC}}}, {"code": HOSTILE_INPUT}, True),
    ({"patternProperties": {CATASTROPHIC: {"type": "integer"}}}, {HOSTILE_INPUT: "x"}, False),
    ({"patternProperties": {CATASTROPHIC: True}, "additionalProperties": False}, {HOSTILE_INPUT: 1}, True),
    ({"patternProperties": {CATASTROPHIC: True}, "unevaluatedProperties": False}, {HOSTILE_INPUT: 1}, True),
])
def test_completing_a_form_matches_regexes_in_linear_time(schema, data, refused):
    # With Python's re each of these would run for hours; finishing at all proves RE2 is used.
    if not refused:
        assert validate_form({"type": "object", **schema}, data) is None
        return
    with pytest.raises(InvalidInput) as err:
        validate_form({"type": "object", **schema}, data)
    assert len(err.value.errors) == 1


def test_validation_never_fetches_a_referenced_file(tmp_path):
    # A schema stored before the deploy checks: its reference is refused, not read.
    permissive = tmp_path / "permissive.json"
    permissive.write_text('{"type": "object"}')
    with pytest.raises(InvalidInput) as err:
        validate_form({"$ref": permissive.as_uri()}, {"anything": 1})
    assert "cannot be checked safely" in err.value.message and permissive.as_uri() in err.value.message
