"""A referral to the county's procedure is a stage of the case, not its end (issue 10 §1,
DOMAIN-REFERENCE §5.2): the county education bureau records each stage it carries out
(order, penalty, lawsuit, enforcement), the case stays open and on the ledger while the
child is out, the leader decides again after each county record, and only the child's
return (or a lawful cause) closes it. Driven through attendance and the REST API."""
from __future__ import annotations

from ledger.case_outcomes import OUTCOMES

from .forms_data import COUNTY, DECIDE, LEGAL, OVERSEE, REFER
from .harness import P, U
from .test_persuasion import through_notice


def referred(town):
    """The notice's deadline passes, the judicial office educates, the leader refers at once."""
    case = through_notice(town)
    town.report_days("2025-10-13", "2025-10-15", {1: U})
    town.pass_until("2025-10-16", 8)
    town.complete("judicial", "legal_education", LEGAL)
    town.complete("leader", "leader_decision", {**DECIDE, "decision": "refer_county"})
    town.complete("livelihood", "county_referral", REFER)
    return case


def test_the_county_records_its_stages_and_the_leader_decides_again(scenario):
    town = scenario
    case = referred(town)
    assert town.names("bureau") == ["county_procedure"]
    assert town.names("leader") == []                        # no town review while the county acts
    task = town.task("bureau", "county_procedure")
    assert "2025-10-16" in town.client.get(f"/api/v1/tasks/{task['task_id']}",
                                           headers=town.headers("bureau")).json["instructions"]
    town.report("2025-10-20", {1: U})
    # A lawsuit filed, not decided yet: recorded as progress, the task comes back with a new deadline.
    town.complete("bureau", "county_procedure", {k: v for k, v in {**COUNTY, "county_stage": "lawsuit",
                                                  "county_result": "in_progress"}.items() if k != "county_return_by"})
    assert town.names("bureau") == ["county_procedure"] and town.names("leader") == []
    town.complete("bureau", "county_procedure", COUNTY)
    assert town.names("bureau") == [] and town.case(1).status == "active"
    town.report_days("2025-10-21", "2025-10-31", {1: U})
    town.pass_until("2025-11-01", 8)                         # 5 working days after the county's record
    assert town.names("leader") == ["leader_decision"]
    assert [t[:2] for t in town.tasks_in_order(case.id)][-4:] == [
        ("county_referral", "livelihood_office"), ("county_procedure", "county_bureau"),
        ("county_procedure", "county_bureau"), ("leader_decision", "task_force_leader")]
    stages = [e.data.get("county_stage") for e in town.audit(case.id, "task_completed")
              if e.element_id == "county_procedure"]
    assert len(stages) == 2


def test_the_return_closes_a_referred_case_as_returned_after_notice(scenario):
    """The county's open record is withdrawn with the rest of the persuasion when the child is
    back; the case goes on to the registry and the strike-off like any return after the notice."""
    town = scenario
    case = referred(town)
    back = town.report("2025-10-20", {1: P})
    assert back["messages_sent"][0]["reached"] == [case.id]
    assert town.names("bureau") == []
    assert town.names("regzx") == ["restore_registry"]
    assert "referred_to_county" not in OUTCOMES             # a stage, never an outcome


def test_county_record_is_checked_naming_the_field(scenario):
    town = scenario
    referred(town)
    errors = town.refused("bureau", "county_procedure", {k: v for k, v in COUNTY.items() if k != "county_return_by"})
    assert "county_return_by" in str(errors)                 # ordered back: by when is required
    errors = town.refused("bureau", "county_procedure", {**COUNTY, "county_on": "2025-10-15"})
    assert "county_on" in str(errors)                        # before the referral
    errors = town.refused("bureau", "county_procedure", {**COUNTY, "county_served_on": "2025-10-19"})
    assert "county_served_on" in str(errors)                 # served before it was issued
    assert town.names("bureau") == ["county_procedure"]


def test_a_county_silent_for_20_working_days_reaches_the_leader(scenario):
    town = scenario
    referred(town)
    town.pass_until("2025-11-13", 8)
    assert town.names("leader") == []
    town.pass_until("2025-11-14", 8)                         # 20 working days after 10-16 end on 11-13
    assert town.names("leader") == ["county_procedure_oversee"]
    town.complete("leader", "county_procedure_oversee", OVERSEE)
    assert town.names("bureau") == ["county_procedure"]      # the county's task stays open
