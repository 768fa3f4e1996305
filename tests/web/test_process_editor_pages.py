"""The process editor's page routes (api/web/process_editor.py): administrators only, the form
preview rendered by the task page's macros (200) or refused naming the field (422), and the
dry run of an unedited export."""
from __future__ import annotations

import re

import pytest

from api.settings import ROOT
from tests.web.conftest import csrf_token


@pytest.fixture(autouse=True)
def persuasion(town):
    """The persuasion process and the processes it calls, deployed from processes/."""
    town.extensions["baoxue.engine"].repository.deploy_paths([ROOT / "processes"], actor="admin")

META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def _token(client) -> str:
    page = client.get("/processes/persuasion/edit")
    assert page.status_code == 200
    return META.search(page.get_data(as_text=True)).group(1)


def test_only_administrators_open_the_editor_or_its_routes(browser):
    head_teacher = browser("ht31")
    assert head_teacher.get("/processes/persuasion/edit").status_code == 403
    assert head_teacher.get("/processes/persuasion/edit/source").status_code == 403
    token = csrf_token(head_teacher, "/inbox")
    response = head_teacher.post("/processes/forms/preview", json={"schema": {"type": "object"}},
                                 headers={"X-CSRFToken": token})
    assert response.status_code == 403


def test_form_preview_renders_the_task_page_fields(browser):
    admin = browser("admin")
    token = _token(admin)
    schema = {"type": "object", "required": ["note"],
              "properties": {"note": {"type": "string", "title": "办理情况"},
                             "ok": {"type": "boolean", "title": "已返校"}}}
    response = admin.post("/processes/forms/preview", json={"schema": schema, "uischema": {"note": {"ui:widget": "textarea"}}},
                          headers={"X-CSRFToken": token})
    assert response.status_code == 200
    html = response.get_json()["html"]
    assert '<textarea id="f-note" name="note"' in html and "办理情况" in html
    assert 'type="radio" name="ok" value="true"' in html


def test_form_preview_refuses_what_is_not_a_schema(browser):
    admin = browser("admin")
    token = _token(admin)
    response = admin.post("/processes/forms/preview", json={"schema": [1], "uischema": "x"},
                          headers={"X-CSRFToken": token})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"schema", "uischema"}
    assert admin.post("/processes/forms/preview", json={"schema": {}}).status_code == 400   # no CSRF token


def test_dry_run_of_the_deployed_file_is_valid(browser):
    admin = browser("admin")
    token = _token(admin)
    source = admin.get("/processes/persuasion/edit/source").get_json()
    result = admin.post("/processes/validate", json={"files": {source["file_name"]: source["bpmn"]}},
                        headers={"X-CSRFToken": token}).get_json()
    assert result["valid"], result["errors"]
    broken = source["bpmn"].replace('name="head_teacher"', 'name="no_such_role"', 1)
    result = admin.post("/processes/validate", json={"files": {source["file_name"]: broken}},
                        headers={"X-CSRFToken": token}).get_json()
    assert not result["valid"] and any(e["element_id"] == "lane_head_teacher" for e in result["errors"])


def test_a_stale_save_says_one_chinese_sentence(browser):
    admin = browser("admin")
    token = _token(admin)
    headers = {"X-CSRFToken": token}
    files = {"persuasion.bpmn": admin.get("/processes/persuasion/edit/source").get_json()["bpmn"]}
    draft = admin.post("/processes/persuasion/drafts", json={"title": "甲", "files": files, "base_version": 1},
                       headers=headers).get_json()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", draft["updated_at_local"])
    saved = admin.put(f"/processes/drafts/{draft['id']}", json={"title": "乙", "files": files,
                                                                  "row_version": draft["row_version"]}, headers=headers)
    assert saved.status_code == 200
    stale = admin.put(f"/processes/drafts/{draft['id']}", json={"title": "丙", "files": files,
                                                                  "row_version": draft["row_version"]}, headers=headers)
    assert stale.status_code == 409
    message = stale.get_json()["message"]
    assert message == f"草稿 {draft['id']} 已被他人修改，请重新打开。", message


def test_the_dry_run_speaks_chinese_first(browser, town):
    """The editor's problem list shows the deploy's checks: each message Chinese first, the
    English after (tryout finding: the staff read English only)."""
    from api.zh_messages import zh_deploy
    samples = {
        'lane "janitor" (lane_x): "janitor" is not a known role code (known role codes: a, b)': "泳道「janitor」",
        'userTask "家访" (home_visit): form file "nope.schema.json" (formJsonSchemaFilename) was not found in '
        'this deploy nor in the form folders': "找不到表单文件「nope.schema.json」",
        'sequence flow f1 from a points to targetRef "b", but no element has that id': "指向不存在的元素「b」",
        'userTask "电话" (phone_call): dueIn: timer expression P0D is evaluated as Python: write "P0D" (quoted)':
            '须加引号写成 "P0D"',
        'malformed XML: Premature end of data': "XML 格式错误",
    }
    for english, chinese in samples.items():
        assert zh_deploy(english).startswith(zh_deploy(english).split(" (")[0]) and chinese in zh_deploy(english)
        assert zh_deploy(english).endswith(f"({english})")
    assert zh_deploy("草稿的流程文件没有定义流程 x") == "草稿的流程文件没有定义流程 x"
