"""The staff inbox over REST: routing by scope kind, claim/unclaim/reassign, completion rules."""
from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "bpmn"
CALL = {"reached": True, "called_at": "2025-03-03"}


@pytest.fixture
def deployed(client, as_user):
    files = {"files": [(io.BytesIO((HERE / n).read_bytes()), n)
                       for n in ("home_check.bpmn", "call.schema.json", "cause.schema.json")]}
    response = client.post("/api/v1/process-definitions", data=files, content_type="multipart/form-data",
                           headers=as_user("admin"))
    assert response.status_code == 201, response.json
    return client


def start(client, as_user, child_id, by="ht31"):
    response = client.post("/api/v1/process-instances", headers=as_user(by),
                           json={"process_key": "home_check", "variables": {"child_id": child_id}})
    assert response.status_code == 201, response.json
    return response.json


def inbox(client, as_user, username, **params):
    response = client.get("/api/v1/inbox", headers=as_user(username), query_string=params)
    assert response.status_code == 200, response.json
    return response.json


def complete(client, as_user, username, task_id, data):
    return client.post(f"/api/v1/tasks/{task_id}/complete", headers=as_user(username), json={"data": data})


def test_each_scope_kind_routes_to_the_childs_units(deployed, as_user):
    client = deployed
    started = start(client, as_user, 1)
    (first,) = started["next_tasks"]
    assert (first["role"], first["org_unit"]) == ("head_teacher", "zx-3-1")          # class
    assert inbox(client, as_user, "ht32")["total"] == 0

    item = inbox(client, as_user, "ht31")["items"][0]
    assert item["subject"]["name"] == "张小明" and item["subject"]["where"] == "蛟潭中心学校 三年级1班"
    done = complete(client, as_user, "ht31", item["task_id"], CALL)
    assert done.status_code == 200, done.json
    assert done.json["handed_to"] == ["村（场、社区）书记 蛟潭村"]                        # village
    assert inbox(client, as_user, "vsfg")["total"] == 0

    cause = inbox(client, as_user, "vsjt")["items"][0]
    done = complete(client, as_user, "vsjt", cause["task_id"], {"cause": "weariness"})
    assert done.json["next_tasks"][0]["org_unit"] == "zx"                             # school
    registry = inbox(client, as_user, "regzx")["items"][0]
    done = complete(client, as_user, "regzx", registry["task_id"], {})
    assert done.json["next_tasks"][0]["org_unit"] == "town"                           # town
    filing = inbox(client, as_user, "town")["items"][0]
    assert complete(client, as_user, "town", filing["task_id"], {}).json["status"] == "completed"


def test_missing_unit_goes_to_the_deputy_flagged_unroutable(deployed, as_user):
    started = start(deployed, as_user, 4, by="leader")         # child 4 has no class
    (task,) = started["next_tasks"]
    assert (task["role"], task["org_unit"], task["unroutable"]) == ("task_force_deputy", "town", True)
    assert inbox(deployed, as_user, "deputy")["items"][0]["unroutable"] is True


def test_claim_unclaim_reassign(deployed, as_user, town):
    from ledger.accounts import create_user
    engine = town.extensions["baoxue.engine"]
    with engine.db.transaction() as session:                  # a second head teacher of 3-1
        create_user(session, "ht31b", "HT31B", "pw-for-tests", now=engine.clock(),
                    roles=[("head_teacher", "zx-3-1")])
    client = deployed
    start(client, as_user, 1)
    task_id = inbox(client, as_user, "ht31")["items"][0]["task_id"]
    assert inbox(client, as_user, "ht31b")["total"] == 1        # membership read at query time
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=as_user("ht31")).json["assignee"] == "ht31"
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=as_user("ht31b")).status_code == 409
    assert inbox(client, as_user, "ht31b")["items"][0]["assignee"] == "ht31"   # seen as claimed by
    assert complete(client, as_user, "ht31b", task_id, CALL).status_code == 403
    assert client.post(f"/api/v1/tasks/{task_id}/unclaim", headers=as_user("ht31b")).status_code == 403
    assert client.post(f"/api/v1/tasks/{task_id}/assign", headers=as_user("ht31"),
                       json={"username": "ht31b"}).status_code == 403          # not a supervisor
    assert client.post(f"/api/v1/tasks/{task_id}/assign", headers=as_user("pfg"),
                       json={"username": "ht31b"}).status_code == 404          # other school's principal
    assert client.post(f"/api/v1/tasks/{task_id}/assign", headers=as_user("pzx"),
                       json={"username": "vsjt"}).status_code == 403           # not a candidate
    moved = client.post(f"/api/v1/tasks/{task_id}/assign", headers=as_user("pzx"), json={"username": "ht31b"})
    assert moved.status_code == 200 and moved.json["assignee"] == "ht31b"
    assert client.post(f"/api/v1/tasks/{task_id}/unclaim", headers=as_user("ht31b")).json["assignee"] is None
    assert complete(client, as_user, "ht31", task_id, CALL).status_code == 200
    events = client.get(f"/api/v1/process-instances/{inbox(client, as_user, 'vsjt')['items'][0]['instance_id']}/events",
                        headers=as_user("pzx")).json
    assert [e["kind"] for e in events["events"] if e["kind"].startswith("task_")][:5] == [
        "task_ready", "task_claimed", "task_assigned", "task_unclaimed", "task_completed"]
    assert events["chain_ok"] is True


def test_completion_rules(deployed, as_user):
    client = deployed
    start(client, as_user, 1)
    task_id = inbox(client, as_user, "ht31")["items"][0]["task_id"]
    assert complete(client, as_user, "vsjt", task_id, CALL).status_code == 404        # not visible
    assert complete(client, as_user, "pzx", task_id, CALL).status_code == 403         # sees, not candidate
    invalid = complete(client, as_user, "ht31", task_id, {"reached": "yes", "called_at": "03/03/2025"})
    assert invalid.status_code == 422
    assert invalid.json["errors"] == {"reached": "请填写是/否", "called_at": "格式不正确，应为日期（YYYY-MM-DD）"}
    missing = complete(client, as_user, "ht31", task_id, {})
    assert missing.json["errors"] == {"reached": "此项为必填项", "called_at": "此项为必填项"}
    assert complete(client, as_user, "ht31", task_id, CALL).status_code == 200
    again = complete(client, as_user, "ht31", task_id, CALL)
    assert again.status_code == 409 and again.json["code"] == "conflict"


def test_two_candidates_completing_at_once(deployed, as_user, town):
    from ledger.accounts import create_user
    engine = town.extensions["baoxue.engine"]
    with engine.db.transaction() as session:
        create_user(session, "ht31b", "HT31B", "pw-for-tests", now=engine.clock(),
                    roles=[("head_teacher", "zx-3-1")])
    client = deployed
    started = start(client, as_user, 1)
    task_id = started["next_tasks"][0]["task_id"]
    headers = {u: as_user(u) for u in ("ht31", "ht31b")}
    statuses, barrier = [], threading.Barrier(2)

    def go(username):
        with town.test_client() as own:
            barrier.wait()
            statuses.append(own.post(f"/api/v1/tasks/{task_id}/complete", headers=headers[username],
                                     json={"data": CALL}).status_code)

    threads = [threading.Thread(target=go, args=(u,)) for u in headers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409]
    assert inbox(client, as_user, "vsjt")["total"] == 1       # exactly one next task


def test_other_scopes_see_nothing(deployed, as_user):
    client = deployed
    started = start(client, as_user, 1)
    task_id, instance_id = started["next_tasks"][0]["task_id"], started["instance_id"]
    for outsider in ("ht32", "ht11", "vsfg", "pfg", "regzx", "admin"):
        assert inbox(client, as_user, outsider)["total"] == 0
        assert inbox(client, as_user, outsider, q="张小明")["total"] == 0
        assert client.get(f"/api/v1/tasks/{task_id}", headers=as_user(outsider)).status_code == 404
        assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=as_user(outsider)).status_code == 404
        assert client.get(f"/api/v1/process-instances/{instance_id}", headers=as_user(outsider)).status_code == 404
        assert client.get(f"/api/v1/process-instances/{instance_id}/events",
                          headers=as_user(outsider)).status_code == 404
        listed = client.get("/api/v1/process-instances", headers=as_user(outsider)).json
        assert listed["total"] == 0
    assert client.post("/api/v1/process-instances", headers=as_user("ht32"),
                       json={"process_key": "home_check", "variables": {"child_id": 1}}).status_code == 403
    assert inbox(client, as_user, "ht31", q="张小明")["total"] == 1
    assert client.get(f"/api/v1/tasks/{task_id}", headers=as_user("inspector")).status_code == 200
    assert client.get("/api/v1/inbox").status_code == 401
    assert client.get("/api/v1/inbox", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_task_detail_has_form_instructions_and_history(deployed, as_user):
    client = deployed
    started = start(client, as_user, 1)
    detail = client.get(f"/api/v1/tasks/{started['next_tasks'][0]['task_id']}", headers=as_user("ht31")).json
    assert detail["form"]["schema"]["required"] == ["reached", "called_at"]
    assert detail["data"]["child_id"] == 1
    assert [h["kind"] for h in detail["history"]] == ["instance_started"]
    me = client.get("/api/v1/me", headers=as_user("ht31")).json
    assert me["roles"] == [{"role": "head_teacher", "org_unit": "zx-3-1", "org_unit_name": "三年级1班"}]


def test_tokens_expire_with_revocation_and_bad_credentials_are_401(client, as_user):
    headers = as_user("ht31")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    bad = client.post("/api/v1/auth/token", json={"username": "ht31", "password": "wrong"})
    assert bad.status_code == 401 and "wrong" not in bad.get_data(as_text=True).split("message")[0]
    assert client.post("/api/v1/auth/token", json={"username": "ht31"}).status_code == 422
    assert client.post("/api/v1/auth/token", data="{", content_type="application/json").status_code in (400, 422)


def test_revoking_a_role_releases_its_claims_and_ends_its_access_at_once(deployed, as_user, app):
    """Issue 9 item 12: the claim goes with the role; the new holder can work the task and the
    former holder can no longer read it, its case or its child. Other claims stay."""
    from sqlalchemy import select

    from ledger.models import User
    client, admin = deployed, as_user("admin")
    with app.extensions["baoxue.engine"].db.transaction() as session:
        ids = dict(session.execute(select(User.username, User.id)).all())
    assignments = lambda user: f"/api/v1/users/{ids[user]}/assignments"  # noqa: E731
    assert client.post(assignments("ht31"), json={"role": "head_teacher", "org_unit": "zx-3-2"},
                       headers=admin).status_code == 201
    assert client.post(assignments("ht32"), json={"role": "head_teacher", "org_unit": "zx-3-1"},
                       headers=admin).status_code == 201
    case_1, case_2 = start(client, as_user, 1), start(client, as_user, 2, by="ht32")
    (call_1,), (call_2,) = case_1["next_tasks"], case_2["next_tasks"]
    case = f"/api/v1/process-instances/{case_1['instance_id']}"
    for task in (call_1, call_2):
        assert client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=as_user("ht31")).status_code == 200
    assert client.get(case, headers=as_user("ht31")).status_code == 200

    revoked = client.delete(assignments("ht31"), json={"role": "head_teacher", "org_unit": "zx-3-1"}, headers=admin)
    assert revoked.status_code == 200, revoked.json
    assert revoked.json["released_tasks"] == 1 and revoked.json["claimed_open_tasks"] == 1

    ht31 = as_user("ht31")
    assert client.get(f"/api/v1/tasks/{call_1['task_id']}", headers=ht31).status_code == 404
    assert client.get(case, headers=ht31).status_code == 404
    assert client.get(case + "/events", headers=ht31).status_code == 404
    assert client.post(f"/api/v1/tasks/{call_1['task_id']}/unclaim", headers=ht31).status_code == 404
    assert complete(client, as_user, "ht31", call_1["task_id"], CALL).status_code == 404
    assert [i["task_id"] for i in inbox(client, as_user, "ht31")["items"]] == [call_2["task_id"]]
    kept = client.get(f"/api/v1/tasks/{call_2['task_id']}", headers=ht31).json
    assert kept["assignee"] == "ht31"                                # the pair still held keeps its claim

    view = client.get(f"/api/v1/tasks/{call_1['task_id']}", headers=as_user("ht32")).json
    assert view["assignee"] is None
    assert client.post(f"/api/v1/tasks/{call_1['task_id']}/claim", headers=as_user("ht32")).status_code == 200
    assert complete(client, as_user, "ht32", call_1["task_id"], CALL).status_code == 200
    events = client.get(case + "/events", headers=as_user("leader")).json
    released = [e for e in events["events"] if e["kind"] == "task_unclaimed"]
    assert [(e["actor"], e["data"]["previous"], e["data"]["reason"]) for e in released] == [
        ("admin", "ht31", "role revoked")]
