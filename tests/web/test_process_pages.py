"""/processes and /processes/<key> (issue 14 "Process list and versions"): who may see them,
the running cases per version, a version's diagram data, the diff in words (SQLite and PostgreSQL)."""
from __future__ import annotations

import re

import pytest

from api.settings import ROOT
from tests.api.case_list_town import build_cases
from tests.api.process_versions import deploy_versions
from tests.api.test_process_versions_api import deploy_renamed_visit

from .pages_helpers import engine_of, html_of


def text_of(response) -> str:
    """The page's text with tags dropped and white space folded (what a reader sees)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html_of(response)))


@pytest.mark.parametrize("username", ["ht31", "pzx", "vsjt", "deputy", "town"])
def test_others_get_a_chinese_403(browser, username):
    page = browser(username)
    for path in ("/processes", "/processes/traced_case", "/processes/traced_case/versions/1/bpmn"):
        response = page.get(path)
        assert response.status_code == 403, path
        assert "流程与版本仅供系统管理员、专班组长和督查人员查看" in html_of(response)
    assert 'href="/processes"' not in html_of(page.get("/inbox"))


def test_a_stranger_is_sent_to_sign_in(town):
    response = town.test_client().get("/processes/traced_case")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/processes/traced_case")


def test_the_list_counts_running_cases_per_version(town, browser):
    engine = engine_of(town)
    build_cases(engine)
    deploy_renamed_visit(engine)
    engine.runtime.start("traced_case", {"child_id": 4}, business_key="child:4", actor="ht31")
    for username in ("admin", "leader", "inspector"):
        page = browser(username)
        assert 'href="/processes"' in html_of(page.get("/inbox")), username
        response = page.get("/processes")
        assert response.status_code == 200
        row = re.search(r'<tr data-process="traced_case">(.*?)</tr>', html_of(response), re.S).group(1)
        row_text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
        assert "测试劝返案件" in row_text and "第 2 版" in row_text and "ADMIN" in row_text   # the deployer's name
        assert "共 3 件： 第 2 版 1 件 ， 第 1 版 2 件" in row_text
        assert 'href="/processes/traced_case"' in row
    history = html_of(browser("inspector").get("/processes/traced_case"))
    assert re.search(r'data-version="1".*?class="running">2 件', history, re.S)
    assert re.search(r'data-version="2".*?class="running">1 件', history, re.S)


def test_the_edit_and_migrate_links_are_for_administrators(town, browser):
    build_cases(engine_of(town))
    admin = html_of(browser("admin").get("/processes/traced_case"))
    assert 'href="/processes/traced_case/edit"' in admin and 'href="/processes/traced_case/migrate"' in admin
    leader = html_of(browser("leader").get("/processes/traced_case"))
    assert "/edit" not in leader and "/migrate" not in leader


def test_the_diff_page_names_the_changed_elements_in_words(town, browser, tmp_path):
    deploy_versions(engine_of(town), tmp_path)
    page = browser("leader")
    response = page.get("/processes/persuasion?from=1&to=2")
    assert response.status_code == 200
    text = text_of(response)
    assert "新增环节（2）" in text and "核对通话记录 用户任务 · confirm_call" in text
    assert "督办：电话联系监护人逾期 用户任务 · phone_call_oversee" in text
    changed = re.search(r'<li data-element="phone_call">(.*?)</li>', html_of(response), re.S).group(1)
    assert "电话联系家长" in changed and "名称" in changed and "电话联系监护人" in changed
    visit = re.search(r'<li data-element="home_visit">(.*?)</li>', html_of(response), re.S).group(1)
    assert re.search(r"期限计日方式</th>\s*<td class=\"diff-before\">school</td><td class=\"diff-after\">working", visit)

    unchanged = text_of(page.get("/processes/persuasion?from=2&to=3"))
    assert "两个版本的流程内容相同" in unchanged and "改动环节" not in unchanged

    history = re.search(r'<tr data-version="2"(.*?)</tr>', html_of(response), re.S).group(1)
    assert "增加核对通话记录" in history and "ADMIN" in history
    listed = re.search(r'<tr data-process="persuasion">(.*?)</tr>', html_of(page.get("/processes")), re.S).group(1)
    assert "第 3 版" in listed and "调整布局" in listed

    refused = page.get("/processes/persuasion?from=1&to=9")
    assert refused.status_code == 422 and "没有第 9 版" in html_of(refused)
    assert page.get("/processes/nope").status_code == 404


def test_a_versions_diagram_data(town, browser, tmp_path):
    deploy_versions(engine_of(town), tmp_path)
    page = browser("inspector")
    html = html_of(page.get("/processes/persuasion?version=1"))
    assert 'data-state-url="/processes/persuasion/versions/1/diagram-state"' in html and "data-plain" in html
    assert "第 1 版流程图" in html
    state = page.get("/processes/persuasion/versions/1/diagram-state").json
    assert state["plain"] is True and state["processes"]["persuasion"]["elements"] == {}
    assert state["lane_names"]["head_teacher"] == "班主任"
    first = page.get(state["processes"]["persuasion"]["bpmn_url"])
    assert first.status_code == 200 and "电话联系监护人" in first.get_data(as_text=True)
    assert "电话联系家长" in page.get("/processes/persuasion/versions/2/bpmn").get_data(as_text=True)
    assert page.get("/processes/persuasion/versions/9/diagram-state").status_code == 404


def test_the_administrator_puts_an_older_version_back(browser, town):
    """On the process page: a refusal (no note) is a 422 saying why; then version 1 comes back
    as the newest, with its note in the history."""
    from .conftest import csrf_token
    engine = town.extensions["baoxue.engine"]
    engine.repository.deploy_paths([ROOT / "processes"], actor="admin")
    changed = (ROOT / "processes" / "registry_restoration.bpmn").read_text().replace("恢复或重建学籍", "恢复学籍")
    engine.repository.deploy({"registry_restoration.bpmn": changed.encode()}, actor="admin", note="改名")
    admin = browser("admin")
    token = csrf_token(admin, "/processes/registry_restoration")
    refused = admin.post("/processes/registry_restoration/redeploy",
                         data={"csrf_token": token, "version": "1", "note": "", "confirm": "1"})
    assert refused.status_code == 422 and "未重新发布" in refused.get_data(as_text=True)
    done = admin.post("/processes/registry_restoration/redeploy",
                      data={"csrf_token": token, "version": "1", "note": "退回第 1 版", "confirm": "1"})
    assert done.status_code == 302
    page = admin.get("/processes/registry_restoration").get_data(as_text=True)
    assert "第 1 版已重新发布为第 3 版" in page and "退回第 1 版" in page
    leader = browser("leader")
    assert leader.post("/processes/registry_restoration/redeploy", data={
        "csrf_token": csrf_token(leader, "/processes"), "version": "1", "note": "x", "confirm": "1"}).status_code == 403
    assert engine.repository.latest("registry_restoration").version == 3
