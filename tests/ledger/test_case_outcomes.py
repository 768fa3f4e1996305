"""The rules of ledger/case_outcomes.py: which event moves a child's 就学状态 where."""
from __future__ import annotations

import pytest

from ledger.case_outcomes import OUTCOMES, STATUSES, RuleError, next_status


def test_the_case_moves_the_child_through_its_own_stages():
    assert next_status("enrolled", "report_filed") == "suspected_dropout"
    assert next_status("suspected_dropout", "notice_expired") == "dropped_out"
    assert next_status("dropped_out", "returned") == "enrolled"
    assert next_status("enrolled", "closed", "returned_before_report") is None        # unchanged
    assert next_status("dropped_out", "closed", "tendency_cleared") is None
    assert next_status("suspected_dropout", "closed", "home_teaching") == "home_teaching"


@pytest.mark.parametrize("current", ["deceased", "transferred", "suspended", "home_teaching"])
def test_a_status_set_by_another_procedure_is_not_moved(current):
    with pytest.raises(RuleError):
        next_status(current, "report_filed")


def test_unknown_events_and_outcomes_are_refused():
    with pytest.raises(RuleError):
        next_status("enrolled", "vanished")
    with pytest.raises(RuleError):
        next_status("enrolled", "closed", "nobody_knows")
    with pytest.raises(RuleError):                        # a referral is a stage of an open case
        next_status("dropped_out", "closed", "referred_to_county")


def test_every_outcome_names_a_known_status_and_a_chinese_label():
    assert all(o.status is None or o.status in STATUSES for o in OUTCOMES.values())
    assert all(o.label and not o.label.isascii() for o in OUTCOMES.values())
