"""A legal paper is never dated before a step it records (issue 10 §6; the fresh-user review:
a report "sent" on a day before the head teacher filed it, a notice dated before a visit it
lists, a notice issued while the town had not yet signed for the report).

* 报送日期 (confirm_report report_sent_on) ≥ the day the report was filed and ≥ the last
  recorded attempt, wherever it was recorded (``$report_filed_on``, ``$last_attempt_on``:
  ledger.case_dates, through the engine's form_variables hook);
* the notice's 签发日期 ≥ 报送日期, ≥ the town's receipt, ≥ the last attempt; 送达 ≥ 签发;
* the notice follows the receipt in the diagram, and is still due 3 working days after the
  report was sent (a late receipt does not extend it).

Calendar as in test_persuasion: day 5 is the make-up Saturday 2025-10-11; Sun 10-12 is off;
Mon 10-13, Tue 10-14, Wed 10-15 are working days.
"""
from __future__ import annotations

from tests.web.conftest import csrf_token, sign_in

from .forms_data import ACK, CONFIRM, NOTICE, RECEIPT, REPORT, VILLAGE
from .harness import U
from .test_persuasion import through_village, through_visit


def test_the_report_cannot_be_sent_before_an_attempt_recorded_on_another_branch(scenario):
    """The village check runs beside the day count: it is done after the report was filed,
    and the principal may not date the sending before it."""
    town = scenario
    through_visit(town)
    town.report("2025-10-10", {1: U})                             # day 4: the village check opens
    town.report("2025-10-11", {1: U})                             # day 5: the report opens beside it
    town.complete("ht31", "dropout_report", REPORT)
    town.at("2025-10-13", 10)
    town.complete("vsjt", "village_check", {**VILLAGE, "village_on": "2025-10-13"})
    assert town.refused("pzx", "confirm_report", {**CONFIRM, "report_sent_on": "2025-10-11"}) == {
        "report_sent_on": "不能早于最近一次劝返记录的日期（2025-10-13）"}
    town.complete("pzx", "confirm_report", {**CONFIRM, "report_sent_on": "2025-10-13"})


def test_the_notice_follows_the_receipt_and_its_dates_follow_every_step(scenario):
    town = scenario
    through_village(town)
    town.report("2025-10-11", {1: U})
    town.complete("ht31", "dropout_report", REPORT)
    town.complete("pzx", "confirm_report", CONFIRM)               # sent Sat 10-11
    assert town.names("town") == ["receive_report"]               # no notice before the town signs for it
    town.at("2025-10-14", 9)                                      # signed late, on Tue 10-14
    town.complete("town", "receive_report", {**RECEIPT, "receipt_on": "2025-10-14"})
    assert town.names("town") == ["issue_notice"]
    # Due 3 working days after the receipt (Wed 10-15, Thu 10-16, Fri 10-17): a late receipt
    # extends it (the receipt's own oversight catches the lateness; see docs/processes.md).
    assert town.task("town", "issue_notice")["due_at"].startswith("2025-10-17T15:59:59")
    assert town.refused("town", "issue_notice", {**NOTICE, "notice_issued_on": "2025-10-13",
                                                 "notice_served_on": "2025-10-14"}) == {
        "notice_issued_on": "不能早于镇政府签收报告单的日期（2025-10-14）"}
    assert town.refused("town", "issue_notice", {**NOTICE, "notice_issued_on": "2025-10-14",
                                                 "notice_served_on": "2025-10-13"}) == {
        "notice_served_on": "不能早于签发日期（2025-10-14）"}
    town.complete("town", "issue_notice", {**NOTICE, "notice_issued_on": "2025-10-14",
                                           "notice_served_on": "2025-10-14"})
    assert town.names("town") == []


def test_no_support_measure_is_dated_before_the_cause_was_found(scenario):
    """The support file gets the day of the village check (``plan_on`` in the message), so its
    acknowledgement, aid, counselling and referrals cannot precede it."""
    town = scenario
    through_village(town)                                         # village check on Fri 10-10
    town.at("2025-10-13", 9)
    assert town.refused("pzx", "plan_ack", {**ACK, "ack_on": "2025-10-09"}) == {
        "ack_on": "不能早于发现原因、制定方案的日期（2025-10-10）"}
    town.complete("pzx", "plan_ack", ACK)
