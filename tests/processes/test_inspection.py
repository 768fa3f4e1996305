"""Quarterly inspection (issue 13 "Quarterly inspection"): a round end to end through the real
engine and the REST API, on SQLite and PostgreSQL."""
from __future__ import annotations

from engine.persistence.models import ProcessInstance

from .inspection_case import complete_for, findings, start

UNITS = {"zx": "蛟潭中心学校", "fg": "福港学校", "v-jt": "蛟潭村", "v-fg": "福港村"}


def test_a_round_runs_end_to_end(scenario):
    town = scenario
    town.at("2025-09-22", 9)
    opened = start(town)
    assert opened["round_ref"] == "2025Q3" and opened["units"] == 4
    start(town, status=409)                                   # one open round per quarter
    assert start(town, quarter=4, status=422)["errors"].keys() == {"quarter"}   # not begun yet
    start(town, user="inspector", status=403)
    inspections = [item for item in town.inbox("inspector") if item["name"] == "inspect_unit"]
    assert sorted(item["party"]["unit_name"] for item in inspections) == sorted(UNITS.values())
    assert {item["org_unit"] for item in inspections} == {"town"}
    # Three units pass; the central school fails two items.
    for name in ("福港学校", "蛟潭村", "福港村"):
        complete_for(town, "inspector", "inspect_unit", name, findings("2025-09-22"))
    errors = town.client.post(
        f"/api/v1/tasks/{_task(town, 'inspector', 'inspect_unit')}/complete", headers=town.headers("inspector"),
        json={"data": findings("2025-09-22", {"census": ""})}).json["errors"]
    assert "note_census" in str(errors)
    complete_for(town, "inspector", "inspect_unit", "蛟潭中心学校",
                 findings("2025-09-22", {"census": "摸底台账缺三年级转入学生", "persuasion": "两件劝返逾期未办"}))
    # The notice: returned once, revised, approved.
    complete_for(town, "leader", "approve_notice", "蛟潭中心学校",
                 {"notice_decision": "return", "notice_return_reason": "问题表述不具体"})
    complete_for(town, "inspector", "revise_notice", "蛟潭中心学校",
                 {"notice_remarks": "三年级转入学生 2 人未录入台账；劝返案件 2 件超期。", "revision_note": "补充具体数据"})
    complete_for(town, "leader", "approve_notice", "蛟潭中心学校", {"notice_decision": "approve"})
    # The principal's rectification goes overdue: the leader is asked to oversee it.
    assert [(i["name"], i["org_unit"], i["party"]["unit_name"]) for i in town.inbox("pzx")] == [("rectify", "zx", "蛟潭中心学校")]
    town.pass_until("2025-10-20", 9)
    complete_for(town, "leader", "oversee_rectification", "蛟潭中心学校",
                 {"supervised_on": "2025-10-20", "oversee_note": "电话督促校长本周内整改"})
    town.at("2025-10-21", 10)
    complete_for(town, "pzx", "rectify", "蛟潭中心学校",
                 {"rectified_on": "2025-10-21", "rectification_report": "已补录台账，劝返案件已办结。"})
    complete_for(town, "inspector", "verify_rectification", "蛟潭中心学校",
                 {"verified_on": "2025-10-21", "verify_decision": "rejected", "verify_note": "台账仍缺一人"})
    complete_for(town, "pzx", "rectify", "蛟潭中心学校",
                 {"rectified_on": "2025-10-21", "rectification_report": "已补录最后一人。"})
    complete_for(town, "inspector", "verify_rectification", "蛟潭中心学校",
                 {"verified_on": "2025-10-21", "verify_decision": "accepted"})
    # Every unit done: the summary, returned once, then approved; the round closes.
    town.complete("inspector", "prepare_summary", {"summary_on": "2025-10-21", "summary_text": "四个单位已检查。",
                                                   "next_steps": "下季度复查中心学校台账。"})
    town.complete("leader", "approve_summary", {"summary_decision": "return", "summary_return_reason": "补充整改情况"})
    town.complete("inspector", "prepare_summary", {"summary_on": "2025-10-21", "summary_text": "四个单位已检查，一个通报。",
                                                   "next_steps": "下季度复查中心学校台账。"})
    town.complete("leader", "approve_summary", {"summary_decision": "approve"})
    with town.engine.db.read() as session:
        assert session.get(ProcessInstance, opened["instance_id"]).status == "completed"
    results = {r["unit"]: r for r in town.engine.runtime.variables(opened["instance_id"])["unit_results"]}
    assert results["zx"]["has_failings"] and results["zx"]["notice_returns"] == 1
    assert results["zx"]["rectification_rounds"] == 2
    assert not results["fg"]["has_failings"]
    start(town)                                               # the quarter's round is closed: a new one may open


def _task(town, username, element_id):
    return next(i["task_id"] for i in town.inbox(username) if i["name"] == element_id)


def test_bad_rounds_are_refused_in_chinese_and_nothing_starts(scenario):
    town = scenario
    town.at("2025-09-22", 9)
    for body, field in (({"year": "abc", "quarter": 3}, "year"), ({"year": 2025, "quarter": 5}, "quarter"),
                        ({"year": 2025, "quarter": "三"}, "quarter"), ({"year": 2026, "quarter": 1}, "quarter")):
        response = town.client.post("/api/v1/inspections/rounds", headers=town.headers("leader"), json=body)
        assert response.status_code == 422 and field in response.json["errors"], (body, response.json)
    missing = town.client.post("/api/v1/inspections/rounds", headers=town.headers("leader"), json={"year": 2025})
    assert missing.status_code == 422 and "quarter" in missing.json["errors"]
    with town.engine.db.read() as session:
        assert session.query(ProcessInstance).count() == 0
    town.report("2025-09-22", {1: "absent_unexcused"})
    case_task = town.inbox("ht31")[0]
    view = town.client.get(f"/api/v1/inspections/tasks/{case_task['task_id']}", headers=town.headers("ht31"))
    assert view.status_code == 404                        # not an inspection task
