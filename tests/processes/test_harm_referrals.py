"""Child labour and early marriage reach the referral wherever the cause is first recorded
(issue 10 §5; the fresh-user review: child labour first written on the dropout report started
no referral). The call, the home visit, the village check and the report each may record it;
the case sends the referral once (persuasion.bpmn refer_check_*, the data object
referred_causes), in a file of its own when no plan goes with it (business key
``case:<id>:referral:<cause>``, ledger.case_handoff).

Calendar as in test_persuasion: day 4 is Fri 2025-10-10, day 5 the make-up Saturday 10-11.
"""
from __future__ import annotations

from sqlalchemy import select

from engine.persistence.models import HumanTask, ProcessInstance

from .forms_data import CALL, COSIGN, REPORT, VILLAGE, VISIT
from .harness import U
from .test_persuasion import start_case, through_village
from .test_support_measures import with_staff


def support_files(town, case_id) -> dict[str, list[str]]:
    """{business key: element ids of its user tasks} of the case's support-measures files."""
    with town.engine.db.read() as session:
        rows = session.execute(select(ProcessInstance.business_key, HumanTask.element_id)
                               .join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
                               .where(ProcessInstance.process_key == "support_measures",
                                      ProcessInstance.business_key.like(f"case:{case_id}%"))
                               .order_by(HumanTask.created_at)).all()
    found: dict[str, list[str]] = {}
    for key, element in rows:
        found.setdefault(key, []).append(element)
    return found


def test_child_labour_first_written_on_the_report_is_referred(scenario):
    town = with_staff(scenario)
    case = through_village(town)                              # the village found weariness
    assert town.names("labour") == []
    town.report("2025-10-11", {1: U})                         # day 5: the report
    town.complete("ht31", "dropout_report", {**REPORT, "report_cause": "child_labour",
                                              "report_reason": "在县城餐馆打工"})
    assert town.names("labour") == ["labour_referral"]
    assert support_files(town, case.id) == {f"case:{case.id}": ["plan_ack"],
                                            f"case:{case.id}:referral:child_labour": ["labour_referral"]}
    assert sorted(town.names("pzx")) == ["confirm_report", "plan_ack"]   # the case goes on at once


def test_child_labour_recorded_at_every_step_is_referred_once(scenario):
    town = with_staff(scenario)
    case = start_case(town)
    labour = {"cause": "child_labour"}
    town.complete("ht31", "phone_call", {**CALL, **labour, "call_result": "父亲说孩子在餐馆帮工"})
    assert town.names("labour") == ["labour_referral"]        # found at the call: referred at once
    town.report_days("2025-09-30", "2025-10-09", {1: U})
    town.complete("ht31", "home_visit", {**VISIT, **labour})
    town.complete("moral", "visit_cosign", COSIGN)
    town.report("2025-10-10", {1: U})
    town.complete("vsjt", "village_check", {**VILLAGE, **labour, "cause_detail": "在餐馆打工",
                                            "plan_measures": ["other"]})
    town.report("2025-10-11", {1: U})
    town.complete("ht31", "dropout_report", {**REPORT, "report_cause": "child_labour"})
    assert town.names("labour") == ["labour_referral"]        # one referral, however often it was found
    assert support_files(town, case.id) == {f"case:{case.id}:referral:child_labour": ["labour_referral"],
                                            f"case:{case.id}": ["plan_ack"]}   # the plan without a second one


def test_early_marriage_at_the_visit_is_a_mandatory_report(scenario):
    town = with_staff(scenario)
    case = start_case(town)
    town.complete("ht31", "phone_call", CALL)
    town.report_days("2025-09-30", "2025-10-09", {1: U})
    town.complete("ht31", "home_visit", {**VISIT, "cause": "early_marriage"})
    assert town.names("police") == ["mandatory_report"] and town.names("labour") == []
    assert support_files(town, case.id) == {f"case:{case.id}:referral:early_marriage": ["mandatory_report"]}
    assert town.names("moral") == ["visit_cosign"]            # the visit's own path goes on
