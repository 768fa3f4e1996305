"""The trace of a case on its page (issue 13): the full timeline, "核验记录" with the position
of a tampered row, the printable A4 trace, the JSON export and the diagram's data, each for
who may trace the case only, the views logged (SQLite and PostgreSQL)."""
from __future__ import annotations

import json

from sqlalchemy import select, update

from engine.persistence.models import AuditEvent
from ledger.models import AccessLog

from .conftest import HOME_VISIT_SCHEMA  # noqa: F401 - the fixture's form
from .pages_helpers import engine_of, html_of

VISIT = {"visited_on": "2025-03-04", "reason": "illness", "contacted": True, "family_size": 4,
         "summary": "家长同意下周送孩子返校", "confirmed": True}


def visited_case(town, home_visit) -> int:
    engine = engine_of(town)
    task_id = home_visit(1)
    engine.runtime.complete_task(task_id, VISIT, actor="ht31")
    return engine.tasks.get(task_id).instance_id


def logged(town, username: str, view: str) -> bool:
    with engine_of(town).db.read() as session:
        details = session.scalars(select(AccessLog.detail).where(AccessLog.username == username)).all()
    return any(json.loads(d).get("view") == view for d in details)


def test_the_full_timeline_and_the_trace_actions(town, home_visit, browser):
    instance_id = visited_case(town, home_visit)
    inspector = browser("inspector")
    page = html_of(inspector.get(f"/instances/{instance_id}"))
    assert "办理经过" in page and "核验记录" in page and "打印追溯单" in page and "生成待办" not in page
    assert "返回案件查询" in page and "核验未通过" not in page
    full = html_of(inspector.get(f"/instances/{instance_id}?timeline=full"))
    assert "完整时间线" in full and "生成待办" in full and "班主任家访" in full
    assert "交班主任 三年级1班办理" in full      # the post it went to, not beside the person who caused it


def test_verification_passes_then_names_the_edited_row(town, home_visit, browser):
    instance_id = visited_case(town, home_visit)
    inspector = browser("inspector")
    assert "核验通过" in html_of(inspector.get(f"/instances/{instance_id}/verify"))
    with engine_of(town).db.transaction() as session:
        seq = session.scalar(select(AuditEvent.seq).where(AuditEvent.instance_id == instance_id,
                                                          AuditEvent.kind == "task_completed"))
        session.execute(update(AuditEvent).where(AuditEvent.instance_id == instance_id, AuditEvent.seq == seq)
                        .values(data=json.dumps({"submitted": {"summary": "改过的"}})))
    page = html_of(inspector.get(f"/instances/{instance_id}/verify"))
    assert "核验未通过" in page and f"第 {seq} 条记录：写入后被修改" in page
    assert "本案审计记录核验未通过" in html_of(inspector.get(f"/instances/{instance_id}"))   # the case page warns


def test_print_export_and_diagram_data_are_logged(town, home_visit, browser):
    instance_id = visited_case(town, home_visit)
    leader = browser("leader")
    page = leader.get(f"/instances/{instance_id}/print")
    assert page.status_code == 200 and "案件追溯单" in html_of(page) and "通过" in html_of(page)
    assert "办理路径" in html_of(page) and "班主任家访" in html_of(page)
    assert logged(town, "leader", "trace_print")
    exported = leader.get(f"/instances/{instance_id}/trace.json")
    assert exported.status_code == 200 and exported.json["process_key"] == "home_visit"
    assert logged(town, "leader", "trace_export")
    state = leader.get(f"/instances/{instance_id}/diagram-state").json
    assert state["processes"]["home_visit"]["elements"]["visit"]["runs"] == 1
    assert set(state["processes"]["home_visit"]["flows"]) == {"f1", "f2"}
    assert b'id="visit"' in leader.get(f"/instances/{instance_id}/bpmn").data
    runs = leader.get(f"/instances/{instance_id}/element-runs?process=home_visit&element=visit").json
    assert runs["runs"][0]["actor_name"] == "HT31" and runs["runs"][0]["fields"]
    assert logged(town, "leader", "element_runs")
    missing = leader.get(f"/instances/{instance_id}/element-runs?process=home_visit")
    assert missing.status_code == 422 and "element" in missing.json["errors"]


def test_who_may_not_trace_the_case_gets_404_everywhere(town, home_visit, browser):
    instance_id = visited_case(town, home_visit)
    stranger = browser("ht11")           # another school's head teacher
    for path in ("", "/verify", "/print", "/trace.json", "/diagram-state", "/bpmn",
                 "/element-runs?process=home_visit&element=visit"):
        assert stranger.get(f"/instances/{instance_id}{path}").status_code == 404, path
    assert not logged(town, "ht11", "trace_print")


def test_the_administrator_reads_who_traced_the_case(town, home_visit, browser):
    instance_id = visited_case(town, home_visit)
    browser("inspector").get(f"/instances/{instance_id}/print")
    admin = browser("admin")
    page = html_of(admin.get("/admin/access-log?username=inspector"))
    assert "日志完整" in page and "案件追溯单" in page and "打印" in page and f"案件 #{instance_id}" in page
    assert "INSPECTOR（inspector）" in page
    by_case = html_of(admin.get(f"/admin/access-log?case={instance_id}"))
    assert "案件追溯单" in by_case and "儿童 #1" in by_case
    assert "没有符合条件的记录" in html_of(admin.get(f"/admin/access-log?case={instance_id + 1000}"))
    assert admin.get("/admin/access-log?from=0001-01-01").status_code == 422
    bad = admin.get("/admin/access-log?from=2026-13-01&action=delete")
    assert bad.status_code == 422 and "日期格式" in html_of(bad) and "未知的操作类型" in html_of(bad)
    assert browser("inspector").get("/admin/access-log").status_code == 403
    # Nobody edits the log through a page: the URL takes no other method.
    assert admin.post("/admin/access-log").status_code in (400, 405)
