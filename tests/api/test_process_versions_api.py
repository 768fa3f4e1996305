"""Versions side by side (issue 14): the engine's diff of two real persuasion versions, the
summary with running cases per version, and the REST endpoints over them (SQLite and PostgreSQL)."""
from __future__ import annotations

from .case_list_town import BROKEN, TIMER, TRACED, build_cases
from .process_versions import deploy_versions


def engine_of(app):
    return app.extensions["baoxue.engine"]


def deploy_renamed_visit(engine) -> None:
    """traced_case version 2: its visit renamed 家访（第二版）."""
    renamed = TRACED.replace('name="班主任家访"', 'name="家访（第二版）"')
    assert renamed != TRACED
    assert engine.repository.deploy({"traced_case.bpmn": renamed.encode()}, actor="admin")[0].version == 2


def by_id(items):
    return {item["id"]: item for item in items}


def test_the_diff_names_each_change_of_a_real_version_and_ignores_the_drawing(app, tmp_path):
    engine = engine_of(app)
    deploy_versions(engine, tmp_path)
    diff = engine.repository.diff("persuasion", 1, 2)
    assert (diff["process_key"], diff["from"], diff["to"]) == ("persuasion", 1, 2)

    assert diff["added"] == [{"id": "confirm_call", "type": "userTask", "name": "核对通话记录"},
                             {"id": "pf_call_confirmed", "type": "sequenceFlow", "name": None}]
    assert by_id(diff["removed"]).keys() == {"phone_call_oversee", "f_phone_call_oversee"}
    assert by_id(diff["removed"])["phone_call_oversee"] == {
        "id": "phone_call_oversee", "type": "userTask", "name": "督办：电话联系监护人逾期"}

    changed = {e["id"]: {c["field"]: (c["before"], c["after"]) for c in e["changes"]} for e in diff["changed"]}
    assert by_id(diff["changed"])["phone_call"]["name"] == "电话联系家长"
    assert changed["phone_call"] == {"name": ("电话联系监护人", "电话联系家长")}
    assert changed["home_visit"] == {"dueDays": ("school", "working")}
    assert changed["pf_phone_call_recorded"] == {"target": ("gw_phone_call_cause", "confirm_call")}
    assert changed["gw_phone_call_cause"] == {"incoming": (["pf_phone_call_recorded"], ["pf_call_confirmed"])}
    assert changed["f_phone_call_overdue"] == {"target": ("phone_call_oversee", "phone_call_overseen")}
    assert changed["phone_call_overseen"] == {"incoming": (["f_phone_call_oversee"], ["f_phone_call_overdue"])}
    assert set(changed) == {"phone_call", "home_visit", "pf_phone_call_recorded", "gw_phone_call_cause",
                            "f_phone_call_overdue", "phone_call_overseen"}
    # The removed task's form is no longer named by any element, the others are unchanged.
    assert diff["forms"] == []

    # Version 3 moved a shape and bent an edge: no difference. Backwards, the changes reverse.
    assert {k: engine.repository.diff("persuasion", 2, 3)[k] for k in ("added", "removed", "changed", "forms")} \
        == {"added": [], "removed": [], "changed": [], "forms": []}
    back = engine.repository.diff("persuasion", 3, 1)
    assert by_id(back["added"]).keys() == {"phone_call_oversee", "f_phone_call_oversee"}
    assert {c["field"]: c["after"] for c in by_id(back["changed"])["phone_call"]["changes"]} == {"name": "电话联系监护人"}


def test_a_changed_form_file_instruction_script_and_timer_are_reported(app):
    engine = engine_of(app)
    form = b'{"type": "object", "title": "A", "properties": {}}'
    with_form = TRACED.replace(
        '<spiffworkflow:property name="dueIn" value="&quot;P3D&quot;"/></spiffworkflow:properties>',
        '<spiffworkflow:property name="dueIn" value="&quot;P3D&quot;"/>'
        '<spiffworkflow:property name="formJsonSchemaFilename" value="visit.schema.json"/></spiffworkflow:properties>'
        '<spiffworkflow:instructionsForEndUser>请家访。</spiffworkflow:instructionsForEndUser>')
    assert with_form != TRACED, "the test's process changed: visit has another name"
    engine.repository.deploy({"t.bpmn": with_form.encode(), "visit.schema.json": form})
    engine.repository.deploy({"t.bpmn": with_form.replace("请家访。", "请三日内家访。").encode(),
                              "visit.schema.json": form.replace(b'"A"', b'"B"')})
    diff = engine.repository.diff("traced_case", 1, 2)
    assert diff["forms"] == [{"file": "visit.schema.json", "change": "changed"}]
    assert diff["changed"] == [{"id": "visit", "type": "userTask", "name": "班主任家访", "changes": [
        {"field": "instructions", "before": "请家访。", "after": "请三日内家访。"}]}]
    # Reformatting a form (the same JSON) is no change.
    engine.repository.deploy({"t.bpmn": with_form.encode(),
                              "visit.schema.json": b'{"type":"object","title":"A",\n"properties":{}}'})
    assert engine.repository.diff("traced_case", 1, 3)["forms"] == []

    engine.repository.deploy({"timer.bpmn": TIMER.encode(), "broken.bpmn": BROKEN.encode()})
    engine.repository.deploy({"timer.bpmn": TIMER.replace('"P30D"', '"P20D"').encode(),
                              "broken.bpmn": BROKEN.replace("missing_value + 1", "1").encode()})
    assert engine.repository.diff("timer_case", 1, 2)["changed"] == [{"id": "wait", "type": "intermediateCatchEvent",
        "name": None, "changes": [{"field": "timer", "before": 'timeDuration: "P30D"', "after": 'timeDuration: "P20D"'}]}]
    assert engine.repository.diff("broken_case", 1, 2)["changed"] == [{"id": "fails", "type": "scriptTask",
        "name": "计算", "changes": [{"field": "script", "before": "x = missing_value + 1", "after": "x = 1"}]}]


def test_summary_counts_running_cases_per_version(app, client, as_user):
    engine = engine_of(app)
    build_cases(engine)   # traced_case v1: a, c running, b completed; broken_case: e error, f terminated
    deploy_renamed_visit(engine)
    engine.runtime.start("traced_case", {"child_id": 4}, business_key="child:4", actor="ht31")
    rows = {row["process_key"]: row for row in engine.repository.summary()}
    assert rows["traced_case"]["running"] == [{"version": 2, "count": 1}, {"version": 1, "count": 2}]
    assert (rows["traced_case"]["latest_version"], rows["traced_case"]["running_total"]) == (2, 3)
    assert rows["broken_case"]["running"] == [{"version": 1, "count": 1}]   # the error; not the terminated
    assert rows["timer_case"]["running"] == [{"version": 1, "count": 1}]    # waiting on its timer

    response = client.get("/api/v1/process-definitions/summary", headers=as_user("ht31"))
    assert response.status_code == 200
    rest = {row["process_key"]: row for row in response.json}
    assert rest["traced_case"]["running"] == [{"version": 2, "count": 1}, {"version": 1, "count": 2}]
    assert rest["traced_case"]["deployed_by"] == "admin" and rest["traced_case"]["note"] is None
    assert client.get("/api/v1/process-definitions/summary").status_code == 401
    listed = client.get("/api/v1/process-definitions", headers=as_user("ht31")).json
    assert all("note" in row for row in listed)


def test_rest_diff_and_its_refusals(app, client, as_user, tmp_path):
    deploy_versions(engine_of(app), tmp_path)
    headers = as_user("inspector")
    url = "/api/v1/process-definitions/persuasion/diff"
    response = client.get(f"{url}?from=1&to=2", headers=headers)
    assert response.status_code == 200
    body = response.json
    assert (body["process_key"], body["from"], body["to"]) == ("persuasion", 1, 2)
    assert {"id": "confirm_call", "type": "userTask", "name": "核对通话记录"} in body["added"]
    assert {"field": "dueDays", "before": "school", "after": "working"} in by_id(body["changed"])["home_visit"]["changes"]
    assert set(body) == {"process_key", "from", "to", "added", "removed", "changed", "forms"}
    summary = client.get("/api/v1/process-definitions/summary", headers=headers).json
    assert [(r["process_key"], r["latest_version"], r["note"]) for r in summary] == [("persuasion", 3, "调整布局")]

    assert client.get(f"{url}?from=1&to=9", headers=headers).status_code == 404
    assert client.get("/api/v1/process-definitions/nope/diff?from=1&to=2", headers=headers).status_code == 404
    for query, field in (("to=2", "from"), ("from=1", "to"), ("from=x&to=2", "from"), ("from=1&to=0", "to")):
        refused = client.get(f"{url}?{query}", headers=headers)
        assert refused.status_code == 422, query
        assert field in str(refused.json["errors"]), (query, refused.json)
    assert client.get(f"{url}?from=1&to=2").status_code == 401
