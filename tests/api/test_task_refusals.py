"""Task actions refused with the reason a person can act on (SQLite and PostgreSQL): a form
field the form does not have is named as that field, and a task whose case is in error
(an open incident) cannot be claimed, on the REST API and on the pages."""
from __future__ import annotations

import json

from engine.errors import StepFailed
from engine.persistence.models import HumanTask

from ..diagrams import linear_process, user_task
from ..web.conftest import browser, csrf_token  # noqa: F401 - the pages' signed-in client

DIVIDE = {"type": "object", "properties": {"divisor": {"type": "number"}, "note": {"type": "string"}},
          "additionalProperties": False}


def _deploy(town):
    engine = town.extensions["baoxue.engine"]
    xml = linear_process("divide", user_task("enter", form="divide.schema.json", postscript="share = 10 / divisor"),
                         user_task("after"), lanes={"head_teacher": ["start", "enter", "after", "end"]})
    engine.repository.deploy({"divide.bpmn": xml.encode(), "divide.schema.json": json.dumps(DIVIDE).encode()})
    return engine


def _open_task(engine) -> str:
    return engine.runtime.start("divide", {"child_id": 1}).next_tasks[0]["task_id"]


def test_an_unknown_field_is_named_not_the_whole_form(client, as_user, town):
    engine = _deploy(town)
    task_id = _open_task(engine)
    response = client.post(f"/api/v1/tasks/{task_id}/complete", headers=as_user("ht31"),
                           json={"data": {"divisor": 2, "village": "v-fg", "extra": 1}})
    assert response.status_code == 422, response.json
    assert set(response.json["errors"]) == {"village", "extra"}, response.json   # never the key "data"
    assert response.json["errors"]["village"] == "包含表单中没有的字段"
    with engine.db.read() as session:
        assert session.get(HumanTask, task_id).status == "open"


def _task_in_error(engine) -> str:
    task_id = _open_task(engine)
    try:
        engine.runtime.complete_task(task_id, {"divisor": 0}, actor="ht31")
    except StepFailed:
        pass
    else:
        raise AssertionError("the step did not fail")
    return task_id


def test_a_task_of_a_case_in_error_cannot_be_claimed(client, as_user, town):
    engine = _deploy(town)
    task_id = _task_in_error(engine)
    with engine.db.read() as session:
        row = session.get(HumanTask, task_id)
        assert (row.status, row.assignee) == ("open", None)
    response = client.post(f"/api/v1/tasks/{task_id}/claim", headers=as_user("ht31"))
    assert response.status_code == 409, response.json
    assert "管理员处理故障" in response.json["message"] and "in error" in response.json["message"]
    with engine.db.read() as session:
        assert session.get(HumanTask, task_id).assignee is None
    assert client.get(f"/api/v1/tasks/{task_id}", headers=as_user("ht31")).status_code == 200


def test_the_task_page_says_why_a_case_in_error_cannot_be_claimed(town, browser):  # noqa: F811
    engine = _deploy(town)
    task_id = _task_in_error(engine)
    page = browser("ht31")
    shown = page.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert f'action="/tasks/{task_id}/claim"' not in shown          # no button that cannot work
    refused = page.post(f"/tasks/{task_id}/claim", data={"csrf_token": csrf_token(page, f"/tasks/{task_id}")},
                        follow_redirects=True)
    assert "该案件运行出错，须由管理员处理故障" in refused.get_data(as_text=True)
    with engine.db.read() as session:
        assert session.get(HumanTask, task_id).assignee is None
