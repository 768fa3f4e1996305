"""/admin/incidents and /admin/check: the administrator retries or resolves a failed step of a
case in the browser; the case's history tells the staff what happened (SQLite and PostgreSQL)."""
from __future__ import annotations

import json

import pytest

from engine.errors import StepFailed
from engine.persistence.models import Incident

from .conftest import HOME_VISIT_BPMN, HOME_VISIT_SCHEMA, HOME_VISIT_UI, csrf_token

# The home visit with a script step after the visit that needs data the form does not ask for.
FAILING_VISIT = HOME_VISIT_BPMN.replace(
    '<bpmn:flowNodeRef>visit</bpmn:flowNodeRef>', '<bpmn:flowNodeRef>visit</bpmn:flowNodeRef>'
    '<bpmn:flowNodeRef>compute</bpmn:flowNodeRef>').replace(
    '<bpmn:sequenceFlow id="f2" sourceRef="visit" targetRef="follow_up"/>',
    '<bpmn:sequenceFlow id="f2" sourceRef="visit" targetRef="compute"/>'
    '<bpmn:sequenceFlow id="f2b" sourceRef="compute" targetRef="follow_up"/>').replace(
    '<bpmn:userTask id="follow_up" name="村书记跟进">\n      <bpmn:incoming>f2</bpmn:incoming>',
    '<bpmn:scriptTask id="compute" name="计算补助"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f2b</bpmn:outgoing>'
    '<bpmn:script>subsidy = total / family_size</bpmn:script></bpmn:scriptTask>'
    '<bpmn:userTask id="follow_up" name="村书记跟进">\n      <bpmn:incoming>f2b</bpmn:incoming>')
VISIT = {"visited_on": "2025-03-04", "reason": "study", "contacted": True, "family_size": 4,
         "summary": "见到母亲", "confirmed": True}
XSS = "<script>alert('x')</script>"


@pytest.fixture
def failed(town):
    """A home-visit case whose step after the visit failed: (engine, instance id, visit task id, incident id)."""
    engine = town.extensions["baoxue.engine"]
    engine.repository.deploy({
        "home_visit.bpmn": FAILING_VISIT.encode(),
        "home_visit.schema.json": json.dumps(HOME_VISIT_SCHEMA, ensure_ascii=False).encode(),
        "home_visit.uischema.json": json.dumps(HOME_VISIT_UI, ensure_ascii=False).encode(),
    })
    started = engine.runtime.start("home_visit", {"child_id": 1})
    visit = started.next_tasks[0]["task_id"]
    with pytest.raises(StepFailed) as err:
        engine.runtime.complete_task(visit, VISIT, actor="ht31")
    return engine, started.instance_id, visit, err.value.incident_id


def post(browser, path, data=None):
    return browser.post(path, data={**(data or {}), "csrf_token": csrf_token(browser, "/admin/incidents")})


def html_of(response) -> str:
    return response.get_data(as_text=True)


def test_only_administrators_see_the_pages_and_the_link(town, browser, client, failed):
    _, _, _, incident = failed
    for path in ("/admin/incidents", f"/admin/incidents/{incident}", "/admin/check"):
        assert client.get(path).status_code == 302
        refused = browser("leader").get(path)
        assert refused.status_code == 403 and "故障处理仅限系统管理员使用" in html_of(refused)
    leader = browser("leader")
    assert leader.post(f"/admin/incidents/{incident}/retry",
                       data={"csrf_token": csrf_token(leader, "/inbox")}).status_code == 403
    assert 'href="/admin/incidents"' in html_of(browser("admin").get("/inbox"))
    assert 'href="/admin/incidents"' not in html_of(leader.get("/inbox"))


def test_the_list_shows_open_incidents_and_filters(browser, failed):
    _, instance_id, _, incident = failed
    admin = browser("admin")
    html = html_of(admin.get("/admin/incidents"))
    assert "共 1 条" in html and f'href="/admin/incidents/{incident}"' in html
    assert "家访劝返" in html and "compute" in html and "total" in html and "待处理" in html
    assert "尚未运行过" in html
    assert "共 0 条" in html_of(admin.get("/admin/incidents?status=resolved"))
    assert "共 1 条" in html_of(admin.get(f"/admin/incidents?status=all&instance={instance_id}"))
    assert "共 0 条" in html_of(admin.get(f"/admin/incidents?instance={instance_id + 1}"))
    odd = html_of(admin.get("/admin/incidents?instance=abc&status=nonsense&page=-3"))
    assert "案件编号须为正整数" in odd and "共 1 条" in odd
    assert admin.get("/admin/incidents/999").status_code == 404
    assert admin.get("/admin/incidents/99999999999").status_code in (400, 404)


def test_messages_are_escaped_and_never_database_text(town, browser, failed):
    engine, _, _, incident = failed
    admin = browser("admin")
    with engine.db.transaction() as session:
        session.get(Incident, incident).message = XSS + " " + "长" * 400
    for path in ("/admin/incidents", f"/admin/incidents/{incident}"):
        html = html_of(admin.get(path))
        assert "<script>alert" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
        assert "长" * 301 not in html and "…" in html
    with engine.db.transaction() as session:
        session.get(Incident, incident).message = "(sqlite3.IntegrityError) [SQL: UPDATE child SET name=?] [parameters: ('张小明',)]"
    html = html_of(admin.get(f"/admin/incidents/{incident}"))
    assert "UPDATE child" not in html and "张小明" not in html and "database error" in html


def test_retry_fails_again_then_succeeds_after_the_data_is_fixed(browser, failed):
    engine, instance_id, visit, incident = failed
    admin = browser("admin")
    again = post(admin, f"/admin/incidents/{incident}/retry")
    assert again.status_code == 409 and "重试仍然失败" in html_of(again) and "total" in html_of(again)
    assert engine.runtime.get(instance_id).status == "error"
    engine.runtime.set_variables(instance_id, {"total": 800}, actor="admin")
    done = post(admin, f"/admin/incidents/{incident}/retry")
    assert done.status_code == 302 and done.headers["Location"] == f"/admin/incidents/{incident}"
    html = html_of(admin.get(f"/admin/incidents/{incident}"))
    assert "已重试成功，案件已恢复办理" in html and "重试成功" in html and 'action="/admin/incidents' not in html
    assert engine.runtime.get(instance_id).status == "active"
    twice = post(admin, f"/admin/incidents/{incident}/retry")
    assert twice.status_code == 302 and "该故障已处理" in html_of(admin.get(f"/admin/incidents/{incident}"))
    history = html_of(browser("ht31").get(f"/tasks/{visit}"))
    assert "流程出错，等待系统管理员处理" in history and "系统管理员重试成功" in history


def test_resolve_needs_a_note_and_the_teacher_sees_it_in_the_history(browser, failed):
    engine, instance_id, visit, incident = failed
    admin = browser("admin")
    detail = html_of(admin.get(f"/admin/incidents/{incident}"))
    assert "任务重新开放，由办理人重新提交" in detail and "提交任务：任务“班主任家访”" in detail
    blank = post(admin, f"/admin/incidents/{incident}/resolve", {"note": "  "})
    assert blank.status_code == 422 and "请填写处理说明" in html_of(blank)
    assert engine.runtime.get(instance_id).status == "error"
    unsigned = admin.post(f"/admin/incidents/{incident}/resolve", data={"note": "x"})
    assert unsigned.status_code == 400 and engine.runtime.get(instance_id).status == "error"
    note = f"已与班主任核实，补助按标准另行发放，请重新提交 {XSS}"
    done = post(admin, f"/admin/incidents/{incident}/resolve", {"note": note})
    assert done.status_code == 302
    html = html_of(admin.get(f"/admin/incidents/{incident}"))
    assert "已处理：失败的操作已放弃" in html and "未重试，人工处理" in html and "&lt;script&gt;" in html
    teacher = html_of(browser("ht31").get(f"/tasks/{visit}"))
    assert "系统管理员已处理故障" in teacher and "<dt>处理说明</dt>" in teacher
    assert "已与班主任核实" in teacher and "<script>alert" not in teacher
    assert 'class="task-form"' in teacher          # the visit is open again for the teacher
    assert "total" not in teacher.split("<h2>办理经过</h2>")[1]   # no technical message in the history


def test_the_check_page_shows_the_last_run(town, browser, failed):
    engine, instance_id, _, _ = failed
    admin = browser("admin")
    assert "尚未运行过一致性检查" in html_of(admin.get("/admin/check"))
    engine.consistency.run()
    html = html_of(admin.get("/admin/check"))
    assert "发现 1 处不一致" in html and "案件出错" in html and f"instance {instance_id} / compute" in html
    assert "发现 1 处不一致" in html_of(admin.get("/admin/incidents"))
