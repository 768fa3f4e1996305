"""POST/GET /api/v1/process-definitions, /healthz and the OpenAPI document."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from api.settings import ROOT
from engine.persistence.models import Deployment, ProcessDefinition

PROCESS = ROOT / "processes" / "registry_restoration.bpmn"
FORMS = ROOT / "forms"


def count(app, model):
    with app.extensions["baoxue.engine"].db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_health_and_openapi_need_no_token_but_deploy_does(client, as_user):
    assert client.get("/healthz").json == {"status": "ok"}
    spec = client.get("/api/openapi.json").json
    assert "/api/v1/process-definitions" in spec["paths"]
    assert "post" in spec["paths"]["/api/v1/process-definitions"]
    body = PROCESS.read_bytes()
    assert client.post("/api/v1/process-definitions", data=body, content_type="application/xml").status_code == 401
    forbidden = client.post("/api/v1/process-definitions", data=body, content_type="application/xml",
                            headers=as_user("ht31"))
    assert forbidden.status_code == 403
    assert client.get("/api/v1/process-definitions").status_code == 401


def test_deploy_xml_body_then_unchanged_then_list_and_read(client, as_user):
    admin = as_user("admin")
    body = PROCESS.read_bytes()
    first = client.post("/api/v1/process-definitions?filename=registry_restoration.bpmn",
                        data=body, content_type="application/xml", headers=as_user("admin"))
    assert first.status_code == 201
    assert first.json["processes"][0] == {"process_key": "registry_restoration", "version": 1,
                                          "definition_id": 1, "name": "学籍恢复",
                                          "created": True}
    again = client.post("/api/v1/process-definitions?filename=registry_restoration.bpmn",
                        data=body, content_type="application/xml", headers=as_user("admin"))
    assert again.status_code == 200 and again.json["processes"][0]["created"] is False
    listed = client.get("/api/v1/process-definitions", headers=admin).json
    assert [(d["process_key"], d["version"]) for d in listed] == [("registry_restoration", 1)]
    xml = client.get("/api/v1/process-definitions/registry_restoration/bpmn", headers=admin)
    assert xml.status_code == 200 and xml.data == body
    assert client.get("/api/v1/process-definitions/registry_restoration/bpmn?version=7", headers=admin).status_code == 404
    assert client.get("/api/v1/process-definitions/nope/bpmn", headers=admin).status_code == 404


def test_deploy_multipart_with_forms(client, as_user, app):
    admin = as_user("admin")
    bpmn = PROCESS.read_text().replace('value="registry_restoration.schema.json"', 'value="uploaded.schema.json"')
    data = {"files": [(io.BytesIO(bpmn.encode()), "r.bpmn"),
                      (io.BytesIO((FORMS / "registry_restoration.schema.json").read_bytes()), "uploaded.schema.json")]}
    response = client.post("/api/v1/process-definitions", data=data, content_type="multipart/form-data", headers=admin)
    assert response.status_code == 201, response.json
    engine = app.extensions["baoxue.engine"]
    files = engine.repository.files(response.json["processes"][0]["definition_id"])
    assert "uploaded.schema.json" in files and "supervision_note.schema.json" in files


def test_invalid_deploy_is_422_with_element_errors_and_stores_nothing(client, as_user, app):
    admin = as_user("admin")
    broken = PROCESS.read_text().replace('name="registrar"', 'name="janitor"').replace('"P3D"</bpmn:timeDuration>', 'P3D</bpmn:timeDuration>')
    response = client.post("/api/v1/process-definitions?filename=broken.bpmn", data=broken.encode(),
                           content_type="application/xml", headers=admin)
    assert response.status_code == 422
    errors = {e["element_id"]: e for e in response.json["errors"]}
    assert errors["lane_registrar"]["file"] == "broken.bpmn" and errors["lane_registrar"]["line"] > 0
    assert "janitor" in errors["lane_registrar"]["message"]
    assert "P3D" in errors["overdue"]["message"]
    assert count(app, Deployment) == 0 and count(app, ProcessDefinition) == 0


def test_hostile_and_malformed_uploads_are_4xx(client, as_user):
    admin = as_user("admin")
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    response = client.post("/api/v1/process-definitions", data=xxe, content_type="application/xml", headers=admin)
    assert response.status_code == 422 and "passwd" not in response.get_data(as_text=True).split("message")[0]
    assert client.post("/api/v1/process-definitions", data=b"x", content_type="text/plain", headers=admin).status_code == 400
    assert client.post("/api/v1/process-definitions", data={}, content_type="multipart/form-data", headers=admin).status_code == 422
    huge = b"<a>" + b" " * (6 * 1024 * 1024) + b"</a>"
    too_large = client.post("/api/v1/process-definitions", data=huge, content_type="application/xml", headers=admin)
    assert too_large.status_code == 413 and too_large.json == {   # the 4xx shape, in Chinese with the limit
        "code": "too_large", "message": "提交的内容过大：不能超过 5 MB。未保存任何内容。",
        "errors": {"body": "提交的内容过大：不能超过 5 MB。未保存任何内容。"}}
    bad_name = client.post("/api/v1/process-definitions?filename=../x.bpmn", data=PROCESS.read_bytes(),
                           content_type="application/xml", headers=admin)
    assert bad_name.status_code == 422


def test_deploy_returns_the_warnings_of_the_deploy(client, as_user):
    """Issue 9 item 11: the deploy explains how a called process's laneless tasks are routed."""
    bpmn = (ROOT / "tests" / "engine" / "bpmn" / "called_lanes.bpmn").read_text()
    bpmn = bpmn.replace('name="clerk"', 'name="head_teacher"').replace('name="manager"', 'name="principal"')
    response = client.post("/api/v1/process-definitions?filename=called.bpmn", data=bpmn.encode(),
                           content_type="application/xml", headers=as_user("admin"))
    assert response.status_code == 201, response.json
    warned = {w["element_id"]: w for w in response.json["warnings"]}
    assert set(warned) == {"call_review", "call_middle", "call_mixed"}
    assert warned["call_review"]["file"] == "called.bpmn" and warned["call_review"]["line"]
    assert 'lane "head_teacher"' in warned["call_review"]["message"]
    plain = client.post("/api/v1/process-definitions?filename=registry_restoration.bpmn",
                        data=PROCESS.read_bytes(), content_type="application/xml", headers=as_user("admin"))
    assert plain.json["warnings"] == []
