"""Hostile and careless input: always a 4xx with the reason, never a 500, nothing half-stored."""
from __future__ import annotations

import pytest

from api.settings import ROOT


@pytest.fixture
def deployed(client, app, as_user):
    app.extensions["baoxue.engine"].repository.deploy_paths([ROOT / "processes"], actor="admin")
    return client


def start(client, headers, process_key, **variables):
    return client.post("/api/v1/process-instances", headers=headers,
                       json={"process_key": process_key, "variables": variables})


@pytest.mark.parametrize("body", [
    '{"username": "a\\u0000b", "password": "x"}',
    '{"username": "a", "password": "\\ud800"}',
])
def test_unstorable_text_is_400(client, town, body):
    response = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert response.status_code == 400 and response.json["code"] == "bad_request"


def test_nul_in_query_and_deep_json_are_400(client, as_user):
    assert client.get("/api/v1/inbox?q=%00", headers=as_user("ht31")).status_code == 400
    deep = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/v1/auth/token", data=deep, content_type="application/json")
    assert response.status_code == 400


def test_out_of_range_ids_are_404_or_422(deployed, as_user):
    client = deployed
    assert client.get("/api/v1/process-instances/99999999999999999999",
                      headers=as_user("inspector")).status_code == 404
    assert start(client, as_user("ht31"), "dropout_risk_check", child_id=10**30).status_code == 422
    assert start(client, as_user("ht31"), "dropout_risk_check", child_id=True).status_code == 422
    assert start(client, as_user("ht31"), "dropout_risk_check", child_id=1, __class__=1).status_code == 422
    assert client.get("/api/v1/process-instances?child_id=99999999999999999999",
                      headers=as_user("inspector")).status_code == 422


def test_who_may_start_follows_the_start_lane_and_one_open_case_per_child(deployed, as_user):
    client = deployed
    # registry_restoration starts in the registrar's lane: a head teacher may not start it.
    assert start(client, as_user("ht31"), "registry_restoration", child_id=1).status_code == 403
    assert start(client, as_user("regzx"), "registry_restoration", child_id=1).status_code == 201
    assert start(client, as_user("vsjt"), "dropout_risk_check", child_id=1).status_code == 403
    assert start(client, as_user("ht32"), "dropout_risk_check", child_id=1).status_code == 403
    first = start(client, as_user("ht31"), "dropout_risk_check", child_id=1)
    assert first.status_code == 201
    again = start(client, as_user("ht31"), "dropout_risk_check", child_id=1)
    assert again.status_code == 409 and again.json["code"] == "conflict"
    assert start(client, as_user("leader"), "dropout_risk_check", child_id=2).status_code == 201


def test_over_long_names_are_refused_at_deploy(client, as_user):
    xml = (ROOT / "processes" / "registry_restoration.bpmn").read_text().replace(
        'name="恢复或重建学籍"', f'name="{"长" * 300}"')
    response = client.post("/api/v1/process-definitions?filename=long.bpmn", data=xml.encode(),
                           content_type="application/xml", headers=as_user("admin"))
    assert response.status_code == 422
    assert response.json["errors"][0]["element_id"] == "restore_registry"


def test_unknown_pages_answer_in_chinese_html(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "text/html" in response.content_type
    assert "找不到" in response.get_data(as_text=True) or "不存在" in response.get_data(as_text=True)
    assert client.get("/api/v1/no-such").json["code"] == "not_found"


def test_api_reasons_are_in_chinese(deployed, as_user):
    """The OpenAPI document promises Chinese reasons: marshmallow's and the engine's English
    texts come with their Chinese first (api.zh_messages; fresh-user review)."""
    client = deployed
    paged = client.get("/api/v1/inbox?page=0&per_page=abc", headers=as_user("ht31"))
    assert paged.status_code == 422 and paged.json["message"].startswith("请求内容有误")
    assert paged.json["errors"]["page"].startswith("应在 1 至 10000 之间")
    assert paged.json["errors"]["per_page"].startswith("应为整数")
    missing = client.post("/api/v1/process-instances", headers=as_user("ht31"), json={})
    assert missing.status_code == 422 and missing.json["errors"]["process_key"].startswith("此项为必填项")
    started = start(client, as_user("ht31"), "dropout_risk_check", child_id=1)
    assert started.status_code == 201, started.json
    (task,) = client.get("/api/v1/inbox", headers=as_user("ht31")).json["items"]
    bad = client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=as_user("ht31"), json={"data": {}})
    assert bad.status_code == 422 and bad.json["message"].startswith("表单填写有误")
