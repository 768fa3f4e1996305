"""Scenario: the dropout-risk check (processes/dropout_risk_check.bpmn) through the REST API."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from api.settings import ROOT


@pytest.fixture
def deployed(client, app, as_user):
    app.extensions["baoxue.engine"].repository.deploy_paths([ROOT / "processes"], actor="admin")
    return client


def only_task(client, as_user, username):
    items = client.get("/api/v1/inbox", headers=as_user(username)).json["items"]
    assert len(items) == 1, items
    return items[0]


def complete(client, as_user, username, task_id, data):
    response = client.post(f"/api/v1/tasks/{task_id}/complete", headers=as_user(username), json={"data": data})
    assert response.status_code == 200, response.json
    return response.json


ASSESS = {"guardian_contacted": True, "contacted_on": "2025-03-03", "risk_factors": ["weariness"]}


def test_low_risk_ends_with_the_head_teacher(deployed, as_user):
    client = deployed
    client.post("/api/v1/process-instances", headers=as_user("ht31"),
                json={"process_key": "dropout_risk_check", "variables": {"child_id": 1}})
    task = only_task(client, as_user, "ht31")
    assert task["title"] == "核查辍学风险" and task["due_at"]
    result = complete(client, as_user, "ht31", task["task_id"], {**ASSESS, "risk_level": "low"})
    assert result["status"] == "completed" and result["handed_to"] == []


def test_high_risk_goes_to_the_village_then_the_principal(deployed, as_user):
    client = deployed
    started = client.post("/api/v1/process-instances", headers=as_user("ht31"),
                          json={"process_key": "dropout_risk_check", "variables": {"child_id": 1}}).json
    task = only_task(client, as_user, "ht31")
    result = complete(client, as_user, "ht31", task["task_id"], {**ASSESS, "risk_level": "high"})
    assert result["handed_to"] == ["村（场、社区）书记 蛟潭村"]
    visit = only_task(client, as_user, "vsjt")
    detail = client.get(f"/api/v1/tasks/{visit['task_id']}", headers=as_user("vsjt")).json
    assert "高风险" in detail["instructions"] and "<strong>高风险</strong>" in detail["instructions_html"]
    result = complete(client, as_user, "vsjt", visit["task_id"], {
        "visited_on": "2025-03-04", "participants": "村干部、网格员", "cause": "poverty",
        "suggested_measures": ["civil_affairs_aid", "buddy_teacher"]})
    assert result["handed_to"] == ["校长 蛟潭中心学校"]
    confirm = only_task(client, as_user, "pzx")
    bad = client.post(f"/api/v1/tasks/{confirm['task_id']}/complete", headers=as_user("pzx"),
                      json={"data": {"measures_confirmed": False, "responsible_teacher": "",
                                     "next_check_on": "2025-03-10"}})
    assert bad.status_code == 422
    assert bad.json["errors"] == {"measures_confirmed": "请确认此项", "responsible_teacher": "此项为必填项"}
    done = complete(client, as_user, "pzx", confirm["task_id"], {
        "measures_confirmed": True, "responsible_teacher": "王老师", "next_check_on": "2025-03-10"})
    assert done["status"] == "completed"
    events = client.get(f"/api/v1/process-instances/{started['instance_id']}/events", headers=as_user("inspector")).json
    completed = [(e["element_id"], e["actor"]) for e in events["events"] if e["kind"] == "task_completed"]
    assert completed == [("assess_risk", "ht31"), ("home_check", "vsjt"), ("confirm_support", "pzx")]
    assert events["chain_ok"] is True and events["problems"] == []
    # Who completed a step is in the keyed chain: an edited task row shows on the case's timeline.
    engine = client.application.extensions["baoxue.engine"]
    with engine.db.transaction() as session:
        session.execute(text("UPDATE human_task SET completed_by = 'mallory' WHERE element_id = 'home_check'"))
    events = client.get(f"/api/v1/process-instances/{started['instance_id']}/events", headers=as_user("inspector")).json
    assert events["chain_ok"] is False and "completed by mallory" in events["problems"][0]
    instance = client.get(f"/api/v1/process-instances/{started['instance_id']}", headers=as_user("inspector")).json
    assert instance["status"] == "completed" and instance["active"] == []
    assert {"assess_risk", "home_check", "confirm_support", "end_supported"} <= set(instance["completed_elements"])
    assert "end_low" not in instance["completed_elements"]
