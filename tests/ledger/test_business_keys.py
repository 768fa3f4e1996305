"""The business keys of message-started cases (``ledger.case_handoff.start_business_key``):
a child's case is ``child:<id>``, a case's own follow-up file ``case:<id>`` of the case that
threw the message, and nothing else may open such a file."""
from __future__ import annotations

import pytest

from engine.errors import InvalidInput
from ledger.case_handoff import start_business_key


def test_a_childs_case_is_keyed_by_the_child_whoever_sends_it():
    assert start_business_key("home_teaching", {"child_id": 7}, {}, sender="instance:3") == "child:7"
    assert start_business_key("home_teaching", {"child_id": 7}, {}, sender="pzx") == "child:7"


def test_a_support_file_is_keyed_by_the_case_that_threw_its_plan():
    assert start_business_key("support_measures", {"child_id": 7}, {}, sender="instance:12") == "case:12"


@pytest.mark.parametrize("sender", [None, "admin", "instance:", "instance:x", "instances:3", "ledger"])
def test_a_support_file_opened_by_anyone_but_a_case_is_refused(sender):
    with pytest.raises(InvalidInput) as refused:
        start_business_key("support_measures", {"child_id": 7}, {}, sender=sender)
    assert refused.value.errors == {"sender": "not a case"}


@pytest.mark.parametrize("child_id", [0, -1, "7", True, 1.5])
def test_a_child_id_that_is_no_child_id_is_refused(child_id):
    with pytest.raises(InvalidInput):
        start_business_key("home_teaching", {"child_id": child_id}, {}, sender="instance:3")
