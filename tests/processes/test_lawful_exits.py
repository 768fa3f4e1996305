"""Issue 10 §2: lawful reasons leave the legal path (processes/lawful_exit.bpmn, called from
persuasion.bpmn when persuade ends with the escalation lawful_exit). Real attendance
ingestion and the REST API on the real engine (SQLite and PostgreSQL); the calendar is
test_persuasion's (National Day 10-01..10-08 off, Sat 10-11 a make-up working day).

Each case reaches the village check on Fri 10-10 (day 4) and records a lawful cause there:
the case never reaches the dropout report or the notice, and closes with its outcome code
(ledger.case_outcomes) and the child's 就学状态 follows, or persuasion continues."""
from __future__ import annotations

from .forms_data import VILLAGE
from .harness import P, U
from .test_outcomes import changes, closures, status_of
from .test_persuasion import through_village

DETAIL = {"disability": "肢体残疾，行动不便，到校困难", "illness": "白血病住院治疗",
          "studying_elsewhere": "随父母到广州务工地就读", "moved_away": "随父母户口迁往外县",
          "abroad": "随父母出国定居", "deceased": "因病去世"}
PLACED = {"placement_status": "placed", "placement": "home_teaching", "placement_on": "2025-10-13",
          "placement_plan": "每周送教两次，每次两课时，由蛟潭中心学校两名教师承担（一人一策）"}
PENDING = {"placement_status": "pending", "placement_pending_reason": "等待县残疾人教育专家委员会评估",
           "placement_next_check_on": "2025-10-15"}
LEAVE = {"illness_path": "leave", "illness_proof": "县人民医院诊断证明", "leave_from": "2025-10-10",
         "leave_until": "2025-10-20"}
SUSPEND = {"illness_path": "suspension", "illness_proof": "市人民医院诊断证明（需住院半年）"}
APPLICATION = {"suspension_from": "2025-10-13", "suspension_until": "2026-07-10", "suspension_hospital": "市人民医院",
               "suspension_proof": "诊断证明 2025-1088 号", "suspension_guardian_applied": True,
               "suspension_applied_on": "2025-10-13"}
APPROVE = {"approval": "approved", "approval_no": "蛟府教〔2025〕9号", "approval_on": "2025-10-14",
           "approval_reason": "病情属实，同意休学一学年"}
REFUSE = {"approval": "refused", "approval_on": "2025-10-14", "approval_reason": "诊断证明不足以支持休学"}
RECORD = {"suspension_recorded_on": "2025-10-15", "suspension_in_system": True}
VERIFIED = {"enrolment_verified": True, "other_school": "广州市白云区某某小学", "other_place": "广东省广州市白云区",
            "enrolment_proof": "certificate", "enrolment_proof_ref": "在外就读证明（该校 2025-10-13 盖章）",
            "verified_by": "李某（学籍管理员）", "verified_on": "2025-10-13"}
PROOF = {"proof_confirmed": True, "proof_kind": "household_transfer", "proof_ref": "某县公安局户口迁移证明",
         "proof_on": "2025-10-13", "new_place": "某省某县", "proof_note": "全家户口已迁出本县"}
CONFIRM = {"exit_decision": "confirm", "exit_decision_note": "证明齐全，同意结案"}


def exit_at_village(town, cause, **more):
    """The case reaches the village check (Fri 10-10, day 4), which records ``cause``."""
    return through_village(town, {**VILLAGE, "cause": cause, "cause_detail": DETAIL[cause], **more})


def elements(town, case_id):
    return [t[0] for t in town.tasks_in_order(case_id)]


def assert_never_reported(town):
    assert town.names("ht31") == [] or "dropout_report" not in town.names("ht31")
    assert town.names("town") == [] and town.names("judicial") == []


def test_disability_waits_for_the_placement_then_closes_as_home_teaching(scenario):
    town = scenario
    case = exit_at_village(town, "disability", plan_measures=["home_teaching"])
    assert town.names("pzx") == ["home_teaching_placement"]
    [referral] = town.messages("home_teaching_referral")
    assert '"child_id": 1' in referral.correlation
    assert "残疾" not in (referral.payload or "")                # no health details in a message (issue 10 §7)
    town.report("2025-10-11", {1: U})                            # day 5: no dropout report
    town.report("2025-10-13", {1: U})
    assert town.names("ht31") == ["assess_school"] and town.names("town") == []   # the home-teaching case's
    town.complete("pzx", "home_teaching_placement", PENDING)    # not placed yet: the principal follows up on 10-15
    assert town.names("pzx") == []
    assert town.pass_until("2025-10-15", 9) == 1
    assert town.names("pzx") == ["home_teaching_placement"]
    town.complete("pzx", "home_teaching_placement", PLACED)
    assert town.case(1).status == "completed"
    assert closures(town) == [(case.id, "home_teaching", "home_teaching")]
    assert status_of(town) == "home_teaching"
    assert changes(town) == [("enrolled", "home_teaching", "pzx", case.id, "closed")]
    assert elements(town, case.id) == ["phone_call", "home_visit", "visit_cosign", "village_check", "home_teaching_placement",
                                       "home_teaching_placement"]


def test_only_the_home_teaching_process_sends_the_placement(scenario):
    """home_teaching_placed is thrown by processes/home_teaching.bpmn (its scenario:
    test_home_teaching.test_persuasion_refers_a_disabled_child_and_closes_with_the_committees_placement);
    nobody sends it by hand."""
    town = scenario
    exit_at_village(town, "disability", plan_measures=["home_teaching"])
    response = town.client.post("/api/v1/messages", headers=town.headers("deputy"),
                                json={"name": "home_teaching_placed", "correlation": {"child_id": 1},
                                      "payload": {"date": "2025-10-13"}})
    assert response.status_code == 403 and "home_teaching" in response.json["errors"]["name"]
    assert town.names("pzx") == ["home_teaching_placement"] and town.case(1).status == "active"


def test_a_medical_leave_pauses_the_case_until_the_return_date(scenario):
    town = scenario
    case = exit_at_village(town, "illness")
    assert town.names("ht31") == ["illness_plan"]
    # A leave that ends before it starts is refused, naming the return date; nothing changes.
    errors = town.refused("ht31", "illness_plan", {**LEAVE, "leave_from": "2025-10-10", "leave_until": "2025-10-09"})
    assert list(errors) == ["leave_until"], errors
    # A leave is recorded once it has begun: the status 长期病假 holds from the record on.
    errors = town.refused("ht31", "illness_plan", {**LEAVE, "leave_from": "2025-10-21"})
    assert errors["leave_from"] == "日期不能晚于今天（2025-10-10）", errors
    assert town.names("ht31") == ["illness_plan"] and status_of(town) == "enrolled"
    town.complete("ht31", "illness_plan", LEAVE)
    assert town.names("ht31") == [] and town.names("pzx") == []
    # The leave is in the child's status history (DOMAIN-REFERENCE §4: 长期病假, on the register).
    assert status_of(town) == "sick_leave"
    assert changes(town) == [("enrolled", "sick_leave", "ht31", case.id, "leave_started")]
    town.report_days("2025-10-11", "2025-10-17", {1: U})         # absent on leave: no report, no notice
    assert town.names("ht31") == [] and town.names("town") == []
    assert town.pass_until("2025-10-19", 20) == 0
    assert town.pass_until("2025-10-20", 9) == 1                 # the return date: back to the head teacher
    assert town.names("ht31") == ["leave_check"]
    town.complete("ht31", "leave_check", {"leave_result": "returned", "leave_checked_on": "2025-10-20",
                                          "leave_check_note": "已康复返校"})
    assert closures(town) == [(case.id, "returned_after_leave", "enrolled")]
    assert town.case(1).status == "completed" and status_of(town) == "enrolled"
    assert changes(town) == [("enrolled", "sick_leave", "ht31", case.id, "leave_started"),
                             ("sick_leave", "enrolled", "ht31", case.id, "closed")]


def test_a_leave_extended_past_its_bound_becomes_a_suspension_application(scenario):
    town = scenario
    exit_at_village(town, "illness")
    town.complete("ht31", "illness_plan", LEAVE)
    for day, until in (("2025-10-20", "2025-10-27"), ("2025-10-27", "2025-11-03"), ("2025-11-03", "2025-11-10")):
        town.pass_until(day, 9)
        town.complete("ht31", "leave_check", {"leave_result": "extended", "leave_checked_on": day,
                                              "leave_new_until": until, "leave_check_note": "仍在住院，附医院证明"})
    assert town.names("ht31") == []
    assert town.names("pzx") == ["suspension_application"]      # two extensions at most: then 休学


def test_a_leave_over_without_the_child_back_continues_persuasion(scenario):
    town = scenario
    case = exit_at_village(town, "illness")
    town.complete("ht31", "illness_plan", LEAVE)
    town.pass_until("2025-10-20", 9)
    town.complete("ht31", "leave_check", {"leave_result": "not_back", "leave_checked_on": "2025-10-20",
                                          "leave_check_note": "已出院，但仍不愿上学"})
    assert town.names("ht31") == ["phone_call"]                  # persuasion starts again at the school tier
    assert town.variables(case.id)["status"] == "active" and closures(town) == []
    assert status_of(town) == "enrolled"                         # off the leave: expected at school again
    assert [c[4] for c in changes(town)] == ["leave_started", "leave_ended"]


def test_a_suspension_approved_by_the_town_closes_the_case_as_suspended(scenario):
    town = scenario
    case = exit_at_village(town, "illness")
    town.complete("ht31", "illness_plan", SUSPEND)
    town.report("2025-10-13", {1: U})
    town.complete("pzx", "suspension_application", APPLICATION)
    assert town.names("town") == ["suspension_approval"]
    town.at("2025-10-14", 17)
    town.complete("town", "suspension_approval", APPROVE)
    assert town.names("regzx") == ["suspension_record"]
    town.at("2025-10-15", 17)
    town.complete("regzx", "suspension_record", RECORD)
    assert closures(town) == [(case.id, "suspended", "suspended")]
    assert status_of(town) == "suspended"
    assert elements(town, case.id)[4:] == ["illness_plan", "suspension_application", "suspension_approval",
                                           "suspension_record"]


def test_a_suspension_refused_continues_persuasion(scenario):
    town = scenario
    exit_at_village(town, "illness")
    town.complete("ht31", "illness_plan", SUSPEND)
    town.complete("pzx", "suspension_application", {**APPLICATION, "suspension_applied_on": "2025-10-10"})
    town.at("2025-10-14", 17)
    town.complete("town", "suspension_approval", REFUSE)
    assert town.names("regzx") == [] and town.names("ht31") == ["phone_call"]


def test_studying_elsewhere_verified_closes_as_transferred(scenario):
    town = scenario
    case = exit_at_village(town, "studying_elsewhere")
    assert town.names("regzx") == ["verify_enrolment"]
    town.at("2025-10-13", 17)
    town.complete("regzx", "verify_enrolment", VERIFIED)
    assert closures(town) == [(case.id, "transferred", "transferred")]
    assert status_of(town) == "transferred"


def test_studying_elsewhere_not_verified_in_5_working_days_continues_persuasion(scenario):
    town = scenario
    case = exit_at_village(town, "studying_elsewhere")
    assert town.pass_until("2025-10-15", 8) == 1                 # 3 working days: the principal oversees
    assert town.names("pzx") == ["verify_enrolment_oversee"]
    assert town.pass_until("2025-10-16", 20) == 0
    assert town.pass_until("2025-10-17", 8) == 1                 # end of the 5th working day (10-16)
    assert town.names("regzx") == [] and town.names("ht31") == ["phone_call"]
    assert town.names("pzx") == []                               # the open oversight went with the exit
    assert town.variables(case.id)["status"] == "active"


def test_moved_away_closes_with_proof_once_the_deputy_confirms(scenario):
    town = scenario
    case = exit_at_village(town, "moved_away")
    town.at("2025-10-13", 17)
    town.complete("regzx", "record_exit_proof", PROOF)
    town.complete("deputy", "confirm_exit", {"exit_decision": "send_back", "exit_decision_note": "请补迁入地学校接收证明"})
    task = town.task("regzx", "record_exit_proof")                # sent back, with the deputy's note
    assert "请补迁入地学校接收证明" in (task.get("instructions") or town_instructions(town, task))
    town.complete("regzx", "record_exit_proof", {**PROOF, "proof_kind": "new_school", "proof_ref": "某县某小学接收证明"})
    town.complete("deputy", "confirm_exit", CONFIRM)
    assert closures(town) == [(case.id, "moved_away", "moved_away")]
    assert elements(town, case.id)[4:] == ["record_exit_proof", "confirm_exit", "record_exit_proof", "confirm_exit"]


def test_abroad_and_deceased_close_with_their_outcome(scenario):
    town = scenario
    case = exit_at_village(town, "deceased")
    town.at("2025-10-13", 17)
    town.complete("regzx", "record_exit_proof", {**PROOF, "proof_kind": "death_certificate", "proof_ref": "死亡医学证明",
                                                 "proof_note": "因病去世"})
    town.complete("deputy", "confirm_exit", CONFIRM)
    assert closures(town) == [(case.id, "deceased", "deceased")] and status_of(town) == "deceased"


def test_a_cause_found_untrue_continues_persuasion(scenario):
    town = scenario
    exit_at_village(town, "abroad")
    town.complete("regzx", "record_exit_proof", {"proof_confirmed": False, "proof_note": "经核实仍在本村居住"})
    assert town.names("deputy") == [] and town.names("ht31") == ["phone_call"]


def test_a_return_during_the_exit_takes_the_returned_path(scenario):
    town = scenario
    case = exit_at_village(town, "illness")
    town.complete("ht31", "illness_plan", LEAVE)
    assert status_of(town) == "sick_leave"
    back = town.report("2025-10-13", {1: P})
    assert back["messages_sent"][0]["reached"] == [case.id]
    assert status_of(town) == "enrolled"                         # back at once, not when the watch ends
    assert changes(town) == [("enrolled", "sick_leave", "ht31", case.id, "leave_started"),
                             ("sick_leave", "enrolled", "pzx", case.id, "returned")]
    assert town.names("ht31") == [] and town.names("regzx") == []      # before the report: a watch, no registry step
    assert town.pass_until("2025-10-20", 9) == 0                # the leave's timer went with the exit
    assert town.engine.runtime.variables(case.id, "start_watch")["case_status"] == "watching"
    assert town.pass_until("2025-10-28", 8) == 1                # 10 school days after 10-13: never a dropout
    assert closures(town) == [(case.id, "returned_before_report", "enrolled")]


def town_instructions(town, task):
    response = town.client.get(f"/api/v1/tasks/{task['task_id']}", headers=town.headers("regzx"))
    assert response.status_code == 200, response.json
    return str(response.json)


def test_a_leave_without_its_dates_is_refused_and_changes_nothing(scenario):
    town = scenario
    exit_at_village(town, "illness")
    task = town.task("ht31", "illness_plan")
    response = town.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=town.headers("ht31"),
                                json={"data": {"illness_path": "leave", "illness_proof": "县医院诊断证明"}})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"leave_from", "leave_until"}   # required for a leave, in Chinese
    assert town.names("ht31") == ["illness_plan"]


def test_back_from_leave_on_a_day_marked_unexcused_leaves_that_absence_to_a_new_case(scenario):
    """The leave check says "back" on a day the school marked 无故缺课: the case closes as its
    head teacher said, but the absence is not swallowed by it (a lost absence): the worker
    hands it on and a new case opens for it. The leave's own days stay the closed case's."""
    from ledger.case_handoff import absent_without_case, dispatch_pending
    town = scenario
    case = exit_at_village(town, "illness")
    town.complete("ht31", "illness_plan", LEAVE)
    town.report_days("2025-10-11", "2025-10-17", {1: U})         # on leave: the case's days
    town.pass_until("2025-10-20", 9)
    town.report("2025-10-20", {1: U})                             # the return date: absent without leave
    town.complete("ht31", "leave_check", {"leave_result": "returned", "leave_checked_on": "2025-10-20",
                                          "leave_check_note": "班主任电话确认已康复"})
    assert closures(town) == [(case.id, "returned_after_leave", "enrolled")]
    with town.engine.db.read() as session:
        assert absent_without_case(session) == []                 # handed on, not lost
    assert dispatch_pending(town.engine) == 1                     # the worker's sweep
    cases = town.cases(1)
    assert len(cases) == 2 and cases[-1].status == "active" and cases[-1].id != case.id
    # The school's marks count the run (the leave's days were marked 无故缺课 too): the new
    # case opens at the tier that run has reached.
    assert {"phone_call", "home_visit"} <= set(town.names("ht31"))


def test_back_from_leave_closes_without_a_new_case_when_the_leave_days_were_marked_unexcused(scenario):
    town = scenario
    case = exit_at_village(town, "illness")
    town.complete("ht31", "illness_plan", LEAVE)
    town.report_days("2025-10-11", "2025-10-17", {1: U})
    town.pass_until("2025-10-20", 9)
    town.complete("ht31", "leave_check", {"leave_result": "returned", "leave_checked_on": "2025-10-20",
                                          "leave_check_note": "已康复返校"})
    from ledger.case_handoff import dispatch_pending
    assert dispatch_pending(town.engine) == 0 and [c.id for c in town.cases(1)] == [case.id]
