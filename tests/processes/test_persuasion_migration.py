"""Running persuasion cases move to a version changed by an administrator's draft (issue 14).

The three-tier persuasion runs inside one embedded subprocess, and the version a draft
deploys carries only the files it calls (not the whole folder ``baoxue init`` deployed): a
case must still move when the steps it finished are unchanged, finish on the new version,
and stay (with the reason) when a step it finished was changed.
"""
from __future__ import annotations

from api.settings import ROOT
from engine.tasks import TaskQuery

from .forms_data import DECIDE, LEGAL
from .test_persuasion import through_notice
from .harness import U

RENAMED = "对监护人开展法治教育（县里新要求）"


def deploy_renamed_legal_education(town) -> int:
    source = (ROOT / "processes" / "persuasion.bpmn").read_text()
    changed = source.replace('name="对监护人开展法治教育"', f'name="{RENAMED}"', 1)
    assert changed != source
    drafts = town.engine.drafts
    draft = drafts.create("persuasion", {"persuasion.bpmn": changed}, actor="admin", base_version=1)
    results = drafts.deploy(draft.id, note="县里要求写明法治教育", row_version=draft.row_version, actor="admin")
    return {r.process_key: r.version for r in results}["persuasion"]


def version_of(town, case_id) -> int:
    engine = town.engine
    return engine.repository.get(engine.runtime.get(case_id).definition_id).version


def test_a_case_before_the_changed_step_moves_and_finishes_it_on_the_new_version(scenario):
    town = scenario
    case = through_notice(town).id
    town.report_days("2025-10-13", "2025-10-15", {1: U})
    town.pass_until("2025-10-16", 8)                          # the notice's deadline passed
    assert town.names("judicial") == ["legal_education"]
    assert deploy_renamed_legal_education(town) == 2

    dry = town.engine.versions.dry_run(case, 2)
    assert dry["can_migrate"], dry["reasons"]
    town.engine.versions.migrate(case, 2, actor="admin")
    assert version_of(town, case) == 2
    (task,) = town.engine.tasks.list(TaskQuery(instance_id=case))[0]
    assert (task.element_id, task.name) == ("legal_education", RENAMED)   # the open task took the new name
    town.complete("judicial", "legal_education", LEGAL)
    town.complete("leader", "leader_decision", DECIDE)        # and the case goes on past it
    assert town.names("vsjt") == ["joint_persuasion"]
    assert "instance_migrated" in [e.kind for e in town.audit(case, "instance_migrated")]


def test_a_case_past_the_changed_step_stays_and_says_why(scenario):
    town = scenario
    case = through_notice(town).id
    town.report_days("2025-10-13", "2025-10-15", {1: U})
    town.pass_until("2025-10-16", 8)
    town.complete("judicial", "legal_education", LEGAL)
    early = through_visit_of_another_child(town)
    deploy_renamed_legal_education(town)

    report = town.engine.versions.dry_run_version("persuasion", 1, 2)
    verdicts = {v["instance_id"]: v for v in report["instances"]}
    assert verdicts[early]["can_migrate"] is True
    assert verdicts[case]["can_migrate"] is False
    assert [(r["element_id"], r["code"]) for r in verdicts[case]["reasons"]] == [
        ("legal_education", "changed_completed")]
    moved = town.engine.versions.migrate_version("persuasion", 1, 2, actor="admin")
    assert moved["counts"] == {"total": 2, "moved": 1, "refused": 1}
    assert (version_of(town, case), version_of(town, early)) == (1, 2)
    town.complete("leader", "leader_decision", DECIDE)        # the case left behind runs on version 1
    assert town.names("vsjt") == ["joint_persuasion"]


def through_visit_of_another_child(town) -> int:
    """Child 2 absent from the last school day: a case at its first call."""
    town.report("2025-10-16", {2: U})
    return town.case(2).id
