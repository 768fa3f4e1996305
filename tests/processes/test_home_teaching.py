"""Issue 11: home teaching for disabled children (送教上门, 一人一策; processes/home_teaching.bpmn).
The real engine (SQLite and PostgreSQL), the REST API, a clock the test moves; timers fire
as the worker fires them. Test town: child 1 in class zx-3-1 of 蛟潭中心学校 (zx), village v-jt;
``dpf`` the town's disabled persons' federation, ``tzx`` a home teacher of zx (the plan's
responsible teacher, the head teacher ``ht31`` its co-teacher), ``ht31`` the
head teacher, ``pzx`` the principal, ``regzx`` the registrar. Norm: the default (2 visits a
month, 2 class periods each)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from ledger import ht_visit_record
from ledger.models import Child
from tests.web.conftest import csrf_token, sign_in

from .test_lawful_exits import exit_at_village
from .test_outcomes import closures, status_of

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
PLAN = {**GOALS, "plan_teacher": "tzx", "plan_co_teachers": ["ht31"], "plan_content": "语文识字、数学计算、生活技能",
        "plan_weekdays": [2, 5], "plan_visit_start": "15:00", "plan_visit_end": "16:30",
        "plan_visits_per_month": 8, "plan_periods_per_visit": 2, "plan_from": "2025-10-20", "plan_until": "2026-07-10"}
AGREED = {"guardian_name": "张大山", "agreement_on": "2025-10-20", "guardian_agrees": "agreed"}
APPROVE = {"approval_decision": "approve", "approval_on": "2025-10-20"}
COUNTERSIGN = {"countersign_decision": "countersign", "countersign_on": "2025-10-20",
               "countersign_support": "适配轮椅一台"}


def visit(day, periods=2):
    return {"visit_held": True, "visit_on": day, "visit_start": "15:00", "visit_end": "16:30",
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


def through_approval(town):
    """Home teaching placed; the registry archived on Fri 10-17; the plan drawn, agreed and approved on Mon 10-20."""
    case = through_assessment(town)
    town.at("2025-10-17", 10)
    town.complete("regzx", "registry_archive", REGISTRY)
    town.at("2025-10-20", 9)
    town.complete("ht31", "draw_plan", PLAN)
    town.complete("ht31", "guardian_agreement", AGREED)
    town.complete("pzx", "approve_plan", APPROVE)
    return case


def through_plan(town):
    """``through_approval``, then the federation countersigns the plan the same day."""
    case = through_approval(town)
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
    assert town.names("ht31") == ["draw_plan"] and "plan_teacher" not in town.data(case.id)
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
    town.complete("tzx", "visit", visit("2025-10-24"))           # recorded late, still counts
    assert town.data(case.id)["case_status"] == "teaching"


def test_the_monthly_check_sends_a_shortfall_with_its_figures_to_the_principal_and_the_federation(scenario):
    town = scenario
    case = through_plan(town)
    town.pass_until("2025-10-21", 8)
    town.at("2025-10-21", 17)
    town.complete("tzx", "visit", visit("2025-10-21", periods=1))          # one visit, one period: below the norm
    for day in ("2025-10-24", "2025-10-25", "2025-10-28", "2025-10-29", "2025-10-31"):
        town.pass_until(day, 9)                                             # the worker's sweeps, day by day
    assert town.names("pzx") == ["visit_oversee", "visit_oversee"]          # 10-24 and 10-28 missed (10-31 not yet late)
    assert town.pass_until("2025-11-01", 8) >= 1                            # the month closes at 07:00 on the 1st
    assert town.names("pzx") == ["shortfall_principal"] and town.names("dpf") == ["shortfall_federation"]
    assert town.names("tzx") == ["unscheduled_visit"]                       # November: open again, its days ahead
    for user, name in (("pzx", "shortfall_principal"), ("dpf", "shortfall_federation")):
        detail = town.client.get(f"/api/v1/tasks/{town.task(user, name)['task_id']}", headers=town.headers(user)).json
        assert "2025-10 送教未达标**：完成送教 1 次、共 1 课时（其中 1 次课时不足）" in detail["instructions"]
        assert "每月至少 2 次、每次至少 2 课时" in detail["instructions"]
    [october] = town.data(case.id)["month_checks"]
    assert october == {"month": "2025-10", "visits": 1, "periods": 1, "short_visits": 1, "visits_missing": 1,
                       "periods_missing": 3, "met": False}


def test_visits_meeting_the_norm_send_no_shortfall_and_an_unscheduled_visit_counts(scenario):
    town = scenario
    case = through_plan(town)
    town.pass_until("2025-10-21", 8)
    town.at("2025-10-21", 17)
    town.complete("tzx", "visit", visit("2025-10-21"))
    town.at("2025-10-23", 17)
    town.complete("tzx", "unscheduled_visit", visit("2025-10-23"))         # a make-up visit on a Thursday
    assert town.names("tzx") == ["unscheduled_visit"]                      # open again for the next one
    town.pass_until("2025-11-01", 8)
    assert town.names("pzx") == [] and town.names("dpf") == []
    data = town.data(case.id)
    assert data["month_checks"][0]["met"] is True and data["month_checks"][0]["visits"] == 2
    assert [(v["on"], v["scheduled"]) for v in data["visits_log"]] == [("2025-10-21", True), ("2025-10-23", False)]


def test_a_term_review_closes_the_case_when_the_child_enters_school(scenario):
    town = scenario
    case = through_plan(town)
    for month in ("2025-11-01", "2025-12-01", "2026-01-01"):
        town.pass_until(month, 8)
        assert "term_review" not in town.names("pzx")
    town.pass_until("2026-02-01", 8)                                       # January closes the term
    assert "term_review" in town.names("pzx")
    town.at("2026-02-02", 10)
    town.complete("pzx", "term_review", {"review_on": "2026-02-02", "review_summary": "康复良好，可入校随班",
                                         "review_decision": "close", "close_reason": "enters_school"})
    assert town.variables(case.id)["status"] == "completed"
    assert town.names("pzx") == [] and town.names("dpf") == [] and town.names("tzx") == []
    assert town.data(case.id, "review_closed")["case_outcome"] == "enters_school"


def test_a_term_review_changing_the_placement_runs_the_placement_again(scenario):
    town = scenario
    through_plan(town)
    for month in ("2025-11-01", "2025-12-01", "2026-01-01", "2026-02-01"):
        town.pass_until(month, 8)
    town.at("2026-02-02", 10)
    town.complete("pzx", "term_review", {"review_on": "2026-02-02", "review_summary": "需转特教学校",
                                         "review_decision": "change_placement"})
    assert "placement" in town.names("dpf") and town.names("tzx") == []


def test_special_school_and_rehabilitation_end_the_case_once_the_registry_is_archived(scenario):
    town = scenario
    case = through_assessment(town, "special_school", placement_institution="县特殊教育学校")
    assert town.names("ht31") == [] and town.names("regzx") == ["registry_archive"]
    town.at("2025-10-17", 10)
    town.complete("regzx", "registry_archive", {**REGISTRY, "registry_action": "transferred"})
    assert town.variables(case.id)["status"] == "completed"
    assert town.data(case.id, "placed_away")["case_outcome"] == "special_school"


def test_a_special_school_or_rehabilitation_needs_the_institution(scenario):
    town = scenario
    through_assessment_until_placement(town)
    task = town.task("dpf", "placement")
    response = town.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=town.headers("dpf"),
                                json={"data": {**COMMITTEE, "placement": "rehabilitation"}})
    assert response.status_code == 422 and set(response.json["errors"]) == {"placement_institution"}
    town.complete("dpf", "placement", {**COMMITTEE, "placement": "rehabilitation", "placement_institution": "市康复中心"})
    assert town.names("regzx") == ["registry_archive"]


def test_an_inclusive_class_gets_its_plan_then_the_case_ends(scenario):
    town = scenario
    case = through_assessment(town, "inclusive_class")
    town.at("2025-10-17", 10)
    town.complete("regzx", "registry_archive", REGISTRY)
    assert town.names("ht31") == ["draw_inclusive_plan"]
    town.at("2025-10-20", 9)
    town.complete("ht31", "draw_inclusive_plan", {**GOALS, "plan_teachers": ["ht31", "tzx"],
                                                  "plan_content": "随班学习语文、数学", "plan_support": "前排座位、助学伙伴",
                                                  "plan_from": "2025-10-20", "plan_until": "2026-07-10"})
    town.complete("ht31", "guardian_agreement", AGREED)
    town.complete("pzx", "approve_plan", APPROVE)
    town.complete("dpf", "countersign_plan", COUNTERSIGN)
    assert town.variables(case.id)["status"] == "completed" and town.names("tzx") == []
    assert town.data(case.id, "inclusive_placed")["case_outcome"] == "inclusive_class"


def through_assessment_until_placement(town):
    town.at("2025-10-13", 9)
    refer(town)
    town.at("2025-10-14", 15)
    town.complete("ht31", "assess_school", SCHOOL)
    town.complete("dpf", "assess_federation", FEDERATION)
    town.at("2025-10-16", 10)


def test_unable_to_learn_only_with_the_committees_reference_and_reviewed_a_year_later(scenario):
    town = scenario
    through_assessment_until_placement(town)
    task = town.task("dpf", "placement")
    response = town.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=town.headers("dpf"),
                                json={"data": {"placement": "exempt_health", "committee_on": "2025-10-16",
                                               "placement_note": "重度多重残疾，长期卧床"}})
    assert response.status_code == 422 and response.json["errors"] == {"committee_ref": "此项为必填项"}
    town.complete("dpf", "placement", {**COMMITTEE, "placement": "exempt_health", "placement_note": "重度多重残疾，长期卧床"})
    [placed] = town.messages("home_teaching_placed")
    assert '"placement": "exempt_health"' in placed.payload
    assert town.names("ht31") == [] and town.names("dpf") == []
    town.at("2025-10-17", 10)
    town.complete("regzx", "registry_archive", {**REGISTRY, "registry_action": "marked_exempt"})
    assert town.pass_until("2026-10-16", 7) == 0
    assert town.pass_until("2026-10-16", 9) == 1                   # a year after the committee's opinion, 08:00
    assert town.names("dpf") == ["annual_review"]
    town.complete("dpf", "annual_review", {"annual_on": "2026-10-16", "annual_note": "仍长期卧床",
                                           "annual_decision": "still_exempt"})
    assert town.pass_until("2027-10-16", 9) == 1                   # and a year after that review
    town.complete("dpf", "annual_review", {"annual_on": "2027-10-16", "annual_note": "可坐轮椅，能短时学习",
                                           "annual_decision": "reassess"})
    assert town.names("ht31") == ["assess_school"] and town.names("dpf") == ["assess_federation"]


def test_persuasion_refers_a_disabled_child_and_closes_with_the_committees_placement(scenario):
    """Issue 10 §2 / 11: the village check finds a disability; lawful_exit throws the referral,
    which starts the home-teaching case; its placement closes the persuasion case."""
    town = scenario
    persuasion = exit_at_village(town, "disability", plan_measures=["home_teaching"])
    home = home_case(town)
    assert town.data(home.id)["referred_from"] == "village_check"
    town.at("2025-10-14", 15)
    town.complete("ht31", "assess_school", SCHOOL)
    town.complete("dpf", "assess_federation", FEDERATION)
    town.at("2025-10-16", 10)
    town.complete("dpf", "placement", {**COMMITTEE, "placement": "special_school", "placement_institution": "县特殊教育学校"})
    [placed] = town.messages("home_teaching_placed")
    assert placed.status == "delivered"
    assert town.case(1).status == "completed" and "home_teaching_placement" not in town.names("pzx")
    assert closures(town) == [(persuasion.id, "special_school", "special_school")]
    assert status_of(town) == "special_school"
    # The case page says the placement came from the linked case, in words (issue 17).
    page = _page(town, "pzx", f"/instances/{persuasion.id}") + _page(town, "pzx", "/children/1")
    assert f"系统（由关联案件 {home.id} 发出）" in page and "instance:" not in page


def _page(town, username, path) -> str:
    from tests.web.conftest import sign_in
    client = town.app.test_client()
    assert sign_in(client, username).status_code == 302
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_a_second_referral_reaches_the_open_case_and_gets_the_placement_at_once(scenario):
    town = scenario
    through_plan(town)
    home = home_case(town)
    second = refer(town, user="vsjt")                              # the village secretary, case open
    assert second["reached"] == [home.id] and second["started"] == [] and second["refused"] == []
    [resent] = [m for m in town.messages("home_teaching_placed")][1:]
    assert '"placement": "home_teaching"' in resent.payload       # already placed: sent again at once
    # Persuasion later finds the same child disabled: it closes at once as home teaching.
    persuasion = exit_at_village(town, "disability", plan_measures=["home_teaching"])
    assert [c.id for c in town.cases(1) if c.process_key == "home_teaching"] == [home.id]
    assert town.case(1).status == "completed"
    assert closures(town) == [(persuasion.id, "home_teaching", "home_teaching")]


def test_a_referral_before_the_placement_waits_for_it(scenario):
    town = scenario
    town.at("2025-10-13", 9)
    first = refer(town)
    again = refer(town, user="ht31")
    assert again["reached"] == first["started"] and again["started"] == []
    assert len(town.messages("home_teaching_placed")) == 0
    assert town.names("ht31") == ["assess_school"]                 # one case, one assessment


def test_who_may_refer(scenario):
    town = scenario
    assert town.client.post("/api/v1/children/1/home-teaching-referral", headers=town.headers("ht32")).status_code == 404
    assert town.client.post("/api/v1/children/1/home-teaching-referral", headers=town.headers("regzx")).status_code == 403
    assert town.client.post("/api/v1/children/999/home-teaching-referral", headers=town.headers("pzx")).status_code == 404
    assert town.cases(1) == []


@pytest.mark.parametrize("status", ["transferred", "deceased", "completed"])
def test_a_child_who_left_compulsory_schooling_here_is_not_referred(scenario, status):
    from tests.web.conftest import sign_in
    town = scenario
    with town.engine.db.transaction() as session:
        session.get(Child, 1).enrolment_status = status
    refused = town.client.post("/api/v1/children/1/home-teaching-referral", headers=town.headers("pzx"))
    assert refused.status_code == 409 and "不能转介送教上门" in refused.json["message"]
    assert town.cases(1) == [] and town.messages("home_teaching_referral") == []
    page = town.app.test_client()
    assert sign_in(page, "pzx").status_code == 302
    assert "转介送教上门</button>" not in page.get("/children/1").get_data(as_text=True)


def test_the_child_page_refers_the_child_and_shows_placement_plan_and_months(scenario):
    from tests.web.conftest import csrf_token, sign_in
    town = scenario
    town.at("2025-10-13", 9)
    page = town.app.test_client()
    assert sign_in(page, "vsjt").status_code == 302
    html = page.get("/children/1").get_data(as_text=True)
    assert "转介送教上门" in html
    response = page.post("/children/1/home-teaching-referral", data={"csrf_token": csrf_token(page, "/children/1")})
    assert response.status_code == 302
    home = home_case(town)
    assert town.data(home.id)["referred_from"] == "village_secretary"
    html = page.get("/children/1").get_data(as_text=True)
    assert f"案件编号 {home.id} · 评估与安置" in html and "转介送教上门</button>" not in html
    # ... then placed, planned, one month taught (test_home_teaching's own steps)
    town.at("2025-10-14", 15)
    town.complete("ht31", "assess_school", SCHOOL)
    town.complete("dpf", "assess_federation", FEDERATION)
    town.at("2025-10-16", 10)
    town.complete("dpf", "placement", {**COMMITTEE, "placement": "home_teaching"})
    town.at("2025-10-20", 9)
    for user, name, data in (("ht31", "draw_plan", PLAN), ("ht31", "guardian_agreement", AGREED),
                             ("pzx", "approve_plan", APPROVE), ("dpf", "countersign_plan", COUNTERSIGN)):
        town.complete(user, name, data)
    town.pass_until("2025-10-21", 8)
    town.at("2025-10-21", 17)
    town.complete("tzx", "visit", visit("2025-10-21"))
    town.pass_until("2025-11-01", 8)
    principal = town.app.test_client()
    assert sign_in(principal, "pzx").status_code == 302
    html = principal.get("/children/1").get_data(as_text=True)
    assert "安置方式：<strong>送教上门</strong>（县残教委〔2025〕12号，2025-10-16）" in html
    assert "送教教师 TZX、HT31；每周周二、周五 15:00–16:30" in html and "县定标准：每月至少 2 次、每次至少 2 课时" in html
    assert '<td data-label="送教日期">2025-10-21</td>' in html and '<td data-label="送教教师">TZX</td>' in html
    assert '<td data-label="月份">2025-10</td>' in html and "未达标" in html


def plan_choices(town, user="ht31"):
    task = town.task(user, "draw_plan")
    detail = town.client.get(f"/api/v1/tasks/{task['task_id']}", headers=town.headers(user)).json
    return task, {name: [c["value"] for c in offered] for name, offered in detail["form"]["choices"].items()}, detail


def add_teachers(town):
    """A second home teacher of zx (陈老师), and one of another school (fg)."""
    from ledger.accounts import create_user
    from tests.api.town import PASSWORD
    with town.engine.db.transaction() as session:
        create_user(session, "tzx2", "陈老师", PASSWORD, now=town.clock(), roles=[("home_teacher", "zx")])
        create_user(session, "tfg", "福港刘老师", PASSWORD, now=town.clock(), roles=[("home_teacher", "fg")])


def test_the_plan_names_its_teachers_from_the_schools_accounts_and_refuses_any_other(scenario):
    """Issue 11: the plan names the teachers as accounts of the child's school (home teachers
    and head teachers, offered by display name); another account is refused with 422 naming
    the field, nothing changed."""
    town = scenario
    add_teachers(town)
    case = through_assessment(town)
    town.at("2025-10-20", 9)
    task, offered, detail = plan_choices(town)
    assert offered == {"plan_teacher": ["ht31", "ht32", "tzx", "tzx2"],       # by display name
                       "plan_co_teachers": ["ht31", "ht32", "tzx", "tzx2"]}
    labels = [c["label"] for c in detail["form"]["choices"]["plan_teacher"]]
    assert labels == ["HT31（班主任）", "HT32（班主任）", "TZX（送教教师）", "陈老师（送教教师）"]
    for wrong, field in (({"plan_teacher": "tfg"}, "plan_teacher"),            # another school's
                         ({"plan_teacher": "pzx"}, "plan_teacher"),            # not a teacher
                         ({"plan_co_teachers": ["tzx", "nobody"]}, "plan_co_teachers.1")):
        response = town.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=town.headers("ht31"),
                                    json={"data": {**PLAN, **wrong}})
        assert response.status_code == 422, response.json
        assert response.json["errors"] == {field: "不是可选的人员，请从列表中选择"}
    assert town.names("ht31") == ["draw_plan"] and "plan_teacher" not in town.data(case.id)
    town.complete("ht31", "draw_plan", {**PLAN, "plan_teacher": "tzx2"})
    town.complete("ht31", "guardian_agreement", AGREED)
    approval = town.task("pzx", "approve_plan")
    text = town.client.get(f"/api/v1/tasks/{approval['task_id']}", headers=town.headers("pzx")).json["instructions"]
    assert "负责送教教师 陈老师（协同：HT31）" in text and "tzx2" not in text


def test_each_visit_is_a_task_for_the_plans_teacher_not_another_home_teacher(scenario):
    town = scenario
    add_teachers(town)
    through_assessment(town)
    town.at("2025-10-17", 10)
    town.complete("regzx", "registry_archive", REGISTRY)
    town.at("2025-10-20", 9)
    for user, name, data in (("ht31", "draw_plan", {**PLAN, "plan_teacher": "tzx2", "plan_co_teachers": []}),
                             ("ht31", "guardian_agreement", AGREED), ("pzx", "approve_plan", APPROVE),
                             ("dpf", "countersign_plan", COUNTERSIGN)):
        town.complete(user, name, data)
    town.pass_until("2025-10-21", 8)
    visit_task = town.task("tzx2", "visit")
    assert visit_task["assignee"] == "tzx2" and town.task("tzx2", "unscheduled_visit")["assignee"] == "tzx2"
    for action, body in (("complete", {"data": visit("2025-10-21")}), ("claim", None)):   # the other teacher
        response = town.client.post(f"/api/v1/tasks/{visit_task['task_id']}/{action}", headers=town.headers("tzx"),
                                    json=body)
        assert response.status_code == 403, response.json
    assert town.task("tzx2", "visit")["assignee"] == "tzx2"
    town.at("2025-10-21", 17)
    town.complete("tzx2", "visit", visit("2025-10-21"))
    assert [t["name"] for t in town.inbox("tzx2")] == ["unscheduled_visit"]
    [done] = [e for e in town.audit(home_case(town).id, "task_completed") if e.element_id == "visit"]
    assert done.actor == "tzx2"


def test_a_head_teacher_named_in_the_plan_gets_the_visits_in_their_class(scenario):
    """A head teacher named as the plan's teacher holds no home_teacher post: the visit goes to
    them in their own post (head teacher of the class), claimed by them."""
    town = scenario
    through_assessment(town)
    town.at("2025-10-20", 9)
    for user, name, data in (("ht31", "draw_plan", {**PLAN, "plan_teacher": "ht31", "plan_co_teachers": []}),
                             ("ht31", "guardian_agreement", AGREED), ("pzx", "approve_plan", APPROVE),
                             ("dpf", "countersign_plan", COUNTERSIGN)):
        town.complete(user, name, data)
    town.pass_until("2025-10-21", 8)
    task = town.task("ht31", "visit")
    assert task["assignee"] == "ht31" and task["role"] == "head_teacher" and task["org_unit"] == "zx-3-1"
    assert "visit" not in town.names("tzx")
    town.complete("ht31", "visit", visit("2025-10-21"))


@pytest.fixture
def strict_norm(monkeypatch, db_url, request):
    """A county whose norm is 3 visits a month of 3 class periods (the local settings, read
    when the server starts): the scenario's engine is built after they are set."""
    monkeypatch.setenv("BAOXUE_HOME_TEACHING_VISITS", "3")
    monkeypatch.setenv("BAOXUE_HOME_TEACHING_PERIODS", "3")
    return request.getfixturevalue("scenario")


def test_the_norm_is_the_countys_setting_for_the_plan_and_the_monthly_check(strict_norm):
    town = strict_norm
    case = through_assessment(town)
    assert town.data(case.id)["norm_visits_per_month"] == 3 and town.data(case.id)["norm_periods_per_visit"] == 3
    town.at("2025-10-20", 9)
    assert town.refused("ht31", "draw_plan", PLAN) == {"plan_periods_per_visit": "低于县定送教标准（每次课时数）：至少 3"}
    for user, name, data in (("ht31", "draw_plan", {**PLAN, "plan_periods_per_visit": 3}),
                             ("ht31", "guardian_agreement", AGREED), ("pzx", "approve_plan", APPROVE),
                             ("dpf", "countersign_plan", COUNTERSIGN)):
        town.complete(user, name, data)
    town.at("2025-10-23", 17)
    for day in ("2025-10-21", "2025-10-23"):                      # two visits of 3 periods: one short of 3
        town.complete("tzx", "unscheduled_visit", visit(day, periods=3))
    town.pass_until("2025-11-01", 8)
    [october] = town.data(case.id)["month_checks"]
    assert october["visits"] == 2 and october["visits_missing"] == 1 and october["met"] is False
    detail = town.client.get(f"/api/v1/tasks/{town.task('dpf', 'shortfall_federation')['task_id']}",
                             headers=town.headers("dpf")).json
    assert "每月至少 3 次、每次至少 3 课时" in detail["instructions"]


def test_a_contradictory_visit_is_refused_naming_the_field_on_the_api_and_the_page(scenario):
    """An end before the start, or a guardian recorded absent who yet signed: 422 naming the
    field, in Chinese beside it on the page; the task stays open, nothing recorded."""
    town = scenario
    case = through_plan(town)
    town.pass_until("2025-10-21", 8)
    town.at("2025-10-21", 17)
    assert town.refused("tzx", "visit", {**visit("2025-10-21"), "visit_start": "17:00", "visit_end": "15:00"}) == {
        "visit_end": "应晚于开始时间（17:00）"}
    client = town.app.test_client()
    assert sign_in(client, "tzx").status_code == 302
    task_id = town.task("tzx", "visit")["task_id"]
    posted = {**{k: ("true" if v is True else "false" if v is False else str(v)) for k, v in visit("2025-10-21").items()},
              "visit_guardian_present": "false", "csrf_token": csrf_token(client, f"/tasks/{task_id}")}
    response = client.post(f"/tasks/{task_id}", data=posted)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "监护人不在场，不能填写在场监护人姓名" in page and "监护人不在场，不能有监护人签名确认" in page
    assert 'value="张大山"' in page                                   # what was typed stays on the page
    assert town.names("tzx") == ["unscheduled_visit", "visit"] and "visit_on" not in town.data(case.id)
    town.complete("tzx", "visit", {**{k: v for k, v in visit("2025-10-21").items()
                                      if not k.startswith("visit_guardian")}, "visit_guardian_present": False})


def test_the_visit_names_its_teacher_by_the_account_that_recorded_it(scenario):
    """The visit task is the teacher's own: no free-text teacher field (refused when sent);
    the term record names the account that completed it. A visit recorded before keeps the
    name typed then (``ht_visit_record.visits``)."""
    town = scenario
    case = through_plan(town)
    town.pass_until("2025-10-21", 8)
    town.at("2025-10-21", 17)
    assert town.refused("tzx", "visit", {**visit("2025-10-21"), "visit_teacher": "王老师"}) == {
        "visit_teacher": "包含表单中没有的字段"}
    town.complete("tzx", "visit", visit("2025-10-21"))
    client = town.app.test_client()
    assert sign_in(client, "pzx").status_code == 302
    record = client.get(f"/instances/{case.id}/home-teaching/visits").get_data(as_text=True)
    row = record[record.index("一、送教记录"):record.index("二、按月统计")]
    assert "<td>TZX</td>" in row
    old = {"element_id": "visit", "actor": "tzx", "submitted": {**visit("2025-10-21"), "visit_teacher": "陈老师"}}
    then = SimpleNamespace(steps=[old], done_on=lambda step: "2025-10-21", person={"tzx": "TZX"}.get)
    assert [v["teacher"] for v in ht_visit_record.visits(then)] == ["陈老师"]
