"""The dropout report (issue 10 §6, issue 17) on a real case driven day by day: filled from
attendance and the recorded attempts, sent back by the principal with a reason, kept as
confirmed, received by the town as its own step, a copy for the county bureau; masked ID
numbers; every view logged; people outside the case see nothing (SQLite and PostgreSQL)."""
from __future__ import annotations

import re

from .documents_case import (FULL_ID, MASKED_ID, NOTICE_URL, REPORT_URL, browser, confirmed, page, print_part,
                             school_and_village_fail, served, task_page, views)
from .forms_data import DECIDE, JOINT, LEGAL, REPORT, SEND_BACK
from .harness import U


def test_no_report_before_the_school_files_it(scenario):
    town = scenario
    case_id = school_and_village_fail(town)
    teacher = browser(town, "ht31")
    status, body = page(teacher, REPORT_URL.format(case_id))
    assert status == 409 and "尚未生成" in body and "办结后才能查看" in body
    status, body = page(teacher, NOTICE_URL.format(case_id))
    assert status == 409 and "校长审核报送辍学情况报告单后才能打印草稿" in body
    body = task_page(town, teacher, "ht31", "dropout_report")
    assert "《义务教育阶段学生辍学情况报告单》" in body and "办结后生成" in body and "由考勤记录自动填入" in body
    assert REPORT_URL.format(case_id) not in body
    assert views(town) == []


def test_the_report_is_filled_from_attendance_and_the_recorded_attempts(scenario):
    town = scenario
    case_id = confirmed(town)
    status, body = page(browser(town, "pzx"), REPORT_URL.format(case_id))
    assert status == 200, body
    text = print_part(body)
    assert "编号： 蛟中报〔2025〕3号" in text or "编号：蛟中报〔2025〕3号" in text
    assert "蛟潭中心学校" in text and "张小明" in text and "三年级1班" in text and "蛟潭村" in text
    assert MASKED_ID in text and FULL_ID not in text and "G440" in text and "G" + FULL_ID not in text
    # Not typed: the last day present and the run of unexcused school days come from attendance.
    assert "最后到校日期 2025年9月26日" in text and "5 天" in text
    assert "户籍地 蛟潭镇蛟潭村" in text and "原因分类 厌学" in text and "去向 在家" in text
    assert "填报日期： 2025年10月13日" in text or "填报日期：2025年10月13日" in text
    assert "报送日期： 2025年10月16日" in text or "报送日期：2025年10月16日" in text
    # The measures: each recorded attempt, on the day it happened.
    rows = re.findall(r"<tr><td>(\d)</td><td>([^<]*)</td><td class=\"doc-date\">([^<]*)", body)
    assert [r[1:] for r in rows] == [("电话联系监护人", "2025年9月29日"), ("家访", "2025年10月9日"),
                                     ("村级入户核实", "2025年10月10日")]
    assert "见到：父亲；监护人犹豫观望；孩子不想上学" in text and "李老师（班主任）、王主任（德育处）" in text
    assert "第 1 版（已确认）" in text and "<script" not in body.lower()


def test_the_principal_sends_the_report_back_with_a_reason(scenario):
    town = scenario
    case_id = school_and_village_fail(town)
    town.at("2025-10-13", 9)
    # A lawful cause never reaches the report: it is recorded at the visit or the village check.
    for lawful in ("illness", "disability", "studying_elsewhere", "moved_away", "abroad", "deceased"):
        assert list(town.refused("ht31", "dropout_report", {**REPORT, "report_cause": lawful})) == ["report_cause"]
    town.complete("ht31", "dropout_report", REPORT)
    task = town.task("pzx", "confirm_report")
    # Sending back needs a reason; confirming needs the number and the date. Nothing moves.
    for data, field in (({"report_decision": "return"}, "report_return_reason"),
                        ({"report_decision": "confirm", "report_sent_on": "2025-10-13"}, "report_no")):
        response = town.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=town.headers("pzx"),
                                    json={"data": data})
        assert response.status_code == 422 and response.json["errors"] == {field: "此项为必填项"}, response.json
    # (the principal also holds the support plan and the visit co-sign oversight of this case)
    assert town.names("pzx").count("confirm_report") == 1 and town.names("ht31") == []
    status, body = page(browser(town, "pzx"), REPORT_URL.format(case_id))
    assert status == 200 and "草稿：本次填报尚待校长审核" in body
    town.complete("pzx", "confirm_report", SEND_BACK)
    # Back to the head teacher, with the reason on the task; the same deadline and oversight.
    assert town.names("ht31") == ["dropout_report"] and town.names("town") == []
    teacher = browser(town, "ht31")
    body = task_page(town, teacher, "ht31", "dropout_report")
    assert "校长退回了报告单" in body and SEND_BACK["report_return_reason"] in body
    town.complete("ht31", "dropout_report", {**REPORT, "report_whereabouts": "with_parents_away"})
    town.complete("pzx", "confirm_report", {"report_decision": "confirm", "report_no": "蛟中报〔2025〕4号",
                                            "report_sent_on": "2025-10-13"})
    status, body = page(teacher, REPORT_URL.format(case_id))
    text = print_part(body)
    assert "随父母外出" in text and "蛟中报〔2025〕4号" in text and "第 1 版（已确认）" in text
    assert "退回修改：" + SEND_BACK["report_return_reason"] in body
    assert town.names("town") == ["receive_report"]            # the notice follows the receipt


def test_the_town_signs_for_the_report_and_later_steps_see_the_confirmed_version(scenario):
    town = scenario
    case_id = confirmed(town)
    leader = browser(town, "leader")
    _, before = page(leader, REPORT_URL.format(case_id))
    assert "签收人：TOWN" not in print_part(before).replace(" ", "")
    town.complete("town", "receive_report", {"receipt_confirmed": True, "receipt_on": "2025-10-16"})
    _, body = page(leader, REPORT_URL.format(case_id))
    assert "签收人：TOWN签收日期：2025年10月16日" in print_part(body).replace(" ", "")
    # The case goes on: notice served, deadline passed, legal education, a joint persuasion.
    town.at("2025-10-17", 9)
    town.complete("town", "issue_notice", {"notice_no": "蛟府教〔2025〕7号", "notice_signer": "镇长李某",
                                           "notice_issued_on": "2025-10-17", "notice_served_on": "2025-10-17",
                                           "notice_service_method": "in_person", "notice_recipient": "张建国",
                                           "notice_served_at": "蛟潭镇蛟潭村3组12号"})
    town.report_days("2025-10-13", "2025-10-22", {1: U})
    town.pass_until("2025-10-23", 9)
    # Legal education and the joint persuasion follow the notice's service (10-17).
    town.complete("judicial", "legal_education", {**LEGAL, "legal_on": "2025-10-23"})
    town.complete("leader", "leader_decision", DECIDE)
    town.complete("vsjt", "joint_persuasion", {**JOINT, "joint_on": "2025-10-23"})
    # The report the later steps open is the one the principal confirmed: no row added.
    leader = browser(town, "leader")     # a week later: a new session
    _, after = page(leader, REPORT_URL.format(case_id))
    assert print_part(after).count("联合劝返") == 0 and "第 1 版（已确认）" in after
    rows = re.findall(r"<tr><td>\d</td>", after[after.index('<article class="doc'):])
    assert len(rows) == 3
    _, version = page(leader, REPORT_URL.format(case_id) + "?version=1")
    assert print_part(version) == print_part(after)
    status, _ = page(leader, REPORT_URL.format(case_id) + "?version=2")
    assert status == 404


def test_a_copy_reaches_the_county_bureau_read_only(scenario):
    town = scenario
    case_id = school_and_village_fail(town)
    town.at("2025-10-13", 9)
    town.complete("ht31", "dropout_report", REPORT)
    county = browser(town, "county")
    status, body = page(county, REPORT_URL.format(case_id))
    assert status == 404                                  # not sent yet: not the county's
    status, body = page(county, "/documents")
    assert status == 200 and "暂无已报送" in body
    town.complete("pzx", "confirm_report", CONFIRM_13)
    status, body = page(county, "/documents")
    assert status == 200 and f'href="{REPORT_URL.format(case_id)}"' in body and "张*明" in body
    assert "张小明" not in body
    status, body = page(county, REPORT_URL.format(case_id))
    assert status == 200 and "第 1 版" in body and MASKED_ID in body and FULL_ID not in body
    response = county.get(REPORT_URL.format(case_id) + ".docx")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    assert town.inbox("county") == []                     # read-only: no task is the county's
    status, _ = page(county, NOTICE_URL.format(case_id) + "?copy=guardian")
    assert status == 403
    assert [(u, a, d["format"]) for u, a, d in views(town)] == [
        ("county", "view", "html"), ("county", "export", "docx")]


CONFIRM_13 = {"report_decision": "confirm", "report_no": "蛟中报〔2025〕3号", "report_sent_on": "2025-10-13"}


def test_only_people_of_the_case_see_its_documents(scenario):
    town = scenario
    case_id = served(town)
    for outsider in ("ht11", "pfg", "vsfg"):   # another school's head teacher and principal, another village
        client = browser(town, outsider)
        for url in (REPORT_URL, NOTICE_URL):
            for suffix in ("", ".docx"):
                status, body = page(client, url.format(case_id) + suffix)
                assert status == 404 and "张小明" not in body and "文书不存在" in body
        status, _ = page(client, NOTICE_URL.format(case_id + 1000))
        assert status == 404   # the same answer as a case that does not exist
    for insider in ("inspector", "deputy", "vsjt", "livelihood"):   # inspector / task force / worked on it / town
        status, _ = page(browser(town, insider), REPORT_URL.format(case_id))
        assert status == 200
    assert {u for u, _, _ in views(town)} == {"inspector", "deputy", "vsjt", "livelihood"}
    assert all(a == "view" for _, a, _ in views(town))
    status, _ = page(browser(town, "town"), REPORT_URL.format(case_id) + "?copy=guardian")
    assert status == 404   # the report has no guardian's copy
    for bad in ("?version=0", "?version=x", "?version=99999999999"):
        status, _ = page(browser(town, "town"), REPORT_URL.format(case_id) + bad)
        assert status == 404
