"""Drafts of process definitions and the dry-run deploy (issue 14): saved, checked, deployed
with a note; running cases stay on their version; nothing stored by a refused request."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from api.settings import ROOT
from engine.persistence.models import DefinitionDraft, ProcessDefinition

PROCESSES = ROOT / "processes"
REGISTRY = (PROCESSES / "registry_restoration.bpmn").read_text()
LAWFUL_EXIT = (PROCESSES / "lawful_exit.bpmn").read_text()
PERSUASION = (PROCESSES / "persuasion.bpmn").read_text()


@pytest.fixture
def deployed(town):
    engine = town.extensions["baoxue.engine"]
    engine.repository.deploy_paths([PROCESSES], actor="admin")
    return engine


def rows(engine, model) -> int:
    with engine.db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def new_draft(client, headers, files=None, **extra):
    body = {"process_key": "registry_restoration", "base_version": 1,
            "files": files or {"registry_restoration.bpmn": REGISTRY}, **extra}
    return client.post("/api/v1/process-drafts", json=body, headers=headers)


def test_a_draft_is_saved_reloaded_changed_and_deployed_as_the_next_version_with_its_note(client, as_user, deployed):
    admin = as_user("admin")
    created = new_draft(client, admin, title="缩短学籍恢复期限")
    assert created.status_code == 201, created.json
    draft = created.json
    assert draft["base_version"] == 1 and draft["created_by"] == "admin" and draft["deployed_version"] is None
    listed = client.get("/api/v1/process-drafts?process_key=registry_restoration", headers=admin).json
    assert [(d["id"], d["file_names"]) for d in listed] == [(draft["id"], ["registry_restoration.bpmn"])]

    shorter = REGISTRY.replace('value="&quot;P3D&quot;"', 'value="&quot;P2D&quot;"', 1)
    saved = client.put(f"/api/v1/process-drafts/{draft['id']}", headers=admin,
                       json={"row_version": draft["row_version"], "files": {"registry_restoration.bpmn": shorter}})
    assert saved.status_code == 200 and saved.json["row_version"] == draft["row_version"] + 1
    reloaded = client.get(f"/api/v1/process-drafts/{draft['id']}", headers=admin).json
    assert reloaded["files"]["registry_restoration.bpmn"] == shorter and reloaded["title"] == "缩短学籍恢复期限"

    checked = client.post(f"/api/v1/process-drafts/{draft['id']}/validate", headers=admin).json
    assert checked["valid"] is True
    assert {p["process_key"]: p["next_version"] for p in checked["processes"]} == {"registry_restoration": 2}

    no_note = client.post(f"/api/v1/process-drafts/{draft['id']}/deploy", headers=admin,
                          json={"row_version": saved.json["row_version"], "note": "  "})
    assert no_note.status_code == 422 and "note" in no_note.json["errors"]
    assert rows(deployed, ProcessDefinition) == len(list(deployed.repository.list()))  # nothing new
    done = client.post(f"/api/v1/process-drafts/{draft['id']}/deploy", headers=admin,
                       json={"row_version": saved.json["row_version"], "note": "县里把期限缩短为两天"})
    assert done.status_code == 201, done.json
    mine = {p["process_key"]: p for p in done.json["processes"]}["registry_restoration"]
    assert mine["version"] == 2 and mine["created"] is True
    versions = [d for d in client.get("/api/v1/process-definitions", headers=admin).json
                if d["process_key"] == "registry_restoration"]
    assert [(d["version"], d["note"], d["deployed_by"]) for d in versions] == [
        (1, None, "admin"), (2, "县里把期限缩短为两天", "admin")]
    # Nothing else got a version: the other processes' content did not change.
    assert all(p["created"] is False for p in done.json["processes"] if p["process_key"] != "registry_restoration")

    # A deployed draft is the record of that version: no more saves, not listed by default.
    again = client.put(f"/api/v1/process-drafts/{draft['id']}", headers=admin,
                       json={"row_version": done and saved.json["row_version"] + 1, "title": "x"})
    assert again.status_code == 409
    assert client.get("/api/v1/process-drafts", headers=admin).json == []
    record = client.get("/api/v1/process-drafts?include_deployed=true", headers=admin).json
    assert [d["deployed_version"] for d in record] == [2]


def test_a_stale_save_is_refused_and_changes_nothing(client, as_user, deployed):
    admin = as_user("admin")
    draft = new_draft(client, admin).json
    first = client.put(f"/api/v1/process-drafts/{draft['id']}", headers=admin,
                       json={"row_version": draft["row_version"], "title": "第一位管理员"})
    assert first.status_code == 200
    stale = client.put(f"/api/v1/process-drafts/{draft['id']}", headers=admin,
                       json={"row_version": draft["row_version"], "title": "第二位管理员"})
    assert stale.status_code == 409 and "row_version" in stale.json["errors"]
    assert client.get(f"/api/v1/process-drafts/{draft['id']}", headers=admin).json["title"] == "第一位管理员"
    gone = client.delete(f"/api/v1/process-drafts/{draft['id']}?row_version={draft['row_version']}", headers=admin)
    assert gone.status_code == 409
    deleted = client.delete(f"/api/v1/process-drafts/{draft['id']}?row_version={first.json['row_version']}",
                            headers=admin)
    assert deleted.status_code == 204 and rows(deployed, DefinitionDraft) == 0


def test_a_draft_on_an_old_base_is_refused_at_deploy(client, as_user, deployed):
    admin = as_user("admin")
    old = new_draft(client, admin).json
    newer = new_draft(client, admin).json
    changed = REGISTRY.replace("恢复或重建学籍", "恢复或重建学籍（县里要求）")
    for draft, text in ((newer, changed), (old, changed.replace("（县里要求）", "（另一改法）"))):
        client.put(f"/api/v1/process-drafts/{draft['id']}", headers=admin,
                   json={"row_version": draft["row_version"], "files": {"registry_restoration.bpmn": text}})
    assert client.post(f"/api/v1/process-drafts/{newer['id']}/deploy", headers=admin,
                       json={"row_version": newer["row_version"] + 1, "note": "改任务名"}).status_code == 201
    refused = client.post(f"/api/v1/process-drafts/{old['id']}/deploy", headers=admin,
                          json={"row_version": old["row_version"] + 1, "note": "另一改法"})
    assert refused.status_code == 409 and "base_version" in refused.json["errors"]
    assert deployed.repository.latest("registry_restoration").version == 2


def test_a_draft_deploy_calls_the_newest_deployed_version_of_a_called_process(client, as_user, deployed):
    """Called processes and forms come from what runs now, not from the files on disk."""
    admin = as_user("admin")
    renamed = LAWFUL_EXIT.replace('<bpmn:process id="lawful_exit" name="', '<bpmn:process id="lawful_exit" name="新·', 1)
    assert renamed != LAWFUL_EXIT
    exit_draft = client.post("/api/v1/process-drafts", headers=admin, json={
        "process_key": "lawful_exit", "base_version": 1, "files": {"lawful_exit.bpmn": renamed}}).json
    assert client.post(f"/api/v1/process-drafts/{exit_draft['id']}/deploy", headers=admin,
                       json={"row_version": exit_draft["row_version"], "note": "改名"}).status_code == 201
    changed = PERSUASION.replace('name="', 'name="（改）', 1)
    draft = client.post("/api/v1/process-drafts", headers=admin, json={
        "process_key": "persuasion", "base_version": 1, "files": {"persuasion.bpmn": changed}}).json
    done = client.post(f"/api/v1/process-drafts/{draft['id']}/deploy", headers=admin,
                       json={"row_version": draft["row_version"], "note": "劝返流程改动"})
    assert done.status_code == 201, done.json
    persuasion = deployed.repository.latest("persuasion")
    assert persuasion.version == 2
    files = deployed.repository.files(persuasion.id)
    assert files["lawful_exit.bpmn"].decode() == renamed


@pytest.mark.parametrize("body, field", [
    ({"process_key": "1bad", "files": {"a.bpmn": "x"}}, "process_key"),
    ({"process_key": "k", "files": {"../a.bpmn": "x"}}, "files"),
    ({"process_key": "k", "files": {"a.bpmn": "x", "b.bpmn": "y"}}, "files"),
    ({"process_key": "k", "files": {"a.py": "x"}}, "files"),
    ({"process_key": "k", "files": {"a.bpmn": 3}}, "files"),
    ({"process_key": "k", "files": {"a.bpmn": "a\u0000b"}}, "files"),
    ({"process_key": "k", "files": {"a.bpmn": "\ud800"}}, "files"),
    ({"process_key": "k", "files": {"a.bpmn": "x" * (5 * 1024 * 1024 + 1)}}, "files"),
    ({"process_key": "k", "files": {}}, "files"),
    ({"process_key": "k", "title": "", "files": {"a.bpmn": "x"}}, "title"),
])
def test_bad_drafts_are_422_naming_the_field_and_store_nothing(client, as_user, deployed, body, field):
    response = client.post("/api/v1/process-drafts", headers=as_user("admin"),
                           data=json.dumps(body), content_type="application/json")
    assert response.status_code in (400, 413, 422), response.json
    if response.status_code != 413:   # a NUL is refused (400) before any endpoint, naming the field too
        assert field in json.dumps(response.json["errors"])
    assert rows(deployed, DefinitionDraft) == 0


def test_drafts_are_for_administrators_and_unknown_ones_404(client, as_user, deployed):
    assert client.get("/api/v1/process-drafts", headers=as_user("leader")).status_code == 403
    assert new_draft(client, as_user("ht31")).status_code == 403
    admin = as_user("admin")
    assert client.get("/api/v1/process-drafts/999", headers=admin).status_code == 404
    assert new_draft(client, admin, base_version=9).status_code == 404
    assert rows(deployed, DefinitionDraft) == 0


def test_the_dry_run_deploy_reports_without_storing(client, as_user, deployed):
    admin = as_user("admin")
    before = rows(deployed, ProcessDefinition)
    same = client.post("/api/v1/process-definitions/validate?filename=registry_restoration.bpmn",
                       data=REGISTRY.encode(), content_type="application/xml", headers=admin).json
    assert same["valid"] and same["processes"][0]["next_version"] is None
    assert same["processes"][0]["current_version"] == 1
    broken = REGISTRY.replace('name="registrar"', 'name="janitor"')
    report = client.post("/api/v1/process-definitions/validate?filename=r.bpmn", data=broken.encode(),
                         content_type="application/xml", headers=admin)
    assert report.status_code == 200 and report.json["valid"] is False
    assert {e["element_id"] for e in report.json["errors"]} == {"lane_registrar"}
    assert client.post("/api/v1/process-definitions/validate?filename=r.bpmn", data=broken.encode(),
                       content_type="application/xml", headers=as_user("leader")).status_code == 403
    assert rows(deployed, ProcessDefinition) == before


def test_running_cases_stay_on_their_version_and_new_ones_start_on_the_latest(client, as_user, deployed):
    admin = as_user("admin")
    running = deployed.runtime.start("registry_restoration", {"child_id": 1, "case_no": "T-1"}, actor="admin")
    draft = new_draft(client, admin, files={"registry_restoration.bpmn": REGISTRY.replace("恢复或重建学籍", "恢复学籍")}).json
    assert client.post(f"/api/v1/process-drafts/{draft['id']}/deploy", headers=admin,
                       json={"row_version": draft["row_version"], "note": "改名"}).status_code == 201
    later = deployed.runtime.start("registry_restoration", {"child_id": 2, "case_no": "T-2"}, actor="admin")
    version = {i: deployed.repository.get(deployed.runtime.get(i).definition_id).version
               for i in (running.instance_id, later.instance_id)}
    assert version == {running.instance_id: 1, later.instance_id: 2}


def test_a_draft_deploys_its_own_process_and_no_other(client, as_user, deployed):
    """A persuasion draft renamed to lawful_exit would have replaced the process persuasion
    calls (tryout finding): refused at check and at deploy, nothing stored."""
    admin = as_user("admin")
    hijack = PERSUASION.replace('<bpmn:process id="persuasion"', '<bpmn:process id="lawful_exit"', 1)
    hijack = hijack.replace('processRef="persuasion"', 'processRef="lawful_exit"')
    draft = client.post("/api/v1/process-drafts", headers=admin, json={
        "process_key": "persuasion", "base_version": 1, "files": {"persuasion.bpmn": hijack}}).json
    checked = client.post(f"/api/v1/process-drafts/{draft['id']}/validate", headers=admin).json
    assert checked["valid"] is False
    assert {e["element_id"] for e in checked["errors"]} >= {None, "lawful_exit"}
    refused = client.post(f"/api/v1/process-drafts/{draft['id']}/deploy", headers=admin,
                          json={"row_version": draft["row_version"], "note": "改名"})
    assert refused.status_code == 422
    assert deployed.repository.latest("lawful_exit").version == 1
    assert deployed.repository.latest("persuasion").version == 1


def test_a_user_task_in_no_lane_is_refused_naming_it(client, as_user, deployed):
    """In a process drawn with lanes a task outside every lane has no role to go to."""
    admin = as_user("admin")
    laneless = PERSUASION.replace("<bpmn:flowNodeRef>legal_education</bpmn:flowNodeRef>", "", 1)
    assert laneless != PERSUASION
    report = client.post("/api/v1/process-definitions/validate?filename=persuasion.bpmn",
                         data=laneless.encode(), content_type="application/xml", headers=admin).json
    assert report["valid"] is False
    assert [e["element_id"] for e in report["errors"]] == ["legal_education"]
    assert "泳道" in report["errors"][0]["message"]


def test_who_may_use_drafts_is_checked_before_the_body(client, as_user, deployed):
    assert client.post("/api/v1/process-drafts/1/deploy", json={}).status_code == 401
    assert client.post("/api/v1/process-drafts/1/deploy", json={}, headers=as_user("leader")).status_code == 403


def test_an_older_version_is_put_back_as_the_newest(client, as_user, deployed):
    """The way back from a bad version (tryout finding: deploying the old file again only
    answered "unchanged, version 1"): version 1 redeployed is version 3, new cases start on
    it, and redeploying the folder afterwards still creates nothing."""
    admin = as_user("admin")
    draft = new_draft(client, admin, files={"registry_restoration.bpmn": REGISTRY.replace("恢复或重建学籍", "恢复学籍")}).json
    client.post(f"/api/v1/process-drafts/{draft['id']}/deploy", headers=admin,
                json={"row_version": draft["row_version"], "note": "改名"})
    url = "/api/v1/process-definitions/registry_restoration/versions/{}/redeploy"
    assert client.post(url.format(1), json={"note": " "}, headers=admin).status_code == 422
    assert client.post(url.format(2), json={"note": "x"}, headers=admin).status_code == 409
    assert client.post(url.format(9), json={"note": "x"}, headers=admin).status_code == 404
    assert client.post(url.format(1), json={"note": "x"}, headers=as_user("leader")).status_code == 403
    back = client.post(url.format(1), json={"note": "第 2 版任务名有误，退回"}, headers=admin)
    assert back.status_code == 201 and back.json["version"] == 3, back.json
    v1, v3 = (deployed.repository.version("registry_restoration", n) for n in (1, 3))
    assert (v3.content_hash, v3.deployment_id, v3.note) == (v1.content_hash, v1.deployment_id, "第 2 版任务名有误，退回")
    case = deployed.runtime.start("registry_restoration", {"child_id": 1, "case_no": "T-3"}, actor="admin")
    assert deployed.runtime.get(case.instance_id).definition_id == v3.id
    again = deployed.repository.deploy_paths([PROCESSES], actor="init")
    assert {r.process_key: (r.version, r.created) for r in again}["registry_restoration"] == (3, False)
    assert deployed.repository.latest("registry_restoration").version == 3


def test_concurrent_deploys_get_one_version_each(db_url, tmp_path, deployed):
    """Two administrators deploying at once (two server processes) both number a new version
    from the same latest: the one that loses the unique key tries again after the other,
    never a 500 (race found at review: an IntegrityError escaped)."""
    import threading

    from api.settings import Settings
    from api.wiring import build_engine
    other = build_engine(Settings.from_env(database_url=db_url, var_dir=tmp_path, secret_key="test-secret"))
    outcomes = []

    def deploy(engine, label):
        try:
            files = {"registry_restoration.bpmn": REGISTRY.replace("恢复或重建学籍", label).encode()}
            outcomes.append(engine.repository.deploy(files, "admin", note=label)[0].version)
        except Exception as exc:  # noqa: BLE001 - the test reports whatever escaped
            outcomes.append(repr(exc))

    try:
        for round_ in range(3):
            threads = [threading.Thread(target=deploy, args=(engine, f"第{round_}轮{n}"))
                       for n, engine in enumerate((deployed, other))]
            [t.start() for t in threads]
            [t.join() for t in threads]
    finally:
        other.close()
    assert sorted(outcomes) == list(range(2, 8)), outcomes
