"""Later steps see earlier answers: the case history carries each completed step's submitted
data as labelled answers (option titles, 是/否), with the actor's display name, on the task
page (escaped) and in ``GET /api/v1/tasks/<id>``."""
from __future__ import annotations

import json
import re

import pytest

from api.settings import ROOT
from api.taskview import case_history, labelled_answers
from api.web.forms import build_fields
from engine.tasks import TaskQuery

from .conftest import HOME_VISIT_BPMN, HOME_VISIT_SCHEMA, HOME_VISIT_UI, csrf_token

XSS = "<script>alert('x')</script><img src=x onerror=alert(1)>"
ASSESS_FORM = {"guardian_contacted": "true", "risk_factors": ["weariness", "family_finances"],
               "risk_level": "high", "notes": "近两周缺课 6 天，父母在外务工"}
HOME_CHECK = {"visited_on": "2025-03-04", "participants": "村干部、网格员", "cause": "poverty",
              "suggested_measures": ["civil_affairs_aid", "buddy_teacher"]}
HISTORY_KEYS = {"kind", "at", "actor", "element_id", "title", "role_name", "org_unit_name"}


@pytest.fixture
def dropout(town):
    """The real dropout-risk process; returns a function starting a case for child 1 (蛟潭村)."""
    engine = town.extensions["baoxue.engine"]
    engine.repository.deploy_paths([ROOT / "processes"], actor="admin")

    def start() -> str:
        return engine.runtime.start("dropout_risk_check", {"child_id": 1}).next_tasks[0]["task_id"]
    return start


def submit(browser, task_id, data):
    response = browser.post(f"/tasks/{task_id}", data={**data, "csrf_token": csrf_token(browser, "/inbox")})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def open_task(engine, element_id):
    """The id of the one open task at ``element_id``."""
    rows = [r for r in engine.tasks.list(TaskQuery(status="open"))[0] if r.element_id == element_id]
    assert len(rows) == 1, rows
    return rows[0].id


def history_section(html: str) -> str:
    return html[html.index("<h2>办理经过</h2>"):]


def test_the_village_secretary_sees_the_teachers_answers_in_chinese(town, browser, dropout):
    engine = town.extensions["baoxue.engine"]
    assess = dropout()
    submit(browser("ht31"), assess, ASSESS_FORM)
    visit = open_task(engine, "home_check")
    html = browser("vsjt").get(f"/tasks/{visit}").get_data(as_text=True)
    history = history_section(html)
    assert "办结：核查辍学风险" in history and "班主任 三年级1班 · HT31（ht31）" in history
    assert "<dt>风险因素</dt><dd>厌学、家庭经济困难</dd>" in history
    assert "<dt>风险等级</dt><dd>高</dd>" in history and "<dt>是否已联系监护人</dt><dd>是</dd>" in history
    assert "<dt>情况说明</dt><dd>近两周缺课 6 天，父母在外务工</dd>" in history
    # a missing optional field is left out; raw values never show
    assert "联系日期" not in history and "family_finances" not in history and "weariness" not in history
    assert "已提交的内容" not in html  # the secretary's own task is still open


def test_the_principal_sees_what_the_village_found(town, browser, dropout):
    engine = town.extensions["baoxue.engine"]
    submit(browser("ht31"), dropout(), ASSESS_FORM)
    visit = open_task(engine, "home_check")
    vsjt = browser("vsjt")
    submit(vsjt, visit, {**HOME_CHECK, "notes": "母亲同意下周一送回学校"})
    confirm = open_task(engine, "confirm_support")
    history = history_section(browser("pzx").get(f"/tasks/{confirm}").get_data(as_text=True))
    assert "村（场、社区）书记 蛟潭村 · VSJT（vsjt）" in history
    assert "<dt>核实的主要原因</dt><dd>家庭贫困</dd>" in history
    assert "<dt>建议帮扶措施</dt><dd>民政救助、结对帮扶教师</dd>" in history
    assert "<dt>参加人员</dt><dd>村干部、网格员</dd>" in history and "<dt>入户日期</dt><dd>2025-03-04</dd>" in history
    assert "<dt>备注</dt><dd>母亲同意下周一送回学校</dd>" in history
    assert "厌学、家庭经济困难" in history  # and the teacher's, earlier in the case
    assert history.index("核查辍学风险") < history.index("入户核实家庭情况")


def test_a_completed_task_shows_what_was_submitted(town, browser, dropout):
    assess = dropout()
    ht31 = browser("ht31")
    submit(ht31, assess, ASSESS_FORM)
    html = ht31.get(f"/tasks/{assess}").get_data(as_text=True)
    assert "已办结（HT31" in html and 'class="task-form"' not in html
    submitted = html[html.index("<h2>已提交的内容</h2>"):html.index("<h2>办理经过</h2>")]
    assert "<dt>风险因素</dt><dd>厌学、家庭经济困难</dd>" in submitted and "<dt>风险等级</dt><dd>高</dd>" in submitted
    assert "<dt>情况说明</dt>" in submitted and "联系日期" not in submitted


def test_an_open_task_has_no_submitted_section(browser, dropout):
    html = browser("ht31").get(f"/tasks/{dropout()}").get_data(as_text=True)
    assert "已提交的内容" not in html and "流程启动" in html


def test_submitted_text_is_escaped_everywhere(town, browser, dropout):
    engine = town.extensions["baoxue.engine"]
    assess = dropout()
    ht31 = browser("ht31")
    submit(ht31, assess, {**ASSESS_FORM, "notes": XSS})
    visit = open_task(engine, "home_check")
    for page in (browser("vsjt").get(f"/tasks/{visit}"), ht31.get(f"/tasks/{assess}")):
        html = page.get_data(as_text=True)
        assert "<script>alert('x')" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html


def test_rest_history_gains_answers_and_actor_name(town, client, as_user, browser, dropout):
    engine = town.extensions["baoxue.engine"]
    submit(browser("ht31"), dropout(), ASSESS_FORM)
    visit = open_task(engine, "home_check")
    response = client.get(f"/api/v1/tasks/{visit}", headers=as_user("vsjt"))
    assert response.status_code == 200
    history = response.json["history"]
    assert all(HISTORY_KEYS <= set(h) and "answers" in h and "actor_name" in h for h in history)
    started = [h for h in history if h["kind"] == "instance_started"]
    assert started and started[0]["answers"] == []
    done = [h for h in history if h["kind"] == "task_completed"]
    assert len(done) == 1
    entry = done[0]
    assert entry["actor"] == "ht31" and entry["actor_name"] == "HT31" and entry["element_id"] == "assess_risk"
    assert entry["title"] == "核查辍学风险" and entry["role_name"] == "班主任" and entry["org_unit_name"] == "三年级1班"
    assert entry["answers"] == [
        {"label": "是否已联系监护人", "value": "是"}, {"label": "风险因素", "value": "厌学、家庭经济困难"},
        {"label": "风险等级", "value": "高"}, {"label": "情况说明", "value": "近两周缺课 6 天，父母在外务工"}]
    assert response.json["answers"] == []  # the secretary's own task: nothing submitted yet


def test_rest_answers_of_a_completed_task_and_no_widening(town, client, as_user, browser, dropout):
    assess = dropout()
    submit(browser("ht31"), assess, ASSESS_FORM)
    mine = client.get(f"/api/v1/tasks/{assess}", headers=as_user("ht31")).json
    assert {"label": "风险因素", "value": "厌学、家庭经济困难"} in mine["answers"]
    # people outside the case still get nothing, answers included
    for outsider in ("ht32", "vsfg"):
        response = client.get(f"/api/v1/tasks/{assess}", headers=as_user(outsider))
        assert response.status_code == 404 and "厌学" not in response.get_data(as_text=True)
        assert browser(outsider).get(f"/tasks/{assess}").status_code == 404


def test_each_form_is_loaded_once_per_history(town, browser, home_visit, monkeypatch):
    """Two steps with the same form: one schema read for the whole history."""
    engine = town.extensions["baoxue.engine"]
    bpmn = HOME_VISIT_BPMN.replace(
        '<bpmn:userTask id="follow_up" name="村书记跟进">',
        '<bpmn:userTask id="follow_up" name="村书记跟进"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formJsonSchemaFilename" value="home_visit.schema.json"/>'
        '</spiffworkflow:properties></bpmn:extensionElements>')
    engine.repository.deploy({
        "home_visit.bpmn": bpmn.encode(),
        "home_visit.schema.json": json.dumps(HOME_VISIT_SCHEMA, ensure_ascii=False).encode(),
        "home_visit.uischema.json": json.dumps(HOME_VISIT_UI, ensure_ascii=False).encode(),
    })
    first = engine.runtime.start("home_visit", {"child_id": 1})
    data = {"visited_on": "2025-03-04", "reason": "study", "contacted": True, "family_size": 4,
            "summary": "见到母亲", "confirmed": True}
    engine.runtime.complete_task(first.next_tasks[0]["task_id"], data, actor="ht31")
    follow = open_task(engine, "follow_up")
    engine.runtime.complete_task(follow, {**data, "reason": "work", "attitude": "oppose"}, actor="vsjt")
    reads = []
    real_forms = engine.repository.forms

    def counting(definition_id, session=None):
        source = real_forms(definition_id, session)
        original = source.schema
        source.schema = lambda name: reads.append(name) or original(name)
        return source
    monkeypatch.setattr(engine.repository, "forms", counting)
    history = case_history(engine, first.instance_id)
    assert reads.count("home_visit.schema.json") == 1
    done = [h for h in history if h["kind"] == "task_completed"]
    assert [h["actor_name"] for h in done] == ["HT31", "VSJT"]
    assert {"label": "辍学原因", "value": "厌学"} in done[0]["answers"]
    assert {"label": "辍学原因", "value": "外出务工"} in done[1]["answers"]
    assert {"label": "家长态度", "value": "oppose"} in done[1]["answers"]  # plain enum: no titles to show


def test_labelled_answers_follow_the_form_and_skip_unknown_keys():
    fields = build_fields(HOME_VISIT_SCHEMA, HOME_VISIT_UI)
    answers = labelled_answers(fields, {
        "summary": "第一行\n第二行", "visited_on": "2025-03-04", "reason": "family", "contacted": False,
        "family_size": 5, "distance_km": 2.5, "supports": ["lunch", "transport"], "confirmed": True,
        "contact_name": "", "secret_internal": "raw", "attitude": None})
    assert answers == [
        {"label": "家访日期", "value": "2025-03-04"}, {"label": "辍学原因", "value": "家庭困难"},
        {"label": "已联系家长", "value": "否"}, {"label": "家庭人口", "value": "5"},
        {"label": "离校距离（公里）", "value": "2.5"}, {"label": "已落实的帮扶", "value": "营养午餐、交通帮扶"},
        {"label": "家访情况", "value": "第一行\n第二行"}, {"label": "以上情况属实", "value": "是"}]
    assert labelled_answers(fields, None) == [] and labelled_answers([], {"a": 1}) == []
    assert not re.search("secret_internal|raw", json.dumps(answers, ensure_ascii=False))
