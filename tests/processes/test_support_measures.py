"""Scenarios of processes/support_measures.bpmn (issue 10 §5): after the village check the
school acknowledges the plan, then aid goes to the office that gives it, counselling to the
school's counsellor; child labour and early marriage are referred at once. The measures are
the persuasion case's own file (a process started by its message support_plan, business key
``case:<id>``): the main path of the case never waits for them, and a return does not end them.

Calendar (chinesecalendar): the village check is done on Fri 2025-10-10; Sat 10-11 is a
make-up working and school day (调休); Sun 10-12 is not; Mon 10-13 is.
"""
from __future__ import annotations

from sqlalchemy import select

from api.casehistory import case_history
from engine.persistence.models import ProcessInstance
from ledger.accounts import create_user
from tests.api.town import PASSWORD

from .forms_data import ACK, AID, CALL, COSIGN, COUNSEL, LABOUR, POLICE, STUDENT_AID, VILLAGE, VISIT
from .harness import P, U
from .test_persuasion import through_village

STAFF = {"aidzx": [("student_aid_officer", "zx")], "counselzx": [("counsellor", "zx")],
         "counselfg": [("counsellor", "fg")], "labour": [("labour_inspectorate", "town")],
         "police": [("police_liaison", "town")]}


def with_staff(town):
    with town.engine.db.transaction() as session:
        for username, roles in STAFF.items():
            create_user(session, username, username.upper(), PASSWORD, now=town.clock(), roles=roles)
    return town


def village(town, **answers):
    return through_village(with_staff(town), {**VILLAGE, **answers})


def support_file(town, case_id) -> ProcessInstance:
    """The support-measures instance that persuasion case ``case_id`` opened."""
    with town.engine.db.read() as session:
        (row,) = session.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "support_measures",
                                                                ProcessInstance.business_key == f"case:{case_id}")).all()
        session.expunge(row)
        return row


def opened(town, case_id):
    """The support file's tasks: (element, role, org unit), in the order they became ready."""
    return town.tasks_in_order(support_file(town, case_id).id)


def test_the_school_acknowledges_the_plan_first_and_the_main_path_goes_on(scenario):
    """Weariness (厌学): the principal acknowledges the plan, then the counsellor gets the
    child; meanwhile day 5 brings the dropout report, whatever the support tasks do."""
    town = scenario
    case = village(town)                                          # cause weariness; counselling, buddy teacher
    assert town.names("pzx") == ["plan_ack"] and town.names("counselzx") == []
    ack = town.task("pzx", "plan_ack")
    assert ack["due_at"].startswith("2025-10-13T15:59:59")       # 2 working days: Sat 10-11 (调休), Mon 10-13
    detail = town.client.get(f"/api/v1/tasks/{ack['task_id']}", headers=town.headers("pzx")).json
    assert "厌学" in detail["instructions"] and "心理疏导、结对帮扶教师" in detail["instructions"]
    town.report("2025-10-11", {1: U})                             # day 5, the plan not yet acknowledged
    assert town.names("ht31") == ["dropout_report"]
    town.at("2025-10-13", 9)
    town.complete("pzx", "plan_ack", ACK)
    assert town.names("counselzx") == ["counselling"] and town.names("counselfg") == []
    assert town.names("aidzx") == [] and town.names("civil") == []
    assert town.task("counselzx", "counselling")["due_at"].startswith("2025-10-16T15:59:59")   # 3 working days
    town.complete("counselzx", "counselling", COUNSEL)
    assert opened(town, case.id) == [("plan_ack", "principal", "zx"), ("counselling", "counsellor", "zx")]
    assert [t[0] for t in town.tasks_in_order(case.id)][-2:] == ["village_check", "dropout_report"]
    assert town.names("ht31") == ["dropout_report"]               # the main path is where it was
    assert town.variables(case.id)["status"] == "active" and town.history_verified(case.id)
    measures = support_file(town, case.id)
    assert measures.status == "completed" and town.history_verified(measures.id)
    assert town.data(measures.id)["child_id"] == 1                 # its tasks are routed by the child


def test_aid_goes_to_the_school_and_to_civil_affairs_by_what_it_is(scenario):
    """两免一补 and nutrition meals to the school's student-aid officer; 低保 to civil affairs."""
    town = scenario
    case = village(town, cause="poverty", plan_measures=["two_exempt_one_subsidy", "nutrition_meal", "dibao"],
                   family_dibao=False)
    town.at("2025-10-13", 9)
    town.complete("pzx", "plan_ack", ACK)
    assert town.names("aidzx") == ["student_aid"] and town.names("civil") == ["civil_aid"]
    assert town.names("counselzx") == []
    assert {t[:3] for t in opened(town, case.id)} >= {("student_aid", "student_aid_officer", "zx"),
                                                      ("civil_aid", "civil_affairs", "town")}
    town.complete("aidzx", "student_aid", STUDENT_AID)
    town.complete("civil", "civil_aid", AID)
    assert town.names("aidzx") == [] and town.names("civil") == []
    # Each record is in the support file's history, in the words of its form.
    entries = {e["element_id"]: e for e in case_history(town.engine, support_file(town, case.id).id)
               if e["kind"] == "task_completed"}
    aid = {a["label"]: a["value"] for a in entries["student_aid"]["answers"]}
    assert entries["student_aid"]["title"] == "落实学生资助" and entries["student_aid"]["role_name"] == "学生资助专干"
    assert "两免一补" in str(aid["落实的资助"]) and aid["经办人（姓名、职务）"] == "周老师（学生资助专干）"
    relief = {a["label"]: a["value"] for a in entries["civil_aid"]["answers"]}
    assert "低保" in str(relief["救助事项"]) and entries["plan_ack"]["role_name"] == "校长"


def test_a_dibao_family_gets_the_schools_education_aid_first(scenario):
    """DOMAIN.md Special protection: a 低保 family comes first for education aid, whatever the
    cause; civil affairs only where the plan asks for its relief."""
    town = scenario
    village(town, cause="family", family_dibao=True, plan_measures=["tutoring"])
    town.at("2025-10-13", 9)
    town.complete("pzx", "plan_ack", ACK)
    assert town.names("aidzx") == ["student_aid"] and town.names("civil") == []


def test_a_plan_without_aid_or_counselling_ends_at_the_acknowledgement(scenario):
    town = scenario
    case = village(town, cause="family", family_dibao=False, plan_measures=["tutoring", "buddy_teacher"])
    town.at("2025-10-13", 9)
    town.complete("pzx", "plan_ack", ACK)
    assert [town.names(u) for u in ("aidzx", "civil", "counselzx", "labour", "police")] == [[]] * 5
    assert "support_done" in town.variables(case.id)["completed_elements"]
    assert "no_school_measures" in town.variables(support_file(town, case.id).id)["completed_elements"]


def test_psychological_causes_reach_the_counsellor_of_the_childs_school(scenario):
    town = scenario
    village(town, cause="psychological", plan_measures=["buddy_teacher"])
    town.at("2025-10-13", 9)
    town.complete("pzx", "plan_ack", ACK)
    assert town.names("counselzx") == ["counselling"] and town.names("counselfg") == []


def test_child_labour_is_referred_at_once_and_escalates_when_late(scenario):
    """Not held back by the plan's acknowledgement: the referral opens with it; 1 working day,
    then the task force's deputy is asked to see to it."""
    town = scenario
    case = village(town, cause="child_labour", cause_detail="在县城某餐馆打工", plan_measures=["other"])
    assert town.names("labour") == ["labour_referral"] and town.names("pzx") == ["plan_ack"]
    task = town.task("labour", "labour_referral")
    assert task["due_at"].startswith("2025-10-11T15:59:59")      # Sat 10-11 is a working day (调休)
    detail = town.client.get(f"/api/v1/tasks/{task['task_id']}", headers=town.headers("labour")).json
    assert "在县城某餐馆打工" in detail["instructions"] and "第十四条" in detail["instructions"]
    assert town.pass_until("2025-10-12", 8) >= 1
    assert "labour_referral_oversee" in town.names("deputy")
    missing = town.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=town.headers("labour"),
                               json={"data": {k: v for k, v in LABOUR.items() if k != "labour_ref_no"}})
    assert missing.status_code == 422 and "labour_ref_no" in missing.json["errors"]
    assert town.names("labour") == ["labour_referral"]            # the rejected completion changed nothing
    town.complete("labour", "labour_referral", LABOUR)
    assert town.names("labour") == []
    assert ("labour_referral", "labour_inspectorate", "town") in opened(town, case.id)


def test_early_marriage_is_a_mandatory_report_to_the_police_the_same_day(scenario):
    town = scenario
    case = village(town, cause="early_marriage", cause_detail="13 岁，已怀孕", plan_measures=["other"])
    assert town.names("police") == ["mandatory_report"]
    assert town.task("police", "mandatory_report")["due_at"].startswith("2025-10-10T15:59:59")
    assert town.pass_until("2025-10-11", 8) >= 1
    assert "mandatory_report_oversee" in town.names("leader")
    town.complete("police", "mandatory_report", POLICE)
    assert ("mandatory_report", "police_liaison", "town") in opened(town, case.id)
    assert town.names("police") == []


def test_these_roles_see_the_child_only_through_their_tasks(scenario):
    """A counsellor holds no register scope: the child page is a 404, the task opens."""
    town = scenario
    village(town)
    town.at("2025-10-13", 9)
    town.complete("pzx", "plan_ack", ACK)
    assert town.client.get("/api/v1/children/1", headers=town.headers("counselzx")).status_code == 404
    task = town.task("counselzx", "counselling")
    assert town.client.get(f"/api/v1/tasks/{task['task_id']}", headers=town.headers("counselzx")).status_code == 200
    assert town.client.get(f"/api/v1/tasks/{task['task_id']}", headers=town.headers("counselfg")).status_code in (403, 404)


def test_a_return_ends_the_persuasion_but_not_its_support_measures(scenario):
    """A child back at school ends the persuasion's steps; the plan, the aid and a mandatory
    report opened for it go on in their own file (nothing a return does cancels them)."""
    town = scenario
    case = village(town, cause="early_marriage", cause_detail="13 岁，已怀孕", plan_measures=["grant"])
    back = town.report("2025-10-11", {1: P})
    assert back["messages_sent"][0]["message"] == "returned"
    assert town.names("ht31") == [] and town.names("town") == []        # the persuasion steps are over
    assert town.names("pzx") == ["plan_ack"] and town.names("police") == ["mandatory_report"]
    assert town.audit(support_file(town, case.id).id, "task_cancelled") == []
    town.at("2025-10-13", 9)
    town.complete("pzx", "plan_ack", ACK)
    assert town.names("aidzx") == ["student_aid"]


def test_a_second_dropout_gets_a_file_of_its_own_beside_the_open_one(scenario):
    """Each persuasion case has its own support file: a child who drops out again while the
    first file's aid is still open gets a second one."""
    town = scenario
    first = village(town, cause="poverty", plan_measures=["nutrition_meal"], family_dibao=False)
    town.report("2025-10-11", {1: P})
    town.at("2025-10-13", 9)
    town.complete("pzx", "plan_ack", ACK)
    assert town.names("aidzx") == ["student_aid"]
    town.pass_until("2025-10-28")                                  # the watch after the return ends
    assert town.case(1).status == "completed"
    # A month on (outside the intermittent window): out again for four school days.
    town.report("2025-11-10", {1: U})
    town.complete("ht31", "phone_call", {**CALL, "call_on": "2025-11-10", "call_promised_return": "2025-11-11"})
    town.report_days("2025-11-11", "2025-11-12", {1: U})
    town.complete("ht31", "home_visit", {**VISIT, "visit_on": "2025-11-12"})
    town.complete("moral", "visit_cosign", {**COSIGN, "cosign_on": "2025-11-12"})
    town.report("2025-11-13", {1: U})
    town.complete("vsjt", "village_check", {**VILLAGE, "village_on": "2025-11-13"})
    second = [c for c in town.cases(1) if c.process_key == "persuasion"][-1]
    assert second.id != first.id
    files = support_file(town, first.id), support_file(town, second.id)
    assert [f.status for f in files] == ["active", "active"] and files[0].id != files[1].id
    assert town.names("pzx") == ["plan_ack", "student_aid_oversee"]       # the first aid is late by now
    assert town.names("aidzx") == ["student_aid"]


def test_nobody_sends_a_support_plan_from_outside(scenario):
    """A forged plan would open a police report or a grant: only a case throws support_plan."""
    town = scenario
    response = town.client.post("/api/v1/messages", headers=town.headers("admin"),
                                json={"name": "support_plan", "correlation": {"child_id": 1},
                                      "payload": {"cause": "child_labour"}})
    assert response.status_code == 403
    assert town.messages("support_plan") == []


def test_the_aid_officers_task_page_shows_the_form_in_chinese(scenario):
    from tests.web.conftest import sign_in
    town = scenario
    village(town, cause="poverty", plan_measures=["nutrition_meal"], family_dibao=False)
    town.at("2025-10-13", 9)
    town.complete("pzx", "plan_ack", ACK)
    task = town.task("aidzx", "student_aid")
    browser = town.app.test_client()
    assert sign_in(browser, "aidzx").status_code == 302
    page = browser.get(f"/tasks/{task['task_id']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "落实学生资助" in html and "落实的资助" in html and "两免一补" in html and "营养餐" in html
    assert "张小明" in html                                        # the candidate sees the child's name


def test_the_case_and_its_support_file_link_each_other(scenario):
    """The case page lists the support measures it opened, and the support file the case that
    opened it; the persuasion history names the hand-over in Chinese. A head teacher who
    works neither file sees no link to the other school's work."""
    from tests.web.conftest import sign_in
    town = scenario
    case = village(town)
    measures = support_file(town, case.id)
    assert town.engine.messages.linked(case.id) == {"started_by": [], "started": [measures.id]}
    assert town.engine.messages.linked(measures.id) == {"started_by": [case.id], "started": []}
    browser = town.app.test_client()
    assert sign_in(browser, "inspector").status_code == 302
    page = browser.get(f"/instances/{case.id}").get_data(as_text=True)
    assert "关联案件" in page and f'href="/instances/{measures.id}"' in page and "帮扶措施" in page
    assert "移交帮扶措施" in page                                       # the history's entry for the message
    back = browser.get(f"/instances/{measures.id}").get_data(as_text=True)
    assert "发起本案件" in back and f'href="/instances/{case.id}"' in back
    teacher = town.app.test_client()
    assert sign_in(teacher, "ht31").status_code == 302
    own = teacher.get(f"/instances/{case.id}")
    assert own.status_code == 200 and f'href="/instances/{measures.id}"' not in own.get_data(as_text=True)
