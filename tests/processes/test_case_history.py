"""The case history reads like a file (issue 17): entries in the order things happened, each
saying what it is about, cancelled tasks with their reason, no internal words; through real
attendance ingestion and the task page (SQLite and PostgreSQL)."""
from __future__ import annotations

import re

from api.casehistory import case_history

from .forms_data import CALL
from .harness import P, U


def test_entries_say_what_they_are_about_in_the_order_things_happened(scenario):
    town = scenario
    town.report("2025-09-29", {1: U, 2: P})                  # day 1: the case opens
    case = town.case(1)
    town.pass_until("2025-09-30", 9)                         # the same-day call is overdue
    town.at("2025-09-30", 10)
    town.complete("ht31", "phone_call", CALL)
    town.at("2025-10-09", 9)
    town.report("2025-09-30", {1: U})                        # day 2, entered late (after the holiday)
    town.report("2025-10-09", {1: U})                        # day 3: the home visit
    town.report("2025-10-10", {1: P})                        # back: the open tasks are cancelled

    history = case_history(town.engine, case.id)
    said = [(h["kind"], h["title"], h["detail"]) for h in history]
    assert said[0] == ("instance_started", "三级劝返", None)
    assert said[1:5] == [
        ("timer_fired", "“电话联系监护人”逾期", None),
        ("task_completed", "电话联系监护人", None),
        ("message_received", "又一天无故缺课", "第2天，9月30日"),      # sits on the day it reports
        ("message_received", "又一天无故缺课", "第3天，10月9日")]
    late = history[3]
    assert late["late"] is True and late["at"].startswith("2025-09-30T23:59:59")
    assert late["recorded_at"].startswith("2025-10-09T01:00:00")   # entered 10-09 09:00 local
    assert not any(h["late"] for h in history if h is not late)
    back = [h for h in history if h["kind"] in ("message_received", "task_cancelled")][-3:]
    assert (back[0]["title"], back[0]["detail"]) == ("学生已返校", "10月10日")
    cancelled = {h["title"]: h["detail"] for h in back[1:]}
    assert cancelled.keys() == {"家访并告知法定义务", "督办：电话联系监护人逾期"}
    assert set(cancelled.values()) == {"收到“学生已返校”，流程转入其他步骤，此任务不再需要办理"}
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)


def test_the_task_page_shows_the_history_in_plain_chinese(scenario):
    town = scenario
    town.report("2025-09-29", {1: U, 2: P})
    town.pass_until("2025-09-30", 9)
    oversee = town.task("pzx", "phone_call_oversee")
    page = town.client.get(f"/api/v1/tasks/{oversee['task_id']}", headers=town.headers("pzx")).json
    timer = [h for h in page["history"] if h["kind"] == "timer_fired"]
    assert [(h["label"], h["title"], h["actor_name"]) for h in timer] == [("到期", "“电话联系监护人”逾期", "系统（到期自动）")]
    html = _task_page(town, "pzx", oversee["task_id"])
    history = html[html.index("办理经过"):]
    assert "到期：“电话联系监护人”逾期" in history and "系统（到期自动）" in history
    assert not re.search(r"[（(]timer[）)]|timer_fired|message_received", history)


def _task_page(town, username, task_id) -> str:
    from tests.web.conftest import sign_in
    client = town.app.test_client()
    assert sign_in(client, username).status_code == 302
    response = client.get(f"/tasks/{task_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_call_shows_its_candidate_the_guardians_phone_and_the_visit_the_address(scenario):
    """processes/persuasion.bpmn declares what each tier's task needs (subjectFields)."""
    from ledger.models import Child
    town = scenario
    with town.engine.db.transaction() as session:
        child = session.get(Child, 1)
        child.guardian_name, child.guardian_phone, child.address = "张建国", "13812345678", "蛟潭村三组12号"
    town.report("2025-09-29", {1: U, 2: P})
    call = town.task("ht31", "phone_call")
    seen = town.client.get(f"/api/v1/tasks/{call['task_id']}", headers=town.headers("ht31")).json["subject"]
    assert (seen["name"], seen["phone"], seen["guardian"]) == ("张小明", "13812345678", "张建国")
    assert "address" not in seen
    supervised = town.client.get(f"/api/v1/tasks/{call['task_id']}", headers=town.headers("pzx")).json["subject"]
    assert supervised["name"] == "张*明" and "phone" not in supervised
    town.complete("ht31", "phone_call", CALL)
    town.report_days("2025-09-30", "2025-10-09", {1: U})
    visit = town.task("ht31", "home_visit")
    seen = town.client.get(f"/api/v1/tasks/{visit['task_id']}", headers=town.headers("ht31")).json["subject"]
    assert seen["address"] == "蛟潭村三组12号" and seen["phone"] == "13812345678"


def test_case_data_the_attendance_ledger_updates_is_in_the_history(scenario):
    """A count the ledger sets on a case that was not waiting for an absence message (a
    correction, a day while a task is open) is an entry too, saying what changed; values of
    data the history has no words for are not shown, only counted."""
    from engine.runtime.commands import SetVariables

    town = scenario
    town.report("2025-09-29", {1: U})
    case = town.case(1)
    town.engine.executor.execute(case.id, SetVariables({"absence_days": 3, "first_absence": "2025-09-29"}), "ht31")
    town.engine.executor.execute(case.id, SetVariables({"absence_days": 2, "tendency_reason": "家中有事"}), "ht31")
    updates = [(h["title"], h["detail"]) for h in case_history(town.engine, case.id) if h["kind"] == "variables_set"]
    assert updates == [("考勤更新", "连续无故缺课（教学日）：3；首次缺课日：2025-09-29"),
                       ("案件数据", "连续无故缺课（教学日）：2；另有 1 项数据")]
