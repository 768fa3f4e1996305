"""The printed documents of a persuasion case (issue 4), on a real case driven day by day:
《义务教育阶段学生辍学情况报告单》 once the school has filed it, 《限期返校通知书》 once the
town has served it; ID numbers masked except on the copy served to the guardian; every
view logged; people outside the case see nothing (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
import re

from sqlalchemy import select

from engine.persistence.models import HumanTask
from ledger.models import AccessLog
from tests.web.conftest import sign_in

from .forms_data import CALL, CONFIRM, NOTICE, REPORT, VILLAGE, VISIT
from .harness import U

FULL_ID = "44010120160501001X"   # child 1 of the test town (tests/api/town.py)
MASKED_ID = "440101************"
REPORT_URL = "/instances/{}/documents/dropout-report"
NOTICE_URL = "/instances/{}/documents/return-notice"


def school_and_village_fail(town) -> int:
    """Child 1 (三年级1班, 蛟潭村) stays away from Monday 29 September 2025: the call on day 1,
    the home visit on day 3 (9 October, after the National Day holiday), the village check on
    day 4; on day 5 (Saturday 11 October, a make-up working day) the report is due."""
    town.report_days("2025-09-29", "2025-09-29", {1: U})
    town.complete("ht31", "phone_call", CALL)
    town.report_days("2025-09-30", "2025-10-09", {1: U})
    town.complete("ht31", "home_visit", VISIT)
    town.report_days("2025-10-10", "2025-10-10", {1: U})
    town.complete("vsjt", "village_check", VILLAGE)
    town.report_days("2025-10-11", "2025-10-11", {1: U})
    return town.case(1).id


def served(town) -> int:
    """The report filed (13 October), confirmed and sent (16 October); the notice issued and served
    on Friday 17 October."""
    case_id = school_and_village_fail(town)
    town.at("2025-10-13", 9)
    town.complete("ht31", "dropout_report", {**REPORT, "report_suggestion": "请镇政府督促监护人送子女返校"})
    town.at("2025-10-16", 9)
    town.complete("pzx", "confirm_report", CONFIRM)
    town.at("2025-10-17", 9)
    town.complete("town", "issue_notice", {**NOTICE, "notice_witness": "村书记王某"})
    return case_id


def browser(town, username: str):
    client = town.app.test_client()
    response = sign_in(client, username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def page(client, url: str) -> tuple[int, str]:
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


def views(town, child_id: int = 1) -> list[tuple[str, str, dict]]:
    with town.engine.db.read() as session:
        rows = session.scalars(select(AccessLog).where(AccessLog.subject == f"child:{child_id}").order_by(AccessLog.id))
        return [(r.username, r.action, json.loads(r.detail)) for r in rows
                if "document" in json.loads(r.detail or "{}")]


def task_page(town, client, username: str, element_id: str) -> str:
    status, body = page(client, f"/tasks/{town.task(username, element_id)['task_id']}")
    assert status == 200, body
    return body


def test_no_report_before_the_school_files_it(scenario):
    town = scenario
    case_id = school_and_village_fail(town)
    teacher = browser(town, "ht31")
    for url in (REPORT_URL.format(case_id), NOTICE_URL.format(case_id)):
        status, body = page(teacher, url)
        assert status == 409 and "尚未生成" in body and "办结后才能查看" in body
    # The head teacher's open report task says where the report will be.
    body = task_page(town, teacher, "ht31", "dropout_report")
    assert "文书" in body and "《义务教育阶段学生辍学情况报告单》" in body and "办结后生成" in body
    assert REPORT_URL.format(case_id) not in body
    assert views(town) == []


def test_the_dropout_report_shows_the_case_with_the_id_masked(scenario):
    town = scenario
    case_id = school_and_village_fail(town)
    town.at("2025-10-13", 9)
    town.complete("ht31", "dropout_report", {**REPORT, "report_suggestion": "请镇政府督促监护人送子女返校"})
    principal = browser(town, "pzx")
    # Before the principal confirms it: the report exists, its number still a blank line.
    body = task_page(town, principal, "pzx", "confirm_report")
    assert f'href="{REPORT_URL.format(case_id)}"' in body
    status, body = page(principal, REPORT_URL.format(case_id))
    assert status == 200 and "编号：<span class=\"blank" in body
    town.complete("pzx", "confirm_report", CONFIRM)
    # The town prints the notice before serving it: a draft, its own fields blank lines.
    status, draft = page(browser(town, "town"), NOTICE_URL.format(case_id))
    assert status == 200 and "尚未登记签发" in draft and "送达回证" in draft and "蛟府教" not in draft
    status, body = page(principal, REPORT_URL.format(case_id))
    assert status == 200, body
    text = re.sub(r"\s+", " ", body)
    assert "义务教育阶段学生辍学情况报告单" in text and "编号：蛟中报〔2025〕3号" in text
    assert "蛟潭中心学校" in text and "张小明" in text and "三年级1班" in text and "蛟潭村" in text
    assert MASKED_ID in text and FULL_ID not in text
    assert "2025年9月26日" in text and "5 天" in text and "厌学" in text and "在家" in text
    assert "请镇政府督促监护人送子女返校" in text and "报送日期：2025年10月11日" in text
    cell = r"<td[^>]*>([^<]*)</td>"
    rows = re.findall(r"<tr>" + cell * 5 + "</tr>", text)
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("电话联系监护人", "2025年9月29日", "李老师（班主任）"),
        ("家访", "2025年10月9日", "李老师（班主任）、王主任（德育处）"),
        ("村级入户核实", "2025年10月10日", "张书记（村书记）、赵某（网格员）")]
    assert "已联系上监护人（接听：父亲）；厌学" in rows[0][4]
    assert "仍不愿返校；监护人犹豫观望；学生厌学，监护人犹豫" == rows[1][4]
    assert "核实原因：厌学；厌学，沉迷手机；帮扶措施：心理疏导、结对帮扶教师" == rows[2][4]
    for line in ("班主任（签字）", "德育处（签字）", "校长（签字）", "学校（盖章）", "接收单位签收"):
        assert line in text
    assert "<script" not in body.lower()
    report_view = ("pzx", "view", {"instance_id": case_id, "document": "dropout-report", "copy": "file",
                                   "unmasked": False})
    draft_view = ("town", "view", {"instance_id": case_id, "document": "return-notice", "copy": "file",
                                   "unmasked": False})
    assert views(town) == [report_view, draft_view, report_view]


def test_the_return_notice_orders_the_return_within_three_working_days(scenario):
    town = scenario
    case_id = served(town)
    assert town.engine.runtime.variables(case_id, "issue_notice")["return_deadline"] == "2025-10-15"
    assert town.engine.runtime.variables(case_id)["notice_no"] == NOTICE["notice_no"]
    government = browser(town, "town")
    status, body = page(government, NOTICE_URL.format(case_id))
    assert status == 200, body
    text = re.sub(r"\s+", " ", body)
    assert "限期返校通知书" in text and "蛟府教〔2025〕7号" in text and "张父：" in text
    # Served Friday 17 October: three working days later is Wednesday 22 October.
    assert "2025年10月15日" in text and "自2025年9月29日起无正当理由未到校" in text
    assert "第五条第二款" in text and "第五十八条" in text and "未成年人保护法" in text and "家庭教育促进法" in text
    assert "蛟潭镇人民政府（盖章）" in text and "2025年10月11日" in text
    assert "送达回证" in text and "直接送达（本人签收）" in text and "村书记王某" in text
    assert "留存联" in text and MASKED_ID in text and FULL_ID not in text
    # The guardian's copy: the full ID number, for the town government only.
    status, body = page(government, NOTICE_URL.format(case_id) + "?copy=guardian")
    assert status == 200 and FULL_ID in body and "送达联（交监护人）" in body
    teacher = browser(town, "ht31")
    status, body = page(teacher, NOTICE_URL.format(case_id) + "?copy=guardian")
    assert status == 403 and FULL_ID not in body and "送达监护人联" in body
    status, body = page(teacher, NOTICE_URL.format(case_id))
    assert status == 200 and MASKED_ID in body and FULL_ID not in body
    # The town's (completed) notice task links both, and the guardian's copy.
    with town.engine.db.read() as session:
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == case_id,
                                                            HumanTask.element_id == "issue_notice"))
    status, body = page(government, f"/tasks/{task_id}")
    assert status == 200 and f'href="{REPORT_URL.format(case_id)}"' in body
    assert f'href="{NOTICE_URL.format(case_id)}"' in body and f'href="{NOTICE_URL.format(case_id)}?copy=guardian"' in body
    assert views(town) == [
        ("town", "view", {"instance_id": case_id, "document": "return-notice", "copy": "file", "unmasked": False}),
        ("town", "reveal", {"instance_id": case_id, "document": "return-notice", "copy": "guardian", "unmasked": True}),
        ("ht31", "view", {"instance_id": case_id, "document": "return-notice", "copy": "file", "unmasked": False})]


def test_only_people_of_the_case_see_its_documents(scenario):
    town = scenario
    case_id = served(town)
    for outsider in ("ht11", "pfg", "vsfg"):   # another school's head teacher and principal, another village
        client = browser(town, outsider)
        for url in (REPORT_URL, NOTICE_URL):
            status, body = page(client, url.format(case_id))
            assert status == 404 and "张小明" not in body and "文书不存在" in body
        status, _ = page(client, NOTICE_URL.format(case_id + 1000))
        assert status == 404   # the same answer as a case that does not exist
    for insider in ("inspector", "deputy", "vsjt"):   # traces every case / supervises / worked on it
        status, _ = page(browser(town, insider), REPORT_URL.format(case_id))
        assert status == 200
    assert {u for u, _, _ in views(town)} == {"inspector", "deputy", "vsjt"}
    status, _ = page(browser(town, "town"), REPORT_URL.format(case_id) + "?copy=guardian")
    assert status == 404   # the report has no guardian's copy
    # Later steps link both documents; the guardian's copy only for those who may print it.
    town.pass_until("2025-10-23", 9)
    judicial = browser(town, "judicial")
    body = task_page(town, judicial, "judicial", "legal_education")
    assert f'href="{REPORT_URL.format(case_id)}"' in body and f'href="{NOTICE_URL.format(case_id)}"' in body
    assert "copy=guardian" not in body
    status, _ = page(judicial, NOTICE_URL.format(case_id) + "?copy=guardian")
    assert status == 403
