"""Through REST: a completion sets only what its form declares, never the child a case is
about; an instance of a multi-instance without its output is a 422 for that task, not an
error of the case (issue 9, items 10 and 13)."""
from __future__ import annotations

import io
import json

from ..diagrams import linear_process, multi_instance, user_task

# No additionalProperties: false: the engine must refuse undeclared fields anyway.
LOOSE_CALL = {"type": "object", "required": ["reached"], "properties": {"reached": {"type": "boolean"}}}
SIGN = {"type": "object", "properties": {"signature": {"type": "string"}}}


def deploy(client, as_user, xml: str, forms: dict):
    files = [(io.BytesIO(xml.encode()), "diagram.bpmn")]
    files += [(io.BytesIO(json.dumps(schema).encode()), name) for name, schema in forms.items()]
    return client.post("/api/v1/process-definitions", data={"files": files}, content_type="multipart/form-data",
                       headers=as_user("admin"))


def start(client, as_user, process_key, variables):
    response = client.post("/api/v1/process-instances", headers=as_user("ht31"),
                           json={"process_key": process_key, "variables": variables})
    assert response.status_code == 201, response.json
    return response.json


def inbox(client, as_user, username):
    response = client.get("/api/v1/inbox", headers=as_user(username))
    assert response.status_code == 200, response.json
    return response.json["items"]


def complete(client, as_user, username, task_id, data):
    return client.post(f"/api/v1/tasks/{task_id}/complete", headers=as_user(username), json={"data": data})


def test_a_form_cannot_move_the_case_to_another_child(client, as_user):
    xml = linear_process("home_call", user_task("call", form="loose_call.schema.json"), user_task("verify"),
                         lanes={"head_teacher": ["start", "call"], "village_secretary": ["verify", "end"]})
    assert deploy(client, as_user, xml, {"loose_call.schema.json": LOOSE_CALL}).status_code == 201
    start(client, as_user, "home_call", {"child_id": 1})
    (call,) = inbox(client, as_user, "ht31")

    moved = complete(client, as_user, "ht31", call["task_id"], {"reached": True, "child_id": 3})
    assert moved.status_code == 422
    assert moved.json["errors"] == {"child_id": "此项由系统设定，不能通过表单修改"}
    extra = complete(client, as_user, "ht31", call["task_id"], {"reached": True, "village": "v-fg"})
    assert extra.status_code == 422 and extra.json["errors"] == {"village": "包含表单中没有的字段"}

    done = complete(client, as_user, "ht31", call["task_id"], {"reached": True})
    assert done.status_code == 200, done.json
    assert [t["task_id"] for t in inbox(client, as_user, "vsjt")] == [t["task_id"] for t in done.json["next_tasks"]]
    assert inbox(client, as_user, "vsfg") == []                  # child 3's village never sees it


def test_deploy_refuses_a_form_declaring_the_child(client, as_user):
    claims = {"type": "object", "properties": {"reached": {"type": "boolean"}, "child_id": {"type": "integer"}}}
    xml = linear_process("home_call", user_task("call", form="claims.schema.json"),
                         lanes={"head_teacher": ["start", "call", "end"]})
    refused = deploy(client, as_user, xml, {"claims.schema.json": claims})
    assert refused.status_code == 422
    (error,) = refused.json["errors"]
    assert error["element_id"] == "call" and "claims.schema.json" in error["message"] and "child_id" in error["message"]


def test_an_instance_without_its_output_is_refused_and_the_case_goes_on(client, as_user):
    xml = linear_process("agreements", user_task("sign", form="sign.schema.json",
                                                 loop=multi_instance("units", "signatures", "unit", "signature")),
                         user_task("file"), lanes={"head_teacher": ["start", "sign", "file", "end"]})
    assert deploy(client, as_user, xml, {"sign.schema.json": SIGN}).status_code == 201
    instance_id = start(client, as_user, "agreements", {"child_id": 1, "units": ["A", "B", "C"]})["instance_id"]
    signs = inbox(client, as_user, "ht31")
    assert len(signs) == 3

    missing = complete(client, as_user, "ht31", signs[1]["task_id"], {})
    assert missing.status_code == 422 and missing.json["errors"] == {"signature": "此项为必填项"}
    case = client.get(f"/api/v1/process-instances/{instance_id}", headers=as_user("inspector")).json
    assert case["status"] == "active" and case["incidents"] == []
    assert len(inbox(client, as_user, "ht31")) == 3               # the refused one is still open

    for sign in reversed(signs):
        assert complete(client, as_user, "ht31", sign["task_id"], {"signature": "ok"}).status_code == 200
    (filing,) = inbox(client, as_user, "ht31")
    assert complete(client, as_user, "ht31", filing["task_id"], {}).json["status"] == "completed"


# A reason typed as spaces is no reason: the REST API refuses what the page refuses (the page
# strips what is typed). Fresh-user review: a report numbered "   ", a 留置送达 with a blank witness.
NOTE = {"type": "object", "required": ["witness", "reason"],
        "properties": {"witness": {"type": "string"}, "reason": {"type": "string", "minLength": 2},
                       "note": {"type": "string", "minLength": 1}}}


def test_blank_text_is_missing_through_rest_as_on_the_page(client, as_user):
    xml = linear_process("served", user_task("serve", form="note.schema.json"),
                         lanes={"head_teacher": ["start", "serve", "end"]})
    assert deploy(client, as_user, xml, {"note.schema.json": NOTE}).status_code == 201
    start(client, as_user, "served", {"child_id": 1})
    (task,) = inbox(client, as_user, "ht31")
    blank = complete(client, as_user, "ht31", task["task_id"], {"witness": " \n ", "reason": "  ", "note": "\t"})
    assert blank.status_code == 422
    assert blank.json["errors"] == {"witness": "此项为必填项", "reason": "此项为必填项", "note": "此项为必填项"}
    short = complete(client, as_user, "ht31", task["task_id"], {"witness": "张三", "reason": " 无 "})
    assert short.status_code == 422 and short.json["errors"] == {"reason": "至少填写 2 个字"}
    assert inbox(client, as_user, "ht31")[0]["task_id"] == task["task_id"]          # nothing was taken
    done = complete(client, as_user, "ht31", task["task_id"], {"witness": "张三", "reason": "拒收，邻居见证"})
    assert done.status_code == 200, done.json
