"""Issue 11: a home-teaching case's printable documents, reached from the child page: the
个别化教育计划（一人一案）, kept with its SHA-256 when the federation countersigns, and the
term record of visits against the norm (``ledger.ht_documents``, ``ledger.ht_visit_record``).
The town and the case's steps are test_home_teaching's; pages through the Flask test client."""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from ledger.attendance_cases import EngineCaseSink
from ledger.document_models import DocumentVersion
from ledger.models import AccessLog, Child
from tests.web.conftest import sign_in

from .test_home_teaching import (
    AGREED, APPROVE, COUNTERSIGN, FEDERATION, PLAN, REGISTRY, through_approval, through_assessment, through_plan, visit,
)
from .test_home_teaching_photos import picture, send

FULL_ID = "44010120160501001X"


def page(town, username):
    client = town.app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def html(town, username, path, status=200) -> str:
    response = page(town, username).get(path)
    assert response.status_code == status, (username, path, response.status_code)
    return response.get_data(as_text=True)


def with_guardian_phone(town):
    with town.engine.db.transaction() as session:
        child = session.get(Child, 1)
        child.guardian_name, child.guardian_phone = "张大山", "13812345678"


def test_the_countersigned_plan_is_kept_with_its_hash_and_printed_masked(scenario):
    town = scenario
    with_guardian_phone(town)
    case = through_plan(town)
    [kept] = _versions(town, case.id)
    assert kept.version == 1 and kept.sha256 == hashlib.sha256(kept.data.encode("utf-8")).hexdigest()
    [sealed] = town.audit(case.id, "document_sealed")
    assert sealed.data == {"kind": "ht-plan", "version": 1, "sha256": kept.sha256} and sealed.actor == "dpf"
    assert town.history_verified(case.id)
    text = html(town, "pzx", f"/instances/{case.id}/home-teaching/plan")
    assert "<script" not in text
    for shown in ("残疾儿童少年个别化教育计划", "张小明", "440101************", "肢体残疾", "二级",
                  "440101**************", "138****5678", "送教上门", "县残教委〔2025〕12号", "独立进食、穿衣",
                  "TZX、HT31", "每周周二、周五 15:00–16:30；每月 8 次，每次 2 课时", "每月至少 2 次，每次至少 2 课时",
                  "2025年10月20日 至 2026年7月10日", "第 1 版，已由镇残联会签", kept.sha256):
        assert shown in text, shown
    for hidden in (FULL_ID, "44010120160501001X42", "13812345678"):
        assert hidden not in text, hidden
    approvals = text[text.index("四、意见与审批"):]
    assert approvals.index("监护人意见") < approvals.index("校长审批") < approvals.index("镇残联会签")
    assert "张大山" in approvals and "PZX" in approvals and "DPF" in approvals and "适配轮椅一台" in approvals
    assert "2025-10-20 09:00" in approvals                       # when each was recorded
    with town.engine.db.read() as session:
        [row] = [r for r in session.scalars(select(AccessLog).where(AccessLog.subject == "child:1"))
                 if '"document": "ht-plan"' in r.detail]
    assert row.username == "pzx" and json.loads(row.detail)["version"] == 1


def test_a_plan_not_yet_countersigned_is_a_draft(scenario):
    town = scenario
    case = through_approval(town)
    text = html(town, "ht31", f"/instances/{case.id}/home-teaching/plan")
    assert "草稿：本计划尚待" in text and "校长审批" in text and "镇残联会签" not in text.split("四、意见与审批")[1]
    assert _versions(town, case.id) == []
    town.complete("dpf", "countersign_plan", COUNTERSIGN)
    assert "第 1 版，已由镇残联会签" in html(town, "ht31", f"/instances/{case.id}/home-teaching/plan")
    html(town, "ht31", f"/instances/{case.id}/home-teaching/plan?version=2", status=404)
    html(town, "ht31", f"/instances/{case.id}/home-teaching/plan?version=x", status=404)


def test_the_term_record_lists_the_visits_and_counts_each_month_against_the_norm(scenario):
    town = scenario
    case = through_plan(town)
    town.pass_until("2025-10-21", 8)
    town.at("2025-10-21", 17)
    assert send(town, [("课堂.jpg", picture(), "image/jpeg")]).status_code == 200
    town.at("2025-10-23", 17)
    town.complete("tzx", "unscheduled_visit", {**visit("2025-10-23", periods=1), "visit_content": "认识钟表"})
    town.pass_until("2025-11-01", 8)                            # October closes: 2 visits, one short
    town.at("2025-11-03", 17)
    town.complete("tzx", "unscheduled_visit", visit("2025-11-03"))
    text = html(town, "tzx", f"/instances/{case.id}/home-teaching/visits")
    assert "<script" not in text and "2025—2026学年第一学期" in text and "送教上门记录" in text
    assert "440101************" in text and FULL_ID not in text
    rows = text[text.index("一、送教记录"):text.index("二、按月统计")]
    assert "（3 次）" in rows
    assert rows.index("2025年10月21日") < rows.index("2025年10月23日") < rows.index("2025年11月3日")
    for shown in ("15:00–16:30", "识字 20 个，两位数加法", "注意力集中约 20 分钟", "张大山（在场，已签名确认）",
                  "TZX", "（照片 1 张）", "（计划外）", "认识钟表"):
        assert shown in rows, shown
    months = text[text.index("二、按月统计"):]
    assert "<td>2025-10</td><td>2</td><td>3</td><td>1</td>" in months and "未达标" in months   # a visit below 2 periods
    assert "<td>2025-11</td><td>1</td><td>2</td><td>0</td>" in months and "本月进行中" in months
    assert "合计（1 个已统计月）" in months and "2（应 ≥ 2）" in months and "3（应 ≥ 4）" in months
    assert "达标 0 / 1 个月" in months
    html(town, "tzx", f"/instances/{case.id}/home-teaching/visits?term=2025-2027-1", status=404)
    assert "本学期没有登记的送教" in html(town, "tzx", f"/instances/{case.id}/home-teaching/visits?term=2024-2025-2")


def test_only_those_who_may_see_the_case_reach_its_documents_from_the_child_page(scenario):
    town = scenario
    case = through_plan(town)
    for user in ("pzx", "ht31", "inspector"):
        assert f'href="/instances/{case.id}/home-teaching/plan"' in html(town, user, "/children/1"), user
    # The federation and the teacher: no register, the case; the child's village secretary traces
    # the cases of the village's children (issue 13 "Access", ledger.access.case_scope).
    for user in ("pzx", "ht31", "inspector", "dpf", "tzx", "vsjt"):
        html(town, user, f"/instances/{case.id}/home-teaching/plan")
        html(town, user, f"/instances/{case.id}/home-teaching/visits")
    child_page = html(town, "vsjt", "/children/1")
    assert "送教上门（一人一策）" in child_page and "/home-teaching/plan" in child_page
    for user in ("vsfg", "ht11", "pfg", "ht32"):                 # another village, another school, another class
        html(town, user, f"/instances/{case.id}/home-teaching/plan", status=404)
        html(town, user, f"/instances/{case.id}/home-teaching/visits", status=404)
    html(town, "pzx", f"/instances/{case.id + 99}/home-teaching/plan", status=404)
    persuasion = EngineCaseSink(town.engine, actor="pzx").tendency(2, reason="厌学").detail["instance_id"]
    html(town, "inspector", f"/instances/{persuasion}/home-teaching/plan", status=404)   # not a home-teaching case


def _versions(town, instance_id):
    with town.engine.db.read() as session:
        rows = list(session.scalars(select(DocumentVersion).where(
            DocumentVersion.instance_id == instance_id, DocumentVersion.kind == "ht-plan")))
        session.expunge_all()
        return rows


def test_no_plan_is_a_409_and_the_certificate_number_is_masked_on_case_and_task_pages(scenario):
    """The disability certificate number holds the child's ID number (form keyword
    ``"x-mask": "id"``): once recorded, the case history and the REST task detail show it
    as the ID is shown, never in full (fresh-user review H3), nor does the REST task detail's
    ``data`` (the case's variables as the task sees them)."""
    town = scenario
    case = through_assessment(town)
    html(town, "pzx", f"/instances/{case.id}/home-teaching/plan", status=409)     # no plan drawn yet
    full = FEDERATION["certificate_no"]
    text = html(town, "inspector", f"/instances/{case.id}")
    assert "440101" + "*" * (len(full) - 6) in text and full not in text
    task = town.inbox("ht31")[0]                                 # the next step, its page shows the history
    shown = html(town, "ht31", f"/tasks/{task['task_id']}")
    assert "残疾人证号" in shown and full not in shown
    detail = town.client.get(f"/api/v1/tasks/{task['task_id']}", headers=town.headers("ht31")).json
    assert detail["data"]["certificate_no"].startswith("440101***") and full not in str(detail)
    events = town.client.get(f"/api/v1/process-instances/{case.id}/events", headers=town.headers("inspector")).json
    assert events["chain_ok"] and full not in str(events["events"])
    assert "440101" + "*" * (len(full) - 6) in str(events["events"])


def test_the_child_page_counts_the_visits_that_took_place_and_the_missed_ones_apart(scenario):
    town = scenario
    through_plan(town)
    town.pass_until("2025-10-21", 8)
    town.at("2025-10-21", 17)
    town.complete("tzx", "visit", visit("2025-10-21"))
    town.pass_until("2025-10-24", 8)
    town.at("2025-10-24", 17)
    town.complete("tzx", "visit", {"visit_held": False, "visit_missed_reason": "学生发烧，改下周二补送"})
    text = html(town, "ht31", "/children/1")
    assert "本月已送教 1 次（另有 1 次未能送教）" in text
    town.pass_until("2025-11-01", 8)
    town.at("2025-11-03", 17)
    town.complete("tzx", "unscheduled_visit", visit("2025-10-31"))   # October's visit, recorded in November
    assert "本月已送教 0 次" in html(town, "ht31", "/children/1")


def test_the_approvers_open_the_plan_from_their_task_pages(scenario):
    """The principal approving and the federation countersigning read the plan they sign:
    their task pages (and the case page) link the printable plan; while it is being drawn
    it is announced, not linked; the term record appears once a visit is recorded."""
    town = scenario
    case = through_assessment(town)
    town.at("2025-10-17", 10)
    town.complete("regzx", "registry_archive", REGISTRY)
    link = f'href="/instances/{case.id}/home-teaching/plan"'
    drawing = html(town, "ht31", f"/tasks/{town.task('ht31', 'draw_plan')['task_id']}")
    assert "《个别化教育计划（一人一案）》" in drawing and link not in drawing
    town.at("2025-10-20", 9)
    town.complete("ht31", "draw_plan", PLAN)
    town.complete("ht31", "guardian_agreement", AGREED)
    approving = html(town, "pzx", f"/tasks/{town.task('pzx', 'approve_plan')['task_id']}")
    assert link in approving and "Word 文件" not in approving[approving.index("文书"):approving.index(link) + 200]
    town.complete("pzx", "approve_plan", APPROVE)
    assert link in html(town, "dpf", f"/tasks/{town.task('dpf', 'countersign_plan')['task_id']}")
    assert link in html(town, "pzx", f"/instances/{case.id}") and "home-teaching/visits" not in html(
        town, "pzx", f"/instances/{case.id}")
    assert "草稿" in html(town, "dpf", f"/instances/{case.id}/home-teaching/plan")
    town.complete("dpf", "countersign_plan", COUNTERSIGN)
    town.pass_until("2025-10-21", 8)
    town.at("2025-10-21", 17)
    town.complete("tzx", "visit", visit("2025-10-21"))
    assert f'href="/instances/{case.id}/home-teaching/visits"' in html(town, "pzx", f"/instances/{case.id}")
