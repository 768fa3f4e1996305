"""A home visit and a village check are made in person (DOMAIN.md: the head teacher visits the
home; the village checks at the door): their forms offer no 电话 (issue 10 §5 review)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.runtime.formvalidation import validate_form
from ledger.form_messages import form_message

FORMS = Path(__file__).resolve().parent.parent / "forms"


@pytest.mark.parametrize("form, field", [("home_visit", "visit_method"), ("village_check", "village_method")])
def test_an_in_person_tier_refuses_a_phone_call(form, field):
    prop = json.loads((FORMS / f"{form}.schema.json").read_text(encoding="utf-8"))["properties"][field]
    one = {"type": "object", "properties": {field: prop}}
    with pytest.raises(InvalidInput) as err:
        validate_form(one, {field: "phone"}, form_message)
    assert err.value.errors == {field: "请从选项中选择"}
    assert validate_form(one, {field: "home_visit"}, form_message) is None
