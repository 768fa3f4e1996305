"""What a fresh user found wrong in the persuasion forms (issue 10 review), each checked
through the REST API or the task page of the real engine:

* a lawful exit's proof must fit its cause (``x-choicesByCase`` on ``exit_proof.proof_kind``):
  a death certificate does not prove a move out of the county;
* the village check asks for a schooling plan only when the cause is not a lawful one;
* a time in the wrong format says which format it wants.
"""
from __future__ import annotations

from tests.web.conftest import sign_in

from .forms_data import CALL, VILLAGE
from .harness import U
from .test_lawful_exits import CONFIRM, PROOF, exit_at_village
from .test_outcomes import closures
from .test_persuasion import start_case, through_visit

PLAN = ("plan_measures", "plan_responsible", "plan_next_check_on")


def test_a_proof_must_fit_the_cause_of_the_exit(scenario):
    town = scenario
    case = exit_at_village(town, "moved_away")
    town.at("2025-10-13", 17)
    assert town.refused("regzx", "record_exit_proof", {**PROOF, "proof_kind": "death_certificate"}) == {
        "proof_kind": "与案件登记的情况不符，请选择：户口迁移证明、迁入地学校接收证明、其他"}
    assert town.names("regzx") == ["record_exit_proof"] and town.names("deputy") == []
    town.complete("regzx", "record_exit_proof", PROOF)            # 户口迁移证明
    town.complete("deputy", "confirm_exit", CONFIRM)
    assert closures(town) == [(case.id, "moved_away", "moved_away")]


def test_a_death_is_proven_by_a_death_certificate_only(scenario):
    town = scenario
    exit_at_village(town, "deceased")
    town.at("2025-10-13", 17)
    assert town.refused("regzx", "record_exit_proof", PROOF) == {
        "proof_kind": "与案件登记的情况不符，请选择：死亡医学证明或户籍注销证明、其他"}
    town.complete("regzx", "record_exit_proof", {**PROOF, "proof_kind": "death_certificate", "proof_ref": "死亡医学证明"})


def test_a_lawful_cause_needs_no_schooling_plan(scenario):
    town = scenario
    through_visit(town)
    town.report("2025-10-10", {1: U})
    lawful = {k: v for k, v in VILLAGE.items() if k not in PLAN}
    # Not lawful: the plan is asked for, and says why.
    errors = town.refused("vsjt", "village_check", lawful)
    assert set(errors) == set(PLAN) and all("须制定就学方案" in m for m in errors.values())
    # The page marks none of the plan's fields as required, and says when to leave them blank.
    page = town.app.test_client()
    assert sign_in(page, "vsjt").status_code == 302
    html = page.get(f"/tasks/{town.task('vsjt', 'village_check')['task_id']}").get_data(as_text=True)
    assert "依法不能到校的原因不填" in html
    def starred(title):
        at = html.index(title + "<")
        return 'aria-label="必填"' in html[at:at + len(title) + 60]
    assert starred("入户日期")
    assert not any(starred(t) for t in ("帮扶措施（个别化就学方案）", "包保责任人（村、校）", "下次核查日期"))
    town.complete("vsjt", "village_check", {**lawful, "cause": "moved_away", "cause_detail": "随父母户口迁往外县"})
    assert town.names("regzx") == ["record_exit_proof"]            # the lawful path, no plan invented


def test_a_call_time_in_the_wrong_format_says_the_format(scenario):
    town = scenario
    start_case(town)
    assert town.refused("ht31", "phone_call", {**CALL, "call_time": "4点半"}) == {
        "call_time": "格式不正确，应为时间（HH:MM，24小时制，例如 16:30）"}
