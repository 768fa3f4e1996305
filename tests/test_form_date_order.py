"""Every date a form asks for is ordered against what the record already knows (issue 17,
"Forms check what the record already knows"): each ``format: date`` field of every form in
forms/ is bounded by ``x-notBefore`` (a sibling field or a case variable ``$name``), or is a
date ahead (``x-notBeforeToday``), or says why not in ``x-dateOrderExempt``."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

FORMS = sorted((Path(__file__).resolve().parent.parent / "forms").glob("*.schema.json"))


def objects(schema: dict, path: str = ""):
    """(path, object schema) of the form and every object nested in it."""
    if not isinstance(schema, dict):
        return
    if isinstance(schema.get("properties"), dict):
        yield path or "(form)", schema
        for name, sub in schema["properties"].items():
            yield from objects(sub, f"{path}.{name}".lstrip("."))
    if isinstance(schema.get("items"), dict):
        yield from objects(schema["items"], f"{path}[]")


def unordered_dates(schema: dict) -> list[str]:
    problems = []
    for path, obj in objects(schema):
        props = obj["properties"]
        dates = {name for name, sub in props.items() if isinstance(sub, dict) and sub.get("format") == "date"}
        rules = obj.get("x-notBefore") or {}
        for later, bounds in rules.items():
            bounds = [bounds] if isinstance(bounds, str) else bounds
            if later not in dates:
                problems.append(f"{path}: x-notBefore orders {later!r}, which is not a date field here")
            problems += [f"{path}: {later!r} is bounded by {b!r}, not a date field here (a case variable starts with $)"
                         for b in bounds if not b.startswith("$") and b not in dates]
        for name in sorted(dates):
            sub = props[name]
            exempt = sub.get("x-dateOrderExempt")
            if name not in rules and not sub.get("x-notBeforeToday") and not (isinstance(exempt, str) and exempt.strip()):
                problems.append(f"{path}.{name}: a date with no order rule (x-notBefore) and no x-dateOrderExempt")
    return problems


@pytest.mark.parametrize("form", FORMS, ids=[f.name.removesuffix(".schema.json") for f in FORMS])
def test_every_date_field_is_ordered_or_exempt(form):
    assert unordered_dates(json.loads(form.read_text(encoding="utf-8"))) == []


def test_the_walk_finds_what_it_must():
    schema = {"type": "object", "properties": {
        "a": {"type": "string", "format": "date"}, "b": {"type": "string", "format": "date"},
        "c": {"type": "string", "format": "date", "x-notBeforeToday": True},
        "d": {"type": "string", "format": "date", "x-dateOrderExempt": "birth dates precede everything"},
        "rows": {"type": "array", "items": {"type": "object", "properties": {"e": {"type": "string", "format": "date"}}}}},
        "x-notBefore": {"b": ["a", "$first_absence", "typo"]}}
    assert unordered_dates(schema) == [
        "(form): 'b' is bounded by 'typo', not a date field here (a case variable starts with $)",
        "(form).a: a date with no order rule (x-notBefore) and no x-dateOrderExempt",
        "rows[].e: a date with no order rule (x-notBefore) and no x-dateOrderExempt"]


def unbounded_dates(schema: dict) -> list[str]:
    """Date fields a typing slip could push into another decade: neither in the past
    (``x-notAfterToday``), nor within ``x-notAfterDays`` of today, nor on or before another
    date (the form object's ``x-notAfter``: a campaign's deadline within its school year)."""
    return [f"{path}.{name}: a date with no upper bound (x-notAfterToday or x-notAfterDays)"
            for path, obj in objects(schema) for name, sub in sorted(obj["properties"].items())
            if isinstance(sub, dict) and sub.get("format") == "date"
            and not sub.get("x-notAfterToday") and not isinstance(sub.get("x-notAfterDays"), int)
            and name not in (obj.get("x-notAfter") if isinstance(obj.get("x-notAfter"), dict) else {})]


@pytest.mark.parametrize("form", FORMS, ids=[f.name.removesuffix(".schema.json") for f in FORMS])
def test_every_date_field_has_an_upper_bound(form):
    assert unbounded_dates(json.loads(form.read_text(encoding="utf-8"))) == []


def test_a_date_past_its_horizon_is_refused_in_chinese():
    from datetime import date

    from engine.errors import InvalidInput
    from engine.runtime.formvalidation import validate_form
    from ledger.form_messages import form_message
    schema = json.loads((FORMS[0].parent / "phone_call.schema.json").read_text(encoding="utf-8"))
    promise = schema["properties"]["call_promised_return"]
    today = date(2025, 9, 29)
    one = {"type": "object", "properties": {"call_promised_return": promise}}
    assert validate_form(one, {"call_promised_return": "2025-11-28"}, form_message, today=today) is None  # 60 days
    with pytest.raises(InvalidInput) as err:
        validate_form(one, {"call_promised_return": "2099-11-28"}, form_message, today=today)
    assert err.value.errors == {"call_promised_return": "日期不能晚于 2025-11-28，请核对年份"}
