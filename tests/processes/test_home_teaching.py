"""Issue 11: home teaching for disabled children (送教上门, 一人一策; processes/home_teaching.bpmn).
The real engine (SQLite and PostgreSQL), the REST API, a clock the test moves; timers fire
as the worker fires them. Test town: child 1 in class zx-3-1 of 蛟潭中心学校 (zx), village v-jt;
``dpf`` the town's disabled persons' federation, ``tzx`` a home teacher of zx, ``ht31`` the
head teacher, ``pzx`` the principal, ``regzx`` the registrar. Norm: the default (2 visits a
month, 2 class periods each)."""
from __future__ import annotations

from .test_outcomes import closures

SCHOOL = {"assessed_on": "2025-10-14", "assessed_by": "班主任张老师、镇残联李干事", "ability_self_care": "with_help",
          "ability_communication": "with_help", "ability_mobility": "dependent", "ability_learning": "below",
          "guardian_wish": "home_teaching", "guardian_wish_note": "孩子行动不便，希望老师上门教"}
FEDERATION = {"disability_type": "physical", "disability_grade": "2", "certificate_no": "44010120160501001X42",
              "certificate_on": "2022-06-01", "federation_checked_on": "2025-10-14"}
COMMITTEE = {"committee_ref": "县残教委〔2025〕12号", "committee_on": "2025-10-16",
             "placement_note": "肢体残疾二级，行动不便，适宜送教上门"}
REGISTRY = {"registry_action": "kept", "registry_archive_no": "ZX-2025-017", "registry_on": "2025-10-17"}
GOALS = {"goal_life_skills": "独立进食、穿衣", "goal_communication": "能用完整句子表达需求",
         "goal_academic": "三年级语文、数学基础内容", "goal_motor": "上肢精细动作训练", "goal_social": "与家人、同伴交往"}
PLAN = {**GOALS, "plan_teachers": "王老师、陈老师", "plan_content": "语文识字、数学计算、生活技能",
        "plan_weekdays": [2, 5], "plan_visit_start": "15:00", "plan_visit_end": "16:30",
        "plan_visits_per_month": 8, "plan_periods_per_visit": 2, "plan_from": "2025-10-20", "plan_until": "2026-07-10"}
AGREED = {"guardian_name": "张大山", "agreement_on": "2025-10-20", "guardian_agrees": "agreed"}
APPROVE = {"approval_decision": "approve", "approval_on": "2025-10-20"}
COUNTERSIGN = {"countersign_decision": "countersign", "countersign_on": "2025-10-20",
               "countersign_support": "适配轮椅一台"}


def visit(day, periods=2):
    return {"visit_held": True, "visit_teacher": "王老师", "visit_on": day, "visit_start": "15:00", "visit_end": "16:30",
            "visit_periods": periods, "visit_content": "识字 20 个，两位数加法", "visit_response": "注意力集中约 20 分钟",
            "visit_guardian_present": True, "visit_guardian_name": "张大山", "visit_guardian_confirmed": True}


def refer(town, user="pzx", child=1):
    response = town.client.post(f"/api/v1/children/{child}/home-teaching-referral", headers=town.headers(user))
    assert response.status_code == 200, response.json
    return response.json


def home_case(town, child=1):
    [case] = [c for c in town.cases(child) if c.process_key == "home_teaching"]
    return case


def through_assessment(town, placement="home_teaching", **committee):
    """Referred by the principal on Mon 10-13; assessed on Tue 10-14; placed on Thu 10-16."""
    town.at("2025-10-13", 9)
    result = refer(town)
    assert result["started"] and result["status"] == "delivered"
    assert town.names("ht31") == ["assess_school"] and town.names("dpf") == ["assess_federation"]
    town.at("2025-10-14", 15)
    town.complete("ht31", "assess_school", SCHOOL)
    town.complete("dpf", "assess_federation", FEDERATION)
    assert town.names("dpf") == ["placement"]
    town.at("2025-10-16", 10)
    town.complete("dpf", "placement", {**COMMITTEE, "placement": placement, **committee})
    return home_case(town)


def through_plan(town):
    """Home teaching placed; the registry archived on Fri 10-17; the plan drawn, agreed, approved and countersigned on Mon 10-20."""
    case = through_assessment(town)
    town.at("2025-10-17", 10)
    town.complete("regzx", "registry_archive", REGISTRY)
    town.at("2025-10-20", 9)
    town.complete("ht31", "draw_plan", PLAN)
    town.complete("ht31", "guardian_agreement", AGREED)
    town.complete("pzx", "approve_plan", APPROVE)
    town.complete("dpf", "countersign_plan", COUNTERSIGN)
    return case


def test_a_principal_refers_the_child_and_the_committee_places_it_home_taught(scenario):
    town = scenario
    case = through_assessment(town)
    [placed] = town.messages("home_teaching_placed")
    assert placed.status == "unmatched"                          # no persuasion case waits for it
    assert '"placement": "home_teaching"' in placed.payload and '"date": "2025-10-16"' in placed.payload
    assert town.names("regzx") == ["registry_archive"] and town.names("ht31") == ["draw_plan"]
    town.at("2025-10-17", 10)
    town.complete("regzx", "registry_archive", REGISTRY)
    data = town.data(case.id)
    assert data["norm_visits_per_month"] == 2 and data["norm_periods_per_visit"] == 2
    assert data["referred_from"] == "principal"


def test_a_plan_below_the_county_norm_is_refused_naming_the_field(scenario):
    town = scenario
    case = through_assessment(town)
    town.at("2025-10-20", 9)
    task = town.task("ht31", "draw_plan")
    below = {**PLAN, "plan_visits_per_month": 1, "plan_periods_per_visit": 1}
    response = town.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=town.headers("ht31"),
                                json={"data": below})
    assert response.status_code == 422, response.json
    assert response.json["errors"] == {"plan_visits_per_month": "低于县定送教标准（每月送教次数）：至少 2",
                                       "plan_periods_per_visit": "低于县定送教标准（每次课时数）：至少 2"}
    assert town.names("ht31") == ["draw_plan"] and "plan_teachers" not in town.data(case.id)
    town.complete("ht31", "draw_plan", PLAN)
    assert town.names("ht31") == ["guardian_agreement"]


def test_a_guardian_refusal_goes_to_the_principal_and_the_federation_then_the_plan_again(scenario):
    town = scenario
    through_assessment(town)
    town.at("2025-10-20", 9)
    town.complete("ht31", "draw_plan", PLAN)
    town.complete("ht31", "guardian_agreement", {"guardian_name": "张大山", "agreement_on": "2025-10-20",
                                                 "guardian_agrees": "refused", "refusal_reason": "希望每周送教三次"})
    assert town.names("pzx") == ["refusal_principal"] and town.names("dpf") == ["refusal_federation"]
    follow = {"follow_up_on": "2025-10-20", "follow_up": "与监护人沟通，增加周三送教"}
    town.complete("pzx", "refusal_principal", follow)
    assert town.names("ht31") == []
    town.complete("dpf", "refusal_federation", follow)
    assert town.names("ht31") == ["draw_plan"]
    detail = town.client.get(f"/api/v1/tasks/{town.task('ht31', 'draw_plan')['task_id']}", headers=town.headers("ht31")).json
    assert "监护人不同意：希望每周送教三次" in detail["instructions"]


def test_visits_open_on_the_schedule_and_a_missed_one_escalates_to_the_principal(scenario):
    town = scenario
    case = through_plan(town)
    assert town.names("tzx") == ["unscheduled_visit"]             # open all month
    assert town.pass_until("2025-10-21", 8) == 1                  # Tue 10-21, 07:30: the first scheduled day
    assert town.names("tzx") == ["unscheduled_visit", "visit"]
    town.at("2025-10-21", 17)
    town.complete("tzx", "visit", visit("2025-10-21"))
    town.pass_until("2025-10-24", 8)                              # Fri 10-24: not recorded that day
    assert town.names("tzx") == ["unscheduled_visit", "visit"]
    town.pass_until("2025-10-25", 9)
    assert town.names("pzx") == ["visit_oversee"]                 # late: the principal
    town.complete("tzx", "visit", {**visit("2025-10-24"), "visit_teacher": "陈老师"})   # recorded late, still counts
    assert town.data(case.id)["case_status"] == "teaching"
