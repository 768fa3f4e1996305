"""Scenarios for the faults a review of issue 10 found (persuasion fidelity), each through
the real attendance ingestion and the REST API on the real engine (SQLite and PostgreSQL).
Calendar as in test_persuasion (National Day 10-01..10-08 off, Sat 10-11 a make-up day)."""
from __future__ import annotations

from datetime import date

from .documents_case import school_and_village_fail
from .forms_data import OVERSEE, REPORT, SEND_BACK


# --- the principal's send-backs of the dropout report are bounded by escalation (§6) -----

def test_a_second_send_back_tells_the_deputy_and_each_further_one_the_leader(scenario):
    town = scenario
    case_id = school_and_village_fail(town)
    town.at("2025-10-13", 9)
    town.complete("ht31", "dropout_report", REPORT)
    town.complete("pzx", "confirm_report", SEND_BACK)              # 1st: back to the head teacher only
    assert town.names("ht31") == ["dropout_report"]
    assert town.names("deputy") == [] and town.names("leader") == []
    town.complete("ht31", "dropout_report", REPORT)
    town.complete("pzx", "confirm_report", {**SEND_BACK, "report_return_reason": "原因写得太简单"})
    # 2nd: the head teacher revises again, and the task-force deputy is told beside it.
    assert town.names("ht31") == ["dropout_report"] and town.names("deputy") == ["send_back_oversee"]
    task = town.task("deputy", "send_back_oversee")
    detail = town.client.get(f"/api/v1/tasks/{task['task_id']}", headers=town.headers("deputy")).json
    assert "2 次" in detail["instructions"] and "原因写得太简单" in detail["instructions"]
    assert task["due_at"].startswith("2025-10-14T")                # 1 working day
    town.complete("deputy", "send_back_oversee", {**OVERSEE, "supervised_on": "2025-10-13"})
    town.complete("ht31", "dropout_report", REPORT)
    town.complete("pzx", "confirm_report", SEND_BACK)              # 3rd: the leader
    assert town.names("leader") == ["send_back_decide"] and town.names("deputy") == []
    town.complete("ht31", "dropout_report", REPORT)
    town.complete("pzx", "confirm_report", SEND_BACK)              # 4th: the leader again, one task each
    assert town.names("leader") == ["send_back_decide", "send_back_decide"]
    town.complete("ht31", "dropout_report", REPORT)
    town.complete("pzx", "confirm_report", {"report_decision": "confirm", "report_no": "蛟中报〔2025〕5号",
                                            "report_sent_on": "2025-10-13"})
    assert town.names("town") == ["receive_report"]               # the notice follows the receipt
    order = [t[:2] for t in town.tasks_in_order(case_id) if t[0].startswith("send_back")]
    assert order == [("send_back_oversee", "task_force_deputy"), ("send_back_decide", "task_force_leader"),
                     ("send_back_decide", "task_force_leader")]
    assert town.history_verified(case_id)


# --- early marriage: under 14 by the register's birth date, not by a typed box (§4) ------

def born(town, birth: str, child_id: int = 1) -> None:
    from datetime import date

    from sqlalchemy import update

    from ledger.models import Child
    with town.engine.db.transaction() as session:
        session.execute(update(Child).where(Child.id == child_id).values(birth_date=date.fromisoformat(birth)))


def test_early_marriage_under_14_by_the_register_is_a_mandatory_report(scenario):
    from .test_support_measures import village
    town = scenario
    born(town, "2011-10-11")              # 13 on the village check (Fri 10-10); 14 the next day
    case = village(town, cause="early_marriage", cause_detail="家人说已满 15 岁，已订婚", plan_measures=["other"])
    assert town.names("police") == ["mandatory_report"]
    task = town.task("police", "mandatory_report")
    detail = town.client.get(f"/api/v1/tasks/{task['task_id']}", headers=town.headers("police")).json
    assert "现年 **13 周岁**" in detail["instructions"] or "现年 13 周岁" in detail["instructions"]
    assert town.engine.runtime.variables(case.id, "village_check")["child_age"] == 13


def test_early_marriage_of_a_child_of_14_by_the_register_is_no_mandatory_report(scenario):
    from .test_support_measures import village
    town = scenario
    born(town, "2011-09-01")              # 14 since 2025-09-01, whatever the village typed
    case = village(town, cause="early_marriage", cause_detail="13 岁，已订婚", plan_measures=["other"])
    assert town.names("police") == []
    assert town.names("pzx") == ["plan_ack"]
    ack = town.task("pzx", "plan_ack")
    detail = town.client.get(f"/api/v1/tasks/{ack['task_id']}", headers=town.headers("pzx")).json
    assert "已满十四周岁（14 周岁）" in detail["instructions"]
    assert ("mandatory_report", "police_liaison", "town") not in town.tasks_in_order(case.id)


# --- a child the register says is not expected at school opens no case (§1) --------------

def test_a_transferred_child_is_off_the_roll_and_an_absence_for_them_is_refused(scenario):
    from .documents_case import browser, page
    from .test_lawful_exits import VERIFIED, exit_at_village
    from .test_outcomes import status_of
    town = scenario
    case = exit_at_village(town, "studying_elsewhere")
    town.at("2025-10-13", 17)
    town.complete("regzx", "verify_enrolment", VERIFIED)           # closed: 转出
    assert status_of(town) == "transferred" and town.case(1).status == "completed"
    town.at("2025-10-14")
    # Through the API: the row for the transferred child is refused with its status, and
    # nothing of the day is stored (child 2's row neither): no case, no record.
    response = town.client.post("/api/v1/attendance", headers=town.headers("pzx"), json={
        "school_code": "zx", "date": "2025-10-14",
        "records": [{"child_id": 1, "status": "absent_unexcused"}, {"child_id": 2, "status": "present"}]})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"records.0"}
    assert "转出" in response.json["errors"]["records.0"] and "不在每日考勤名单" in response.json["errors"]["records.0"]
    assert [c.id for c in town.cases(1)] == [case.id]              # no second case
    from sqlalchemy import select

    from ledger.attendance_models import AttendanceRecord
    with town.engine.db.read() as session:
        assert session.scalar(select(AttendanceRecord.id).where(AttendanceRecord.date == date(2025, 10, 14))) is None
    # The class roll does not offer the child; it says why the child is missing from it.
    status, body = page(browser(town, "ht31"), "/attendance?class=zx-3-1&date=2025-10-14")
    assert status == 200
    assert 'name="status-1"' not in body and "该班级没有需要报送考勤的学生" in body
    assert 'id="off-roll-1"' in body and "转出" in body and "不参加每日考勤" in body
    # The rest of the class is reported as usual.
    town.report("2025-10-14", {2: "absent_unexcused"})
    assert len(town.cases(2)) == 1


def test_a_child_on_medical_leave_stays_on_the_roll(scenario):
    from .documents_case import browser, page
    from .test_lawful_exits import LEAVE, exit_at_village
    town = scenario
    exit_at_village(town, "illness")
    town.complete("ht31", "illness_plan", LEAVE)                   # 长期病假: expected back, monitored
    status, body = page(browser(town, "ht31"), "/attendance?class=zx-3-1&date=2025-10-13")
    assert status == 200 and 'name="status-1"' in body and 'id="off-roll-1"' not in body
    town.report("2025-10-13", {1: "absent_excused"})                # accepted as before


# --- an excused day after the report: deadlines run on, the count does not grow (§3) -----

def test_a_leave_after_the_report_keeps_the_deadlines_and_the_count_and_reaches_the_head_teacher(scenario):
    from .forms_data import CONFIRM, NOTICE, RECEIPT
    E, U = "absent_excused", "absent_unexcused"
    town = scenario
    case_id = school_and_village_fail(town)                        # day 5 on Sat 10-11: the report is due
    assert town.names("ht31") == ["dropout_report"]
    leave = town.report("2025-10-13", {1: E})                      # 请假 from Monday
    assert [(m["message"], m["reached"]) for m in leave["messages_sent"]] == [("excused_day", [case_id])]
    town.complete("ht31", "dropout_report", REPORT)
    town.complete("pzx", "confirm_report", {**CONFIRM, "report_sent_on": "2025-10-13"})
    town.complete("town", "receive_report", {**RECEIPT, "receipt_on": "2025-10-13"})
    town.complete("town", "issue_notice", {**NOTICE, "notice_issued_on": "2025-10-13", "notice_served_on": "2025-10-13"})
    town.report_days("2025-10-14", "2025-10-17", {1: E})           # the leave goes on all week
    assert town.data(case_id)["absence_days"] == 5                 # an excused day does not grow the count
    # The notice's deadline (3 working days after service: end of Thu 10-16) runs on regardless.
    town.pass_until("2025-10-17", 20)
    assert town.names("judicial") == ["legal_education"]
    # Five school days of leave (Mon 10-13 .. Fri 10-17) bring it back to the head teacher.
    town.report("2025-10-20", {1: E})                              # still on leave on Monday
    assert town.pass_until("2025-10-20", 20) == 0 or "leave_review_report" not in town.names("ht31")
    town.pass_until("2025-10-21", 8)                               # the end of the 5th school day, Mon 10-20
    assert "leave_review_report" in town.names("ht31")
    detail = town.client.get(f"/api/v1/tasks/{town.task('ht31', 'leave_review_report')['task_id']}",
                             headers=town.headers("ht31")).json
    assert "2025-10-13" in detail["instructions"] and "不中止" in detail["instructions"]
    town.complete("ht31", "leave_review_report", {"review_on": "2025-10-21", "review_finding": "absent",
                                                  "review_note": "家长承认并未生病"})
    # The next unexcused day continues the count from before the leave: day 6, not 11.
    day = town.report("2025-10-21", {1: U})
    assert day["outcomes"][0]["consecutive_unexcused"] == 6
