"""Issue 10 §2, §3, §5 in processes/persuasion.bpmn's ``persuade``: time does not wait for a
late task, an unreached call is retried, every attempt is recorded, the moral education
office co-signs the visit, a lawful cause leaves persuasion, and an excused day pauses the
case. Driven as the town drives it (harness.Town): attendance through POST
/api/v1/attendance, tasks through the REST API, timers fired as ``baoxue timers fire-due``.

Calendar (chinesecalendar): Mon 09-29 and Tue 09-30 are school days, 10-01..10-08 the
National Day holiday, Thu 10-09, Fri 10-10 and the make-up Sat 10-11 school days.
"""
from __future__ import annotations

from .forms_data import CALL, COSIGN, OVERSEE, REVIEW, UNREACHED, VILLAGE, VISIT
from .harness import E, P, U


def instructions(town, user, element_id):
    task = town.task(user, element_id)
    return town.client.get(f"/api/v1/tasks/{task['task_id']}", headers=town.headers(user)).json["instructions"]


def submitted(town, case_id, element_id):
    """What each completion of ``element_id`` stored in the case's record (audit trail)."""
    return [e.data["submitted"] for e in town.audit(case_id, "task_completed") if e.element_id == element_id]


def cancelled(town, case_id):
    return [e.element_id for e in town.audit(case_id, "task_cancelled")]


def test_day_3_opens_the_visit_while_the_call_is_late_and_so_on_to_the_report(scenario):
    """§3: each threshold opens its step on its day; the late tasks stay open and overdue,
    each with its one oversight task; nothing waits for them."""
    town = scenario
    town.report("2025-09-29", {1: U})
    case = town.case(1)
    assert town.pass_until("2025-09-30", 8) == 1                 # the same-day call was not made
    assert town.names("pzx") == ["phone_call_oversee"]
    town.report("2025-09-30", {1: U})
    town.report("2025-10-09", {1: U})                            # day 3
    assert town.names("ht31") == ["home_visit", "phone_call"]
    call = town.task("ht31", "phone_call")
    assert call["due_at"] < "2025-10-09"                          # still open, overdue since 09-29
    town.report("2025-10-10", {1: U})                            # day 4: the visit is undone, the village goes
    assert town.names("vsjt") == ["village_check"] and town.names("ht31") == ["home_visit", "phone_call"]
    town.report("2025-10-11", {1: U})                            # day 5
    assert town.names("ht31") == ["dropout_report", "home_visit", "phone_call"]
    assert town.names("vsjt") == ["village_check"]
    town.pass_until("2025-10-13", 8)
    assert town.names("pzx") == ["home_visit_oversee", "phone_call_oversee"]   # one each, kept
    assert [t[0] for t in town.tasks_in_order(case.id)] == [
        "phone_call", "phone_call_oversee", "home_visit", "village_check", "home_visit_oversee", "dropout_report"]
    town.complete("ht31", "phone_call", CALL)                    # late work is still recorded
    town.complete("ht31", "home_visit", VISIT)
    assert town.names("moral") == ["visit_cosign"] and town.names("ht31") == ["dropout_report"]
    assert cancelled(town, case.id) == [] and town.history_verified(case.id)


def test_two_quiet_weeks_clear_a_tendency_even_with_the_call_undone(scenario):
    """§3: the tendency-cleared end ends persuade although the late call is open: the call and
    its oversight are cancelled (the case history says why), the case closes as cleared."""
    from ledger.attendance_cases import EngineCaseSink
    town = scenario
    town.at("2025-09-29", 10)
    EngineCaseSink(town.engine, "ht31").tendency(1, reason="多次表示不想读书")
    case = town.case(1)
    assert town.pass_until("2025-09-30", 8) == 1 and town.names("pzx") == ["phone_call_oversee"]
    town.report_days("2025-09-30", "2025-10-10", {1: P})
    town.pass_until("2025-10-14", 12)
    assert town.case(1).status == "completed"
    assert sorted(cancelled(town, case.id)) == ["phone_call", "phone_call_oversee"]
    assert town.data(case.id)["outcome"] == "tendency_cleared"
    assert town.names("ht31") == [] and town.names("pzx") == []
    from api.casehistory import case_history                    # what the case page shows
    details = [h["detail"] for h in case_history(town.engine, case.id) if h["kind"] == "task_cancelled"]
    assert details == ["“等待次日出勤”，流程转入其他步骤，此任务不再需要办理"] * 2   # the two quiet weeks' gateway


def test_an_unreached_call_is_tried_three_school_days_then_the_visit_is_told(scenario):
    """§5: not reached → a new call the next school day (not on the holiday), up to 3 tries,
    beside the day counter; after the third the home visit says the family was not reached."""
    town = scenario
    town.report("2025-09-29", {1: U})
    case = town.case(1)
    town.complete("ht31", "phone_call", UNREACHED)
    assert town.names("ht31") == []
    assert town.pass_until("2025-09-29", 23) == 0
    assert town.pass_until("2025-09-30", 8) == 1                 # the end of the call's school day
    assert "这是第 2 次" in instructions(town, "ht31", "phone_call")
    town.complete("ht31", "phone_call", {**UNREACHED, "call_on": "2025-09-30"})
    town.report("2025-09-30", {1: U})
    town.pass_until("2025-10-09", 8)                             # after the holiday: the third try
    call = town.task("ht31", "phone_call")
    assert call["due_at"].startswith("2025-10-09T15:59:59")      # due by the end of that school day
    town.complete("ht31", "phone_call", {**UNREACHED, "call_on": "2025-10-09"})
    town.pass_until("2025-10-10", 8)
    assert town.names("ht31") == []                              # no fourth try
    tries = submitted(town, case.id, "phone_call")
    assert [t["call_on"] for t in tries] == ["2025-09-29", "2025-09-30", "2025-10-09"]
    assert all(t["call_reached"] is False and t["call_attitude"] == "not_met" for t in tries)


def test_the_visit_opened_after_three_failed_calls_says_so(scenario):
    town = scenario
    town.report("2025-09-29", {1: U})
    town.complete("ht31", "phone_call", UNREACHED)
    town.pass_until("2025-09-30", 8)
    town.complete("ht31", "phone_call", {**UNREACHED, "call_on": "2025-09-30"})
    town.report("2025-09-30", {1: U})
    town.pass_until("2025-10-09", 8)
    town.complete("ht31", "phone_call", {**UNREACHED, "call_on": "2025-10-09"})
    town.report("2025-10-09", {1: U})                            # day 3
    assert "学校已电话联系 3 次，**均未联系上监护人**" in instructions(town, "ht31", "home_visit")
    assert "家访记录由德育处会签" in instructions(town, "ht31", "home_visit")


def test_a_reached_call_is_not_retried_and_the_visit_is_told_nothing(scenario):
    town = scenario
    town.report("2025-09-29", {1: U})
    town.complete("ht31", "phone_call", CALL)
    assert town.pass_until("2025-10-09", 8) == 0
    town.report_days("2025-09-30", "2025-10-09", {1: U})
    assert town.names("ht31") == ["home_visit"]
    assert "均未联系上" not in instructions(town, "ht31", "home_visit")


def test_every_attempt_is_recorded_and_the_moral_office_co_signs_the_visit(scenario):
    """§5: time, people with roles, method, whom they met, attitude, result, next step and the
    cause on each tier's record; the co-sign is its own task with a due date and oversight."""
    town = scenario
    town.report("2025-09-29", {1: U})
    case = town.case(1)
    town.complete("ht31", "phone_call", CALL)
    town.report_days("2025-09-30", "2025-10-09", {1: U})
    town.complete("ht31", "home_visit", VISIT)
    cosign = town.task("moral", "visit_cosign")
    assert cosign["due_at"].startswith("2025-10-10T15:59:59")    # 1 working day
    assert "李老师（班主任）、王主任（德育处）" in instructions(town, "moral", "visit_cosign")
    assert ("visit_cosign", "moral_education_office", "zx") in town.tasks_in_order(case.id)
    town.report("2025-10-10", {1: U})
    town.complete("vsjt", "village_check", VILLAGE)
    assert town.pass_until("2025-10-11", 8) == 1                 # the co-sign is overdue: the principal
    assert sorted(town.names("pzx")) == ["plan_ack", "visit_cosign_oversee"]    # and the support plan
    town.complete("moral", "visit_cosign", COSIGN)
    town.complete("pzx", "visit_cosign_oversee", {**OVERSEE, "supervised_on": "2025-10-11"})
    for element, prefix in (("phone_call", "call"), ("home_visit", "visit"), ("village_check", "village")):
        [record] = submitted(town, case.id, element)
        for field in ("on", "time", "participants", "method", "met", "attitude", "result", "next_step"):
            assert record[f"{prefix}_{field}"], (element, field)
        assert record["cause"] == "weariness"
    assert submitted(town, case.id, "visit_cosign") == [COSIGN]


def test_a_lawful_cause_at_the_call_leaves_persuasion_at_once(scenario):
    """§2: the cause told on the phone is lawful: persuade ends by the escalation lawful_exit,
    carrying the cause, its detail and the step; no visit, no report follows."""
    town = scenario
    town.report("2025-09-29", {1: U})
    case = town.case(1)
    refused = town.client.post(f"/api/v1/tasks/{town.task('ht31', 'phone_call')['task_id']}/complete",
                               headers=town.headers("ht31"), json={"data": {**CALL, "cause": "illness"}})
    assert refused.status_code == 422 and "cause_detail" in refused.json["errors"]   # say what it is
    town.complete("ht31", "phone_call", {**CALL, "cause": "illness", "cause_detail": "住院治疗（县医院证明）"})
    exit_data = town.data(case.id, "take_lawful_exit")
    assert exit_data["lawful_exit"] == {"exit_cause": "illness", "exit_detail": "住院治疗（县医院证明）",
                                        "exit_from": "phone_call"}
    assert (exit_data["exit_cause"], exit_data["exit_from"]) == ("illness", "phone_call")
    assert town.names("ht31") == ["illness_plan"] and town.names("pzx") == []     # lawful_exit: leave or suspension
    assert "dropout_report" not in [t[0] for t in town.tasks_in_order(case.id)]


def test_a_lawful_cause_at_the_visit_cancels_the_open_work_and_needs_no_co_sign(scenario):
    town = scenario
    town.report("2025-09-29", {1: U})
    case = town.case(1)
    town.report_days("2025-09-30", "2025-10-09", {1: U})         # the call was never made
    town.complete("ht31", "home_visit", {**VISIT, "cause": "studying_elsewhere",
                                         "cause_detail": "随父母在广州某小学就读（待核实）"})
    assert town.data(case.id, "take_lawful_exit")["exit_from"] == "home_visit"
    assert town.names("moral") == [] and town.names("ht31") == []
    assert "phone_call" in cancelled(town, case.id)             # the late call went with persuade


def test_an_excused_leave_pauses_the_case_and_a_long_one_reaches_the_head_teacher(scenario):
    """Issue 10 §2 "attendance turning excused pauses the case": excused days count for
    nothing and move no threshold; after 5 school days of leave the head teacher is asked;
    the next unexcused day goes on from the days before the leave."""
    town = scenario
    town.report("2025-09-29", {1: U})
    case = town.case(1)
    town.complete("ht31", "phone_call", CALL)
    town.report("2025-09-30", {1: U})                            # day 2
    first = town.report("2025-10-09", {1: E})
    assert first["messages_sent"] == [{"child_id": 1, "message": "excused_day", "status": "delivered",
                                       "reached": [case.id]}]
    later = town.report_days("2025-10-10", "2025-10-15", {1: E})
    assert all(r["messages_sent"] == [] for r in later)          # the case is paused already
    assert town.names("ht31") == []                              # no visit: excused days do not count
    assert town.pass_until("2025-10-15", 20) == 0, [e.element_id for e in town.audit(case.id, "timer_fired")]
    assert town.pass_until("2025-10-16", 8) == 1                 # 5 school days of leave
    assert town.names("ht31") == ["leave_review"]
    assert "2025-10-09" in instructions(town, "ht31", "leave_review")
    town.complete("ht31", "leave_review", {**REVIEW, "review_on": "2025-10-16"})
    back = town.report("2025-10-16", {1: U})                     # unexcused again: day 3, not day 1
    assert back["outcomes"][0]["consecutive_unexcused"] == 3
    assert town.names("ht31") == ["home_visit"]
    assert submitted(town, case.id, "leave_review")[0]["review_finding"] == "on_leave"


def test_a_leave_that_ends_in_a_return_closes_as_before(scenario):
    town = scenario
    town.report("2025-09-29", {1: U})
    case = town.case(1)
    town.complete("ht31", "phone_call", CALL)
    town.report("2025-09-30", {1: E})
    back = town.report("2025-10-09", {1: P})
    assert back["messages_sent"][0]["message"] == "returned"
    assert town.variables(case.id)["status"] == "active"        # watching (never reported)
    assert town.names("ht31") == []


def test_an_excused_day_without_a_case_sends_nothing(scenario):
    town = scenario
    result = town.report("2025-09-29", {1: E})
    assert result["messages_sent"] == [] and town.cases(1) == []
