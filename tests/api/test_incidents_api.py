"""``/api/v1/incidents`` and ``/api/v1/check/last``: administrators list, inspect, retry and
resolve failed steps; everyone else is refused before anything is read."""
from __future__ import annotations

from pathlib import Path

from engine.errors import StepFailed
from engine.persistence.models import Incident
from engine.tasks import TaskQuery

FAILING = Path(__file__).resolve().parent.parent / "engine" / "bpmn" / "failing.bpmn"
DIVISOR_FORM = FAILING.parent.parent / "forms" / "divisor.schema.json"


def failed_case(town, variables=None, divisor=0) -> tuple[int, int]:
    """A case whose script step failed: (instance id, incident id)."""
    engine = town.extensions["baoxue.engine"]
    engine.repository.deploy_paths([FAILING, DIVISOR_FORM], actor="admin")
    started = engine.runtime.start("failing", {"total": 10} if variables is None else variables)
    (task,) = engine.tasks.list(TaskQuery(instance_id=started.instance_id))[0]
    try:
        engine.runtime.complete_task(task.id, {"divisor": divisor}, actor="ht31")
    except StepFailed as err:
        return started.instance_id, err.incident_id
    raise AssertionError("the step did not fail")


def test_only_administrators_reach_incidents_and_checks(client, as_user, town):
    _, incident_id = failed_case(town)
    paths = ["/api/v1/incidents", f"/api/v1/incidents/{incident_id}", "/api/v1/check/last"]
    for path in paths:
        assert client.get(path).status_code == 401
        assert client.get(path, headers=as_user("leader")).status_code == 403
    for action in ("retry", "resolve"):
        response = client.post(f"/api/v1/incidents/{incident_id}/{action}", json={"note": "x"}, headers=as_user("pzx"))
        assert response.status_code == 403
    with town.extensions["baoxue.engine"].db.read() as session:
        assert session.get(Incident, incident_id).status == "open"


def test_list_and_show(client, as_user, town):
    instance_id, incident_id = failed_case(town)
    admin = as_user("admin")
    body = client.get("/api/v1/incidents?status=open", headers=admin).json
    assert body["total"] == 1 and body["page"] == 1 and body["per_page"] == 50
    (item,) = body["items"]
    assert (item["incident_id"], item["instance_id"], item["process_key"], item["element_id"], item["status"]) == (
        incident_id, instance_id, "failing", "compute", "open")
    assert "ZeroDivisionError" in item["message"] and item["command"] == "complete_task"
    assert client.get("/api/v1/incidents?status=resolved", headers=admin).json["total"] == 0
    assert client.get(f"/api/v1/incidents?instance_id={instance_id}&process_key=failing", headers=admin).json["total"] == 1
    detail = client.get(f"/api/v1/incidents/{incident_id}", headers=admin).json
    assert detail["task"]["name"] == "Enter" and detail["instance_status"] == "error"
    for query in ("status=closed", "page=0", "per_page=201", "instance_id=abc", "instance_id=99999999999"):
        response = client.get(f"/api/v1/incidents?{query}", headers=admin)
        assert response.status_code == 422, query
        assert response.json["errors"]
    assert client.get("/api/v1/incidents/999", headers=admin).status_code == 404
    assert client.get("/api/v1/incidents/99999999999", headers=admin).status_code == 404


def test_retry_fails_again_then_succeeds_after_a_fix(client, as_user, town):
    engine = town.extensions["baoxue.engine"]
    instance_id, incident_id = failed_case(town, variables={}, divisor=2)
    admin = as_user("admin")
    again = client.post(f"/api/v1/incidents/{incident_id}/retry", headers=admin)
    assert again.status_code == 409 and again.json["incident_id"] == incident_id
    assert again.json["message"].startswith("the retry failed again:") and "total" in again.json["message"]
    engine.runtime.set_variables(instance_id, {"total": 9}, actor="admin")
    done = client.post(f"/api/v1/incidents/{incident_id}/retry", headers=admin)
    assert done.status_code == 200 and done.json["status"] == "active"
    assert done.json["incident"]["resolution"] == "retried" and done.json["incident"]["resolved_by"] == "admin"
    assert [t["element_id"] for t in done.json["next_tasks"]] == ["after"]
    for action, body in (("retry", None), ("resolve", {"note": "again"})):
        assert client.post(f"/api/v1/incidents/{incident_id}/{action}", json=body, headers=admin).status_code == 409


def test_resolve_needs_a_note_and_reopens_the_case(client, as_user, town):
    engine = town.extensions["baoxue.engine"]
    instance_id, incident_id = failed_case(town)
    admin = as_user("admin")
    for body in ({}, {"note": "   "}, {"note": "x" * 2001}, {"note": 5}):
        response = client.post(f"/api/v1/incidents/{incident_id}/resolve", json=body, headers=admin)
        assert response.status_code == 422 and "note" in response.json["errors"], body
    assert engine.runtime.get(instance_id).status == "error"
    response = client.post(f"/api/v1/incidents/{incident_id}/resolve", json={"note": "已与班主任核实，重新提交"},
                           headers=admin)
    assert response.status_code == 200 and response.json["status"] == "active"
    assert response.json["incident"]["note"] == "已与班主任核实，重新提交"
    events = client.get(f"/api/v1/process-instances/{instance_id}/events", headers=as_user("inspector")).json
    last = events["events"][-1]
    assert (last["kind"], last["actor"], last["data"]["note"]) == ("incident_resolved", "admin", "已与班主任核实，重新提交")
    assert events["chain_ok"]
    assert client.post("/api/v1/incidents/999/resolve", json={"note": "x"}, headers=admin).status_code == 404


def test_database_text_never_leaves_the_api(client, as_user, town):
    _, incident_id = failed_case(town)
    engine = town.extensions["baoxue.engine"]
    with engine.db.transaction() as session:
        session.get(Incident, incident_id).message = (
            "(psycopg.errors.UniqueViolation) duplicate key [SQL: INSERT INTO child (id_number) VALUES (%(x)s)] "
            "[parameters: {'x': '440101201605010011'}]")
    admin = as_user("admin")
    for path in ("/api/v1/incidents", f"/api/v1/incidents/{incident_id}"):
        text = client.get(path, headers=admin).get_data(as_text=True)
        assert "INSERT" not in text and "440101" not in text and "database error" in text


def test_last_check_result(client, as_user, town):
    engine = town.extensions["baoxue.engine"]
    admin = as_user("admin")
    assert client.get("/api/v1/check/last", headers=admin).status_code == 404
    failed_case(town)
    engine.consistency.run()
    body = client.get("/api/v1/check/last", headers=admin).json
    assert body["ok"] is False and body["at"] and isinstance(body["duration_ms"], int)
    assert [(f["check"], f["element_id"]) for f in body["findings"]] == [("incidents", "compute")]
