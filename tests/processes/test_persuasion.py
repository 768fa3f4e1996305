"""Scenarios of processes/persuasion.bpmn (issue 4), driven the way the town drives it:
daily attendance through POST /api/v1/attendance, tasks completed through the REST API by
the people routed to them, time moved and timers fired as ``baoxue timers fire-due`` does.

Calendar used (chinesecalendar, DOMAIN-REFERENCE §6): 2025-09-29 Mon and 09-30 Tue are school
days; 10-01..10-08 National Day holiday; 10-09 Thu, 10-10 Fri and the make-up Saturday 10-11
are school days. Day counts are consecutive unexcused school days.
"""
from __future__ import annotations

from .forms_data import (ACK, CALL, CONFIRM, COSIGN, DECIDE, JOINT, LEGAL, NOTICE, OVERSEE, RECEIPT, REFER,
                         REGISTRY, REPORT, STRIKE, VILLAGE, VISIT, WEEK)
from .harness import E, P, U

SCHOOL = ("head_teacher", "zx-3-1")


def start_case(town, child=1):
    """Day 1 (Mon 09-29): child absent without leave → a case and the same-day call."""
    result = town.report("2025-09-29", {child: U, 2: P})
    assert [c["child_id"] for c in result["cases_started"]] == [child]
    return town.case(child)


def through_visit(town):
    """Call on day 1; days 2 and 3 absent (09-30, 10-09: the holiday does not count) → home visit."""
    case = start_case(town)
    town.complete("ht31", "phone_call", CALL)
    assert town.names("ht31") == []
    counts = [r["outcomes"][0]["consecutive_unexcused"] for r in town.report_days("2025-09-30", "2025-10-09", {1: U})]
    assert counts == [2, 3]
    assert town.names("ht31") == ["home_visit"]
    town.complete("ht31", "home_visit", VISIT)
    town.complete("moral", "visit_cosign", COSIGN)          # the moral education office co-signs the record
    return case


def through_village(town, answers=VILLAGE):
    case = through_visit(town)
    town.report("2025-10-10", {1: U})                        # day 4: still out after the visit
    assert town.names("vsjt") == ["village_check"] and town.names("vsfg") == []
    town.complete("vsjt", "village_check", answers)
    return case


def through_notice(town, answers=VILLAGE):
    case = through_village(town, answers)
    town.report("2025-10-11", {1: U})                        # make-up Saturday: day 5
    town.complete("ht31", "dropout_report", REPORT)
    town.complete("pzx", "confirm_report", CONFIRM)
    town.complete("town", "receive_report", RECEIPT)         # the town signs for the report (its own step)
    town.complete("town", "issue_notice", NOTICE)            # served Sat 10-11 (调休) → return by Wed 10-15
    return case


def completed_elements(town, case_id):
    return [e.element_id for e in town.audit(case_id, "task_completed")]


def test_returns_after_the_call(scenario):
    """Back the next day, long before any report: never a dropout (issue 10 §1). No registry
    restoration, no strike-off, no weekly checks: a two-week watch, then 劝返成功（未辍学）."""
    town = scenario
    case = start_case(town)
    assert town.tasks_in_order(case.id) == [("phone_call", *SCHOOL)]
    task = town.task("ht31", "phone_call")
    assert task["due_at"].startswith("2025-09-29T15:59:59")   # the same school day, 23:59:59 local
    town.complete("ht31", "phone_call", CALL)
    back = town.report("2025-09-30", {1: P})
    assert back["messages_sent"] == [{"child_id": 1, "message": "returned", "status": "delivered", "reached": [case.id]}]
    assert town.names("regzx") == [] and town.names("livelihood") == []
    assert town.variables(case.id)["status"] == "active"     # watching
    assert town.pass_until("2025-10-21", 20) == 0            # 10 school days after Tue 09-30 (the make-up Sat counts)
    assert town.pass_until("2025-10-22", 8) == 1
    assert town.case(1).status == "completed"
    assert town.tasks_in_order(case.id) == [("phone_call", *SCHOOL)]
    kinds = [e.kind for e in town.audit(case.id)]
    assert kinds[0] == "instance_started" and kinds[-1] == "instance_completed"
    assert [e.data["name"] for e in town.audit(case.id, "message_received")] == ["returned"]
    assert town.history_verified(case.id)


def test_returns_after_the_home_visit(scenario):
    town = scenario
    case = through_visit(town)
    town.report("2025-10-10", {1: P})
    assert town.names("vsjt") == [] and town.names("regzx") == []      # before the report: no registry step
    assert completed_elements(town, case.id) == ["phone_call", "home_visit", "visit_cosign"]
    started = town.audit(case.id, "instance_started")[0]
    assert started.data["variables"] == {"child_id": 1, "absence_days": 1, "first_absence": "2025-09-29", "trigger": "absence",
                                         "recent_absences": 1, "intermittent_days": 5,
                                         "child_age": 9}   # from the register's birth date (2016-05-01), never the date itself


def test_village_plan_succeeds(scenario):
    town = scenario
    case = through_village(town)
    assert town.names("civil") == []                         # weariness: no aid task
    back = town.report("2025-10-11", {1: P})
    assert back["messages_sent"][0]["message"] == "returned"
    assert town.names("ht31") == [] and town.names("regzx") == []
    assert [t[0] for t in town.tasks_in_order(case.id)] == ["phone_call", "home_visit", "visit_cosign", "village_check"]
    # (the plan's acknowledgement is in the case's support file, which outlives the return)


def test_full_escalation_notice_deadline_judicial_office_then_return(scenario):
    town = scenario
    # A plan the school carries out itself: its acknowledgement is the only support task.
    case = through_notice(town, {**VILLAGE, "cause": "family", "plan_measures": ["tutoring", "buddy_teacher"]})
    town.report_days("2025-10-13", "2025-10-15", {1: U})
    town.complete("pzx", "plan_ack", ACK)
    assert town.names("judicial") == []
    assert town.pass_until("2025-10-15", 20) == 0            # the deadline day is not over yet
    assert town.pass_until("2025-10-16", 8) == 1             # the end of 10-15 has passed
    assert town.names("judicial") == ["legal_education"]
    town.complete("judicial", "legal_education", LEGAL)
    town.complete("leader", "leader_decision", DECIDE)
    town.complete("vsjt", "joint_persuasion", JOINT)
    town.report_days("2025-10-23", "2025-10-31", {1: U})
    town.pass_until("2025-11-01", 8)                         # 5 working days after the round: review again
    assert town.names("leader") == ["leader_decision"]
    town.complete("leader", "leader_decision", {**DECIDE, "decision": "refer_county"})
    assert town.names("livelihood") == ["county_referral"]
    town.complete("livelihood", "county_referral", REFER)
    assert town.names("bureau") == ["county_procedure"]      # the county's stage (test_county_referral)
    assert town.case(1).status == "active"                   # still out of school: the case stays open
    town.report("2025-11-03", {1: P})
    assert town.names("regzx") == ["restore_registry"] and town.names("leader") == []
    assert town.names("bureau") == []                        # the return withdrew the county's record
    order = [t[:2] for t in town.tasks_in_order(case.id)]
    assert order == [
        ("phone_call", "head_teacher"), ("home_visit", "head_teacher"), ("visit_cosign", "moral_education_office"),
        ("village_check", "village_secretary"),
        ("dropout_report", "head_teacher"), ("confirm_report", "principal"), ("receive_report", "town_government"),
        ("issue_notice", "town_government"), ("legal_education", "judicial_office"), ("leader_decision", "task_force_leader"),
        ("joint_persuasion", "village_secretary"), ("leader_decision", "task_force_leader"),
        ("county_referral", "livelihood_office"), ("county_procedure", "county_bureau"),
        ("restore_registry", "registrar")]
    assert [e.element_id for e in town.audit(case.id, "timer_fired")] == ["return_deadline_passed", "review_due"]
    variables = town.variables(case.id)
    assert variables["status"] == "active" and not variables["incidents"]


def test_return_during_the_notice_period_cancels_the_deadline(scenario):
    town = scenario
    case = through_notice(town)
    town.report("2025-10-13", {1: U})
    town.report("2025-10-14", {1: P})
    assert town.names("regzx") == ["restore_registry"]
    assert town.pass_until("2025-10-30", 8) >= 0 and town.names("judicial") == []
    cancelled = [e.element_id for e in town.audit(case.id, "task_cancelled")]
    assert cancelled == []            # nothing was open in the case; the plan's acknowledgement lives on in its own file
    with town.engine.db.read() as session:
        from sqlalchemy import select
        from engine.persistence.models import TimerJob
        job = session.scalars(select(TimerJob).where(TimerJob.element_id == "return_deadline_passed")).one()
        assert job.status == "cancelled"


def test_disability_found_at_the_village_check_leaves_the_legal_path(scenario):
    """Issue 10 §2: a lawful cause never reaches the dropout report (test_persuasion_timing has each tier)."""
    town = scenario
    case = through_village(town, {**VILLAGE, "cause": "disability", "plan_measures": ["home_teaching"]})
    # Issue 10 §2: no dropout report; the principal records the placement (test_lawful_exits).
    assert [t[0] for t in town.tasks_in_order(case.id)] == ["phone_call", "home_visit", "visit_cosign",
                                                          "village_check", "home_teaching_placement"]
    [sent] = town.audit(case.id, "message_sent")
    assert sent.data["name"] == "home_teaching_referral"
    assert sent.data["correlation"] == {"child_id": 1}
    [message] = town.messages("home_teaching_referral")
    assert message.status in ("unmatched", "delivered") and '"child_id": 1' in message.correlation
    assert "cause_detail" not in message.payload             # no free text in a message (issue 10 §7)
    assert town.names("civil") == []
    variables = town.data(case.id, "take_lawful_exit")
    assert (variables["exit_cause"], variables["exit_from"]) == ("disability", "village_check")


def test_excused_absences_never_start_a_case(scenario):
    town = scenario
    results = town.report_days("2025-09-29", "2025-10-10", {1: E})
    assert all(r["cases_started"] == [] and r["messages_sent"] == [] for r in results)
    assert town.cases(1) == [] and town.names("ht31") == []


def test_weekend_and_national_day_do_not_count_and_the_make_up_saturday_does(scenario):
    town = scenario
    start_case(town)
    town.complete("ht31", "phone_call", CALL)
    counts = [r["outcomes"][0]["consecutive_unexcused"] for r in town.report_days("2025-09-30", "2025-10-11", {1: U})]
    assert counts == [2, 3, 4, 5]                            # 09-30, 10-09, 10-10, Sat 10-11
    with town.engine.db.read() as session:
        from sqlalchemy import select
        from ledger.attendance_models import AttendanceRecord
        days = [str(d) for d in session.scalars(select(AttendanceRecord.date).order_by(AttendanceRecord.date)).unique()]
    assert "2025-10-11" in days and not any("2025-10-0" + str(n) in days for n in range(1, 9))
    holiday = town.client.post("/api/v1/attendance", headers=town.headers("pzx"), json={
        "school_code": "zx", "date": "2025-10-03", "records": [{"child_id": 1, "status": U}]})
    assert holiday.status_code == 422 and "date" in holiday.json["errors"]


def test_the_same_day_reported_twice_makes_one_case(scenario):
    town = scenario
    start_case(town)
    again = town.report("2025-09-29", {1: U, 2: P})
    assert (again["changed"], again["cases_started"], again["messages_sent"]) == (0, [], [])
    assert len(town.cases(1)) == 1 and town.names("ht31") == ["phone_call"]
    town.complete("ht31", "phone_call", CALL)
    town.report("2025-09-30", {1: U})
    town.report("2025-09-30", {1: U})
    case = town.case(1)
    assert [e.data["payload"]["count"] for e in town.audit(case.id, "message_received")] == [2]
    assert town.tasks_in_order(case.id) == [("phone_call", *SCHOOL)]


def test_a_second_absence_during_the_watch_reopens_the_same_case(scenario):
    town = scenario
    case = start_case(town)
    town.complete("ht31", "phone_call", CALL)
    town.report("2025-09-30", {1: P})
    town.pass_until("2025-10-09", 18)
    reopened = town.report("2025-10-13", {1: U})
    assert reopened["cases_started"] == [] and reopened["messages_sent"][0]["reached"] == [case.id]
    assert len(town.cases(1)) == 1 and town.names("ht31") == ["phone_call"]
    events = town.audit(case.id)
    assert any(e.kind == "task_ready" and e.element_id == "phone_call" for e in events[-5:])
    town.complete("ht31", "phone_call", {**CALL, "call_on": "2025-10-13", "call_promised_return": "2025-10-14"})
    town.report("2025-10-14", {1: P})
    assert town.names("regzx") == []
    assert [t[0] for t in town.tasks_in_order(case.id)] == ["phone_call", "phone_call"]
    received = [(e.element_id, e.data["name"]) for e in town.audit(case.id, "message_received")]
    assert received == [("on_returned", "returned"), ("on_absent_in_watch", "absence_day"), ("on_returned", "returned")]


def test_every_overdue_deadline_escalates_once(scenario):
    town = scenario
    case = start_case(town)
    assert town.pass_until("2025-09-30", 9) == 1             # the same-day call was not made
    assert town.names("pzx") == ["phone_call_oversee"]
    town.pass_until("2025-10-20", 9)                         # weeks later: still one escalation
    assert town.names("pzx") == ["phone_call_oversee"]
    # Two weeks with no attendance at all: the head teacher is asked to look (no case waits on nothing).
    assert town.names("ht31") == ["attendance_gap", "phone_call"]
    town.complete("ht31", "attendance_gap", {"review_on": "2025-10-20", "review_finding": "absent",
                                             "review_note": "补报考勤"})
    oversee = town.task("pzx", "phone_call_oversee")
    assert oversee["title"].startswith("督办")
    town.complete("ht31", "phone_call", CALL)
    town.complete("pzx", "phone_call_oversee", {"supervised_on": "2025-10-20", "note": "已约谈班主任"})
    fired = [e.element_id for e in town.audit(case.id, "timer_fired")]
    assert fired.count("phone_call_overdue") == 1
    # The town tier: an unissued notice escalates to the task-force leader after 3 working days.
    town.report_days("2025-10-20", "2025-10-22", {1: U})
    town.complete("ht31", "home_visit", {**VISIT, "visit_on": "2025-10-22"})
    town.complete("moral", "visit_cosign", {**COSIGN, "cosign_on": "2025-10-22"})
    town.report("2025-10-23", {1: U})
    town.complete("vsjt", "village_check", {**VILLAGE, "village_on": "2025-10-23", "cause": "family",
                                            "plan_measures": ["tutoring"]})
    town.complete("pzx", "plan_ack", {**ACK, "ack_on": "2025-10-23"})   # the school's own plan: no other support task
    town.report("2025-10-24", {1: U})
    town.complete("ht31", "dropout_report", REPORT)
    town.complete("pzx", "confirm_report", {**CONFIRM, "report_sent_on": "2025-10-24"})   # Fri: notice due by Wed 10-29
    town.complete("town", "receive_report", {**RECEIPT, "receipt_on": "2025-10-24"})
    assert town.pass_until("2025-10-29", 20) == 0
    assert town.pass_until("2025-10-30", 8) == 1
    assert town.names("leader") == ["issue_notice_oversee"]
    town.pass_until("2025-11-10", 8)
    assert town.names("leader") == ["issue_notice_oversee"]
    assert [e.element_id for e in town.audit(case.id, "timer_fired")].count("issue_notice_overdue") == 1


def test_a_return_after_days_nobody_reported_still_reaches_the_case(scenario):
    town = scenario
    case = start_case(town)
    town.complete("ht31", "phone_call", CALL)
    back = town.report("2025-10-13", {1: P})                 # the school skipped 09-30 .. 10-11
    assert back["outcomes"][0]["returned"] is False          # no unexcused day right before it ...
    assert back["messages_sent"] == [                        # ... but the case waits for a return
        {"child_id": 1, "message": "returned", "status": "delivered", "reached": [case.id]}]
    assert town.names("regzx") == [] and town.variables(case.id)["status"] == "active"   # watching
    # Present on later days: nothing waits for a return any more, nothing is sent.
    assert town.report("2025-10-14", {1: P})["messages_sent"] == []


def test_a_dropout_tendency_is_watched_two_weeks_then_cleared(scenario):
    from ledger.attendance_cases import EngineCaseSink
    town = scenario
    town.at("2025-09-29", 10)
    event = EngineCaseSink(town.engine, "ht31").tendency(1, reason="多次表示不想读书")
    case = town.case(1)
    assert event.detail["instance_id"] == case.id
    assert town.names("ht31") == ["phone_call"]
    town.complete("ht31", "phone_call", CALL)
    town.report_days("2025-09-30", "2025-10-10", {1: P})     # never absent: nothing is sent
    assert town.messages("returned") == [] and town.messages("absence_day") == []
    assert town.pass_until("2025-10-14", 12) == 1           # two weeks after the call
    assert town.case(1).status == "completed"
    assert [e.element_id for e in town.audit(case.id, "timer_fired")] == ["wait_day"]   # the gateway's timer


def test_a_tendency_case_moves_on_when_the_child_stays_away(scenario):
    from ledger.attendance_cases import EngineCaseSink
    town = scenario
    town.at("2025-09-26", 10)
    EngineCaseSink(town.engine, "ht31").tendency(1, reason="家长说要带去打工")
    town.complete("ht31", "phone_call", {**CALL, "call_on": "2025-09-26"})
    started = town.report_days("2025-09-29", "2025-10-09", {1: U})
    assert all(r["cases_started"] == [] for r in started)    # the open case takes the absences
    assert town.names("ht31") == ["home_visit"] and len(town.cases(1)) == 1


def test_absences_while_the_call_is_open_reach_the_day_counter(scenario):
    """Issue 10 §3: the day counter does not wait for the call; day 3 opens the visit beside it."""
    town = scenario
    case = start_case(town)
    updates = [r["messages_sent"] for r in town.report_days("2025-09-30", "2025-10-09", {1: U})]
    assert updates == [[{"child_id": 1, "message": "absence_day", "status": "delivered", "reached": [case.id]}]] * 2
    assert [m.status for m in town.messages("absence_day")] == ["delivered"] * 2   # nothing unmatched
    assert town.names("ht31") == ["home_visit", "phone_call"]
    town.complete("ht31", "phone_call", CALL)                # the late call is still recorded
    assert town.names("ht31") == ["home_visit"]


def test_concurrent_starts_for_one_child_make_one_case(scenario):
    import threading

    from engine.errors import Conflict
    from ledger.attendance_cases import EngineCaseSink
    town = scenario
    town.at("2025-09-29", 10)
    barrier, outcomes = threading.Barrier(4), []

    def flag():
        barrier.wait()
        try:
            outcomes.append(EngineCaseSink(town.engine, "ht31").tendency(1, reason="双击").detail["instance_id"])
        except Conflict as exc:
            outcomes.append(exc.status)
    threads = [threading.Thread(target=flag) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(town.cases(1)) == 1
    assert sorted(outcomes, key=str) == sorted([town.case(1).id] + [409] * 3, key=str)
    assert town.names("ht31") == ["phone_call"]


def test_dates_that_cannot_be_true_are_refused_beside_the_field(scenario):
    town = scenario
    through_notice_ready = through_village(town)
    town.report("2025-10-11", {1: U})
    town.complete("ht31", "dropout_report", REPORT)
    town.complete("pzx", "confirm_report", CONFIRM)
    town.complete("town", "receive_report", RECEIPT)         # the notice follows the receipt

    def refused(data):
        task = town.task("town", "issue_notice")
        response = town.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=town.headers("town"),
                                    json={"data": {**NOTICE, **data}})
        assert response.status_code == 422, response.json
        return response.json["errors"]
    assert refused({"notice_served_on": "2025-10-12"}) == {"notice_served_on": "日期不能晚于今天（2025-10-11）"}
    assert refused({"notice_issued_on": "2025-10-11", "notice_served_on": "2025-10-10"}) == {
        "notice_served_on": "不能早于签发日期（2025-10-11）"}
    assert town.names("town") == ["issue_notice"] and through_notice_ready   # nothing moved on


def test_an_overdue_strike_off_escalates_to_the_task_force_deputy_once(scenario):
    town = scenario
    case = through_notice(town, {**VILLAGE, "cause": "family", "plan_measures": ["tutoring"]})
    town.report("2025-10-13", {1: P})                         # back after the report: restoration and strike-off
    town.complete("pzx", "plan_ack", ACK)                     # the school's own plan: its support file ends
    town.complete("regzx", "restore_registry", {**REGISTRY, "done_on": "2025-10-13"})   # due by the end of Wed 10-15
    assert town.pass_until("2025-10-15", 20) == 0
    assert town.pass_until("2025-10-16", 8) == 1 and town.names("deputy") == ["strike_off_oversee"]
    town.pass_until("2025-10-27", 8)
    assert town.names("deputy") == ["strike_off_oversee"]
    assert [e.element_id for e in town.audit(case.id, "timer_fired")] == ["strike_off_overdue"]
