"""``/api/v1/process-instances/<id>/suspend|resume|terminate|migration`` and
``/api/v1/process-definitions/<key>/versions/<v>/migration``: administrators only, every bad
input a 4xx naming the field, a refused request changes nothing."""
from __future__ import annotations

import json

from engine.tasks import TaskQuery
from tests.diagrams import linear_process, user_task

V1 = linear_process("intake", user_task("visit", name="家访"), user_task("report", name="报告"))
LANED = linear_process("laned", user_task("visit", name="家访"), lanes={"head_teacher": ["visit"]})
V2 = linear_process("intake", user_task("visit", name="家访"), user_task("report", name="书面报告"),
                    user_task("review", name="审核"))
V3 = linear_process("intake", user_task("report", name="报告"))


def _deploy(engine, xml):
    engine.repository.deploy({"intake.bpmn": xml.encode()}, actor="admin")


def _engine(town):
    return town.extensions["baoxue.engine"]


def test_only_administrators_act(client, as_user, town):
    engine = _engine(town)
    _deploy(engine, V1)
    case = engine.runtime.start("intake", {}).instance_id
    paths = [f"/api/v1/process-instances/{case}/{act}" for act in ("suspend", "resume", "terminate", "migration")]
    paths.append("/api/v1/process-definitions/intake/versions/1/migration")
    for path in paths:
        assert client.post(path, json={"reason": "x", "to_version": 2}).status_code == 401
        assert client.post(path, json={"reason": "x", "to_version": 2}, headers=as_user("leader")).status_code == 403
    assert engine.runtime.get(case).status == "active"


def test_suspend_resume_terminate(client, as_user, town):
    engine = _engine(town)
    engine.repository.deploy({"laned.bpmn": LANED.encode()}, actor="admin")
    case = engine.runtime.start("laned", {"child_id": 1}, business_key="child:1").instance_id
    admin = as_user("admin")
    base = f"/api/v1/process-instances/{case}"

    missing = client.post(f"{base}/suspend", json={"reason": "  "}, headers=admin)
    assert missing.status_code == 422 and "原因" in missing.json["message"] and "reason" in missing.json["errors"]
    assert client.post(f"{base}/suspend", json={}, headers=admin).status_code == 422
    assert client.post("/api/v1/process-instances/999999/suspend", json={"reason": "x"}, headers=admin).status_code == 404
    assert client.post(f"{base}/resume", json={"reason": "x"}, headers=admin).status_code == 409

    body = client.post(f"{base}/suspend", json={"reason": "家长申请暂缓"}, headers=admin)
    assert body.status_code == 200 and body.json == {"instance_id": case, "status": "suspended"}
    (task,) = engine.tasks.list(TaskQuery(instance_id=case, include_suspended=True))[0]
    assert task.candidate_role == "head_teacher"
    done = client.post(f"/api/v1/tasks/{task.id}/complete", json={"data": {}}, headers=as_user("ht31"))
    assert done.status_code == 409 and "案件已暂停" in done.json["message"]
    claim = client.post(f"/api/v1/tasks/{task.id}/claim", headers=as_user("ht31"))
    assert claim.status_code == 409 and "案件已暂停" in claim.json["message"]
    inbox = client.get("/api/v1/tasks", headers=as_user("ht31")).json
    assert task.id not in json.dumps(inbox)
    assert client.post(f"{base}/suspend", json={"reason": "x"}, headers=admin).status_code == 409

    assert client.post(f"{base}/resume", json={"reason": "核实完毕"}, headers=admin).json["status"] == "active"
    assert client.post(f"{base}/terminate", json={"reason": "重复立案"}, headers=admin).json["status"] == "terminated"
    assert client.post(f"{base}/terminate", json={"reason": "x"}, headers=admin).status_code == 409
    events = engine.history.events(case)
    assert [e.kind for e in events if e.kind.startswith("instance_")][-3:] == [
        "instance_suspended", "instance_resumed", "instance_terminated"]
    assert engine.runtime.start("laned", {"child_id": 1}, business_key="child:1").status == "active"   # key freed


def test_migration_dry_run_then_migrate_one_and_all(client, as_user, town):
    engine = _engine(town)
    _deploy(engine, V1)
    first = engine.runtime.start("intake", {}).instance_id
    second = engine.runtime.start("intake", {}).instance_id
    done = engine.runtime.start("intake", {}).instance_id
    (visit,) = engine.tasks.list(TaskQuery(instance_id=done))[0]
    engine.runtime.complete_task(visit.id, {}, actor="u")
    _deploy(engine, V2)
    _deploy(engine, V3)
    admin = as_user("admin")
    url = f"/api/v1/process-instances/{first}/migration"

    dry = client.post(url, json={"to_version": 2}, headers=admin)
    assert dry.status_code == 200 and dry.json["can_migrate"] is True and dry.json["migrated"] is False
    refused = client.post(f"/api/v1/process-instances/{done}/migration", json={"to_version": 3}, headers=admin).json
    assert refused["can_migrate"] is False and "visit" in {r["element_id"] for r in refused["reasons"]}
    assert client.post(f"/api/v1/process-instances/{done}/migration", json={"to_version": 3, "dry_run": False},
                       headers=admin).status_code == 409
    for bad, status in (({"to_version": 9}, 404), ({"to_version": 1}, 422), ({"to_version": "2"}, 422),
                        ({}, 422), ({"to_version": 0}, 422), ({"to_definition_id": 999999}, 404)):
        response = client.post(url, json={**bad, "dry_run": False}, headers=admin)
        assert response.status_code == status, (bad, response.json)
    engine.repository.deploy({"other.bpmn": linear_process("other", user_task("x")).encode()}, actor="admin")
    other = engine.repository.latest("other").id
    wrong_key = client.post(url, json={"to_definition_id": other, "dry_run": False}, headers=admin)
    assert wrong_key.status_code == 422 and "to_definition_id" in wrong_key.json["errors"]
    assert engine.repository.get(engine.runtime.get(first).definition_id).version == 1

    moved = client.post(url, json={"to_version": 2, "dry_run": False}, headers=admin).json
    assert moved["migrated"] is True and moved["to"]["version"] == 2

    bulk_url = "/api/v1/process-definitions/intake/versions/1/migration"
    assert client.post("/api/v1/process-definitions/nope/versions/1/migration", json={"to_version": 2},
                       headers=admin).status_code == 404
    dry_all = client.post(bulk_url, json={"to_version": 3}, headers=admin).json
    assert dry_all["counts"] == {"total": 2, "can_migrate": 0, "cannot_migrate": 2}
    result = client.post(bulk_url, json={"to_version": 2, "dry_run": False}, headers=admin).json
    assert result["counts"] == {"total": 2, "moved": 2, "refused": 0}
    assert {r["instance_id"] for r in result["instances"]} == {second, done}
    [migrated] = [e for e in engine.history.events(second) if e.kind == "instance_migrated"]
    data = json.loads(migrated.data)
    assert (data["from_version"], data["to_version"], migrated.actor) == (1, 2, "admin")
    assert json.dumps(result, ensure_ascii=False)   # plain JSON
