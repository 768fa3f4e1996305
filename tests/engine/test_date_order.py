"""``x-notBefore``: dates that must follow each other, against a sibling field or a case
variable (``$name``), with the bound named on the error (issue 17 "Forms check what the
record already knows")."""
from __future__ import annotations

from datetime import date

import pytest

from engine.errors import InvalidInput
from engine.runtime.formvalidation import validate_form

TODAY = date(2025, 10, 20)
SCHEMA = {"type": "object", "properties": {
    "call_on": {"type": "string", "format": "date"},
    "promised": {"type": "string", "format": "date"}},
    "x-notBefore": {"call_on": "$first_absence", "promised": ["call_on", "$first_absence"]}}


def errors(data, variables=None, schema=SCHEMA):
    try:
        validate_form(schema, data, lambda e: (e.validator, e.validator_value, getattr(e, "bound", None)),
                      today=TODAY, variables=variables)
    except InvalidInput as exc:
        return exc.errors
    return {}


def test_a_case_variable_bounds_a_date():
    case = {"first_absence": "2025-10-09"}
    assert errors({"call_on": "2025-10-08"}, case) == {"call_on": ("x-notBefore", "2025-10-09", "$first_absence")}
    assert errors({"call_on": "2025-10-09"}, case) == {}


def test_each_bound_of_a_list_is_checked_and_the_first_broken_one_is_named():
    case = {"first_absence": "2025-10-09"}
    assert errors({"call_on": "2025-10-10", "promised": "2025-10-09"}, case) == {
        "promised": ("x-notBefore", "2025-10-10", "call_on")}
    assert errors({"promised": "2025-10-01"}, case) == {"promised": ("x-notBefore", "2025-10-09", "$first_absence")}


@pytest.mark.parametrize("variables", [None, {}, {"first_absence": None}, {"first_absence": "unknown"},
                                       {"first_absence": 20251009}])
def test_a_bound_without_a_date_checks_nothing(variables):
    assert errors({"call_on": "2025-01-01"}, variables) == {}


def test_a_date_time_variable_compares_by_its_day():
    assert errors({"call_on": "2025-10-09"}, {"first_absence": "2025-10-09T23:00:00+08:00"}) == {}
    assert errors({"call_on": "2025-10-08"}, {"first_absence": "2025-10-09T00:00:00+08:00"})["call_on"][1] == "2025-10-09"


def test_without_today_no_date_keyword_applies():
    assert validate_form(SCHEMA, {"call_on": "2025-01-01"}, variables={"first_absence": "2025-10-09"}) is None
