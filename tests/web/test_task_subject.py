"""What a task shows of its child (issue 17; docs/privacy.md "What a task shows of its child"):
its candidates see the full name, gender and, while it is open, the contact fields the task
declares (``subjectFields``); supervisors and inspectors see masked values; every view is
logged with what it showed. Inbox and task page link to the child page (when the person may
open it) and to the case page (SQLite and PostgreSQL)."""
from __future__ import annotations

import json

from ledger.models import Child

from .conftest import HOME_VISIT_BPMN, HOME_VISIT_SCHEMA, HOME_VISIT_UI
from .pages_helpers import access_log

NEEDS = '<spiffworkflow:property name="subjectFields" value="guardian, phone ,address, shoe_size"/>'


def _start(town) -> str:
    engine = town.extensions["baoxue.engine"]
    with engine.db.transaction() as session:
        child = session.get(Child, 1)
        child.guardian_name, child.guardian_relation = "张建国", "父亲"
        child.guardian_phone, child.address = "13812345678", "蛟潭村三组12号"
    bpmn = HOME_VISIT_BPMN.replace('<spiffworkflow:property name="dueIn"', NEEDS + '<spiffworkflow:property name="dueIn"', 1)
    engine.repository.deploy({"home_visit.bpmn": bpmn.encode(),
                              "home_visit.schema.json": json.dumps(HOME_VISIT_SCHEMA).encode(),
                              "home_visit.uischema.json": json.dumps(HOME_VISIT_UI).encode()})
    return engine.runtime.start("home_visit", {"child_id": 1}).next_tasks[0]["task_id"]


def test_the_candidate_sees_what_the_task_needs_and_others_see_masked_values(town, browser, as_user):
    task_id = _start(town)
    api = town.test_client()
    mine = api.get(f"/api/v1/tasks/{task_id}", headers=as_user("ht31")).json["subject"]
    assert (mine["name"], mine["gender"], mine["guardian"], mine["phone"], mine["address"]) == (
        "张小明", "男", "张建国（父亲）", "13812345678", "蛟潭村三组12号")
    assert mine["shown"] == ["address", "gender", "guardian", "name", "phone"]      # shoe_size is no field
    page = browser("ht31").get(f"/tasks/{task_id}").get_data(as_text=True)
    assert '<a href="/children/1">张小明</a>，男' in page and '<a href="tel:13812345678">' in page
    assert "蛟潭村三组12号" in page and f'href="/instances/' in page

    for supervisor in ("pzx", "inspector"):
        theirs = api.get(f"/api/v1/tasks/{task_id}", headers=as_user(supervisor)).json["subject"]
        assert theirs["name"] == "张*明" and theirs["shown"] == []
        assert not {"gender", "guardian", "phone", "address"} & set(theirs)
        html = browser(supervisor).get(f"/tasks/{task_id}").get_data(as_text=True)
        assert "张小明" not in html and "13812345678" not in html and "蛟潭村三组12号" not in html
    log = access_log(town, "child:1")
    assert [(who, action, detail.get("fields")) for who, action, detail in log] == [
        ("ht31", "reveal", ["address", "gender", "guardian", "name", "phone"]),
        ("ht31", "reveal", ["address", "gender", "guardian", "name", "phone"]),
        ("pzx", "view", None), ("pzx", "view", None), ("inspector", "view", None), ("inspector", "view", None)]


def test_a_done_task_no_longer_shows_the_contact_fields(town, as_user):
    task_id = _start(town)
    engine = town.extensions["baoxue.engine"]
    engine.runtime.complete_task(task_id, {"visited_on": "2025-03-04", "reason": "study", "contacted": True,
                                           "family_size": 4, "summary": "见到父亲", "confirmed": True}, actor="ht31")
    done = town.test_client().get(f"/api/v1/tasks/{task_id}", headers=as_user("ht31")).json["subject"]
    assert done["name"] == "张小明" and done["shown"] == ["gender", "name"] and "phone" not in done


def test_the_inbox_names_the_child_links_the_child_and_the_case_and_logs_it(town, browser, as_user):
    task_id = _start(town)
    instance_id = town.extensions["baoxue.engine"].tasks.get(task_id).instance_id
    html = browser("ht31").get("/inbox").get_data(as_text=True)
    assert '<a href="/children/1">张小明</a>（男）' in html and f'href="/instances/{instance_id}"' in html
    assert "13812345678" not in html                          # contact fields only on the task page
    items = town.test_client().get("/api/v1/inbox", headers=as_user("ht31")).json["items"]
    assert items[0]["subject"]["name"] == "张小明" and "phone" not in items[0]["subject"]
    assert access_log(town, "child:1") == [("ht31", "view", {"view": "inbox", "fields": ["gender", "name"]})] * 2


def test_the_case_page_is_for_those_who_may_trace_the_case(town, browser):
    task_id = _start(town)
    instance_id = town.extensions["baoxue.engine"].tasks.get(task_id).instance_id
    for user in ("ht31", "pzx", "inspector"):
        page = browser(user).get(f"/instances/{instance_id}")
        assert page.status_code == 200, user
        html = page.get_data(as_text=True)
        assert "张*明" in html and "张小明" not in html and "班主任家访" in html and "办理经过" in html
    for user in ("ht32", "vsfg", "admin"):
        assert browser(user).get(f"/instances/{instance_id}").status_code == 404, user
    assert browser("ht31").get("/instances/99999").status_code == 404
    views = [(who, d["view"]) for who, _, d in access_log(town, "child:1") if d.get("view") == "case"]
    assert views == [("ht31", "case"), ("pzx", "case"), ("inspector", "case")]


def test_the_case_page_says_why_a_case_cannot_take_its_message(town, browser):
    """A case started without its correlation value waits 'uncorrelatable' (issue 9 item 1):
    its history says so in Chinese, naming what is missing."""
    from api.settings import ROOT
    engine = town.extensions["baoxue.engine"]
    engine.repository.deploy_paths([ROOT / "tests" / "engine" / "bpmn" / "corr_missing_key.bpmn"], actor="admin")
    case = engine.runtime.start("await_return", {}).instance_id
    html = browser("inspector").get(f"/instances/{case}").get_data(as_text=True)
    assert "无法接收消息，等待系统管理员补全案件数据：学生已返校（缺少child_id）" in html
    assert "message_uncorrelatable" not in html
    # What it waits for does not promise the message it can never take.
    assert "无法接收“学生已返校”：案件缺少child_id，需系统管理员补全" in html
    assert "“学生已返校”（由考勤自动送达）" not in html


def test_the_task_force_traces_a_case_that_has_no_task_yet(town, browser, as_user):
    """A case waiting for a message has no task: the deputy who started it could not see it."""
    from api.settings import ROOT
    engine = town.extensions["baoxue.engine"]
    engine.repository.deploy_paths([ROOT / "tests" / "engine" / "bpmn" / "corr_missing_key.bpmn"], actor="admin")
    case = engine.runtime.start("await_return", {"child_id": 1}).instance_id
    for user in ("deputy", "leader", "inspector"):
        assert browser(user).get(f"/instances/{case}").status_code == 200, user
        assert town.test_client().get(f"/api/v1/process-instances/{case}", headers=as_user(user)).status_code == 200
    assert browser("ht31").get(f"/instances/{case}").status_code == 404
