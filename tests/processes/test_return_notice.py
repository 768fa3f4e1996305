"""The 限期返校通知书 (issue 10 §6, §7; issue 17 "papers"): articles cited, facts built from the
recorded steps, the guardian's rights, the office's contact and the signing official, the
court sentence as a county setting, service by leaving it at the home needing a witness and
the refusal, a guardian's copy with no ID number, and both documents as .docx."""
from __future__ import annotations

import re
from io import BytesIO

from docx import Document
from sqlalchemy import select

from engine.persistence.models import HumanTask

from .documents_case import (FULL_ID, MASKED_ID, NOTICE_URL, REPORT_URL, browser, confirmed, page, print_part,
                             served, views)
from .forms_data import NOTICE, RECEIPT


def test_the_notice_cites_articles_and_builds_its_facts_from_the_case(scenario, monkeypatch):
    monkeypatch.setenv("BAOXUE_NOTICE_CONTACT", "镇教育办王老师")
    monkeypatch.setenv("BAOXUE_NOTICE_PHONE", "0750-1234567")
    town = scenario
    case_id = served(town)
    assert town.engine.runtime.variables(case_id, "issue_notice")["return_deadline"] == "2025-10-22"
    status, body = page(browser(town, "town"), NOTICE_URL.format(case_id))
    assert status == 200, body
    text = print_part(body)
    assert "蛟府教〔2025〕7号" in text and "张父：" in text
    # The facts: since when, how many school days at the report, each attempt on its day, the report.
    # The first sentence has its predicate (the review: "你的被监护人…（…）。" ended without one).
    assert re.search(r"你的被监护人[^（]+（[^）]*）系[^，。]+学生，自2025年9月29日起无正当理由未到校上课", text), text[:600]
    for fact in ("已连续缺课5个教学日",
                 "2025年9月29日，李老师（班主任）电话联系监护人（监护人犹豫观望，孩子不想上学",
                 "2025年10月9日，李老师（班主任）、王主任（德育处）到家中家访（监护人犹豫观望",
                 "2025年10月10日，张书记（村书记）、赵某（网格员）入户核实（", "2025年10月16日，学校将《义务教育阶段学生辍学情况报告单》（蛟中报〔2025〕3号）报送本机关"):
        assert fact in text, fact
    for article in ("义务教育法》第五条第二款规定", "第十一条第一款规定", "第五十八条规定", "未成年人保护法》第十六条第五项规定",
                    "家庭教育促进法》第十四条规定"):
        assert article in text, article
    assert "第十四条第一款" not in text          # the cause is weariness, not work
    assert "2025年10月22日" in text and "六十日内向县人民政府申请行政复议" in text and "六个月内依法向人民法院提起行政诉讼" in text
    assert "联系人：镇教育办王老师" in text.replace(" ", "") and "0750-1234567" in text
    assert "签发人：镇长李某" in text.replace(" ", "") and "蛟潭镇人民政府（盖章）" in text
    assert "强制执行" not in text                # a county setting, off by default
    assert "送达回证" in text and "直接送达（本人签收）" in text and "村书记王某" in text and "蛟潭村3组12号" in text
    assert "留存联" in text and MASKED_ID in text and FULL_ID not in text
    monkeypatch.setenv("BAOXUE_NOTICE_COURT_ENFORCEMENT", "1")
    _, body = page(browser(town, "town"), NOTICE_URL.format(case_id))
    assert "并可依法申请人民法院强制执行" in print_part(body)


def test_the_draft_fills_in_what_is_known(scenario):
    town = scenario
    case_id = confirmed(town)
    status, body = page(browser(town, "town"), NOTICE_URL.format(case_id))
    text = print_part(body)
    assert status == 200 and "尚未登记签发" in body
    assert "张建国：" in text and "蛟潭镇蛟潭村3组12号" in text    # addressee and place of service
    assert "蛟府教" not in text and "已连续缺课5个教学日" in text


def test_the_guardians_copy_carries_no_id_number(scenario):
    town = scenario
    case_id = served(town)
    government = browser(town, "town")
    status, body = page(government, NOTICE_URL.format(case_id) + "?copy=guardian")
    assert status == 200 and "送达联（交监护人）" in body and "不含身份证号" in body
    assert FULL_ID not in body and MASKED_ID not in body and "身份证号" not in print_part(body)
    teacher = browser(town, "ht31")
    status, body = page(teacher, NOTICE_URL.format(case_id) + "?copy=guardian")
    assert status == 403 and "送达监护人联" in body
    with town.engine.db.read() as session:
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == case_id,
                                                            HumanTask.element_id == "issue_notice"))
    status, body = page(government, f"/tasks/{task_id}")
    assert f'href="{NOTICE_URL.format(case_id)}?copy=guardian"' in body and f'href="{NOTICE_URL.format(case_id)}.docx"' in body
    # The guardian's copy is a paper issued to the family: logged as a print, not as a view;
    # the office's own file copy stays a view / export.
    assert government.get(NOTICE_URL.format(case_id) + ".docx?copy=guardian").status_code == 200
    status, _ = page(government, NOTICE_URL.format(case_id))
    assert status == 200
    assert [(u, a, d["copy"], d["format"], d.get("issued_to")) for u, a, d in views(town)] == [
        ("town", "print", "guardian", "html", "guardian"), ("town", "print", "guardian", "docx", "guardian"),
        ("town", "view", "file", "html", None)]


def test_leaving_it_at_the_home_needs_a_witness_and_the_refusal(scenario):
    town = scenario
    case_id = confirmed(town)
    town.complete("town", "receive_report", {**RECEIPT, "receipt_on": "2025-10-16"})
    task = town.task("town", "issue_notice")
    data = {**NOTICE, "notice_issued_on": "2025-10-16", "notice_served_on": "2025-10-16",
            "notice_service_method": "left_at_home"}
    response = town.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=town.headers("town"),
                                json={"data": data})
    assert response.status_code == 422
    assert response.json["errors"] == {"notice_witness": "此项为必填项", "notice_refusal_note": "此项为必填项"}
    assert town.names("town") == ["issue_notice"]                      # nothing moved
    # On the page: the same refusal beside the fields, in Chinese.
    client = browser(town, "town")
    form = {k: v for k, v in data.items()}
    got = client.get(f"/tasks/{task['task_id']}")
    token = got.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(f"/tasks/{task['task_id']}", data={**form, "csrf_token": token})
    assert response.status_code == 422 and "此项为必填项" in response.get_data(as_text=True)
    town.complete("town", "issue_notice", {**data, "notice_witness": "村书记王某",
                                           "notice_refusal_note": "监护人张建国拒绝签收，称孩子不愿上学"})
    _, body = page(client, NOTICE_URL.format(case_id))
    assert "留置送达" in body and "监护人张建国拒绝签收" in body and case_id


def test_both_documents_download_as_word_files_that_open(scenario):
    town = scenario
    case_id = served(town)
    government = browser(town, "town")
    response = government.get(REPORT_URL.format(case_id) + ".docx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    report = Document(BytesIO(response.data))
    report_text = "\n".join([p.text for p in report.paragraphs] +
                            [c.text for t in report.tables for r in t.rows for c in r.cells])
    assert "义务教育阶段学生辍学情况报告单" in report_text and "蛟中报〔2025〕3号" in report_text
    assert "2025年9月26日" in report_text and "电话联系监护人" in report_text and "2025年10月10日" in report_text
    assert MASKED_ID in report_text and FULL_ID not in report_text
    assert "抄送县教育局" in report_text                 # the footer the page shows, on paper too
    notice = Document(BytesIO(government.get(NOTICE_URL.format(case_id) + ".docx").data))
    notice_text = "\n".join(p.text for p in notice.paragraphs)
    assert re.search(r"你的被监护人[^（]+（[^）]*）系[^，。]+学生，自2025年9月29日起无正当理由未到校上课", notice_text)
    assert "第五十八条" in notice_text
    assert "六十日内" in notice_text and MASKED_ID in notice_text
    guardian = Document(BytesIO(government.get(NOTICE_URL.format(case_id) + ".docx?copy=guardian").data))
    guardian_text = "\n".join(p.text for p in guardian.paragraphs)
    assert "送达联（交监护人）" in guardian_text and FULL_ID not in guardian_text and MASKED_ID not in guardian_text
    assert [(a, d["document"], d["copy"], d["format"]) for _, a, d in views(town)] == [
        ("export", "dropout-report", "file", "docx"), ("export", "return-notice", "file", "docx"),
        ("print", "return-notice", "guardian", "docx")]
