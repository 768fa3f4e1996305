"""The trace of a persuasion case for those who check it (issue 13): the diagram state with
the path taken as the engine recorded it, the runs of an element, verification of the
record (an edited or deleted audit row is found at its position), the JSON export."""
from __future__ import annotations

from sqlalchemy import delete, select, update

from engine.persistence.models import AuditEvent


from .forms_data import COUNTY, DECIDE
from .test_county_referral import referred


def looped(town):
    """A case that went through the leader's decision twice (referred, then decided again)."""
    case = referred(town)
    town.report("2025-10-20", {1: "absent_unexcused"})
    town.complete("bureau", "county_procedure", COUNTY)
    town.report_days("2025-10-21", "2025-10-31", {1: "absent_unexcused"})
    town.pass_until("2025-11-01", 8)
    town.complete("leader", "leader_decision", DECIDE)
    return case


def get(town, url, user="inspector"):
    response = town.client.get(url, headers=town.headers(user))
    return response


def test_the_diagram_state_counts_the_loop_and_names_the_flows_taken(scenario):
    town = scenario
    case = looped(town)
    state = get(town, f"/api/v1/process-instances/{case.id}/diagram-state").json
    persuasion = state["processes"]["persuasion"]
    assert persuasion["elements"]["leader_decision"] == {"runs": 2, "state": "completed"}
    assert persuasion["elements"]["county_procedure"]["runs"] == 1
    assert {"pf_decide", "pf_decided"} <= set(persuasion["flows"])
    # The event-based gateway armed all its events; only the absences that came are the path.
    assert "pf_absent" in persuasion["flows"] and "pf_excused" not in persuasion["flows"]
    assert persuasion["elements"]["absent_day"]["runs"] >= 2 and "excused_day" not in persuasion["elements"]
    assert state["recorded_since"] is None and state["process_id"] == "persuasion"
    active = [e for e, v in persuasion["elements"].items() if v["state"] == "active"]
    assert active, "the case stands somewhere after the second decision"
    assert all(v["runs"] >= 1 for e, v in persuasion["elements"].items() if v["state"] == "completed")
    # Every flow named exists in the file the diagram is drawn from.
    xml = get(town, f"/api/v1/process-instances/{case.id}/bpmn").data.decode()
    assert all(f'id="{flow}"' in xml for flow in persuasion["flows"])


def test_the_runs_of_an_element_say_who_when_and_what(scenario):
    town = scenario
    case = looped(town)
    found = get(town, f"/api/v1/process-instances/{case.id}/element-runs?process=persuasion"
                      f"&element=leader_decision").json
    assert found["name"] == "研判下一步措施" and len(found["runs"]) == 2
    first, second = found["runs"]
    assert first["actor"] == second["actor"] == "leader" and first["role_name"] == "专班组长"
    assert first["completed_at"] < second["completed_at"] and first["met"] in (True, False)
    assert any(f["value"] for f in second["fields"])
    bad = get(town, f"/api/v1/process-instances/{case.id}/element-runs?process=persuasion&element=nope")
    assert bad.status_code == 422 and "element" in bad.json["errors"]


def test_an_edited_or_deleted_audit_row_fails_verification_at_its_position(scenario):
    town = scenario
    case = looped(town)
    assert get(town, f"/api/v1/process-instances/{case.id}/verification").json["ok"] is True
    with town.engine.db.transaction() as session:
        seq = session.scalar(select(AuditEvent.seq).where(AuditEvent.instance_id == case.id,
                                                          AuditEvent.kind == "task_completed").limit(1))
        session.execute(update(AuditEvent).where(AuditEvent.instance_id == case.id, AuditEvent.seq == seq)
                        .values(actor="someone_else"))
    found = get(town, f"/api/v1/process-instances/{case.id}/verification").json
    assert found["ok"] is False and found["first_bad"] == seq
    assert any(f["seq"] == seq and "修改" in f["problem"] and f"第 {seq} 条" in f["position"]
               for f in found["findings"])
    with town.engine.db.transaction() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.instance_id == case.id, AuditEvent.seq == seq + 2))
    found = get(town, f"/api/v1/process-instances/{case.id}/verification").json
    assert any(f["seq"] == seq + 2 and "缺失" in f["problem"] for f in found["findings"])


def test_the_export_carries_the_trace_masked_and_is_logged(scenario):
    town = scenario
    case = looped(town)
    response = get(town, f"/api/v1/process-instances/{case.id}/trace")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    document = response.json
    assert document["verification"]["ok"] and document["diagram"]["processes"]["persuasion"]
    assert {e["kind"] for e in document["events"]} >= {"instance_started", "task_completed", "path"}
    assert any(r["element_id"] == "leader_decision" and len(r["runs"]) == 2 for r in document["runs"])
    from ledger.models import AccessLog
    with town.engine.db.read() as session:
        views = [json_detail for json_detail in session.scalars(select(AccessLog.detail).where(
            AccessLog.username == "inspector"))]
    assert any('"trace_export"' in v for v in views)


def test_only_who_may_trace_the_case_sees_its_trace(scenario):
    town = scenario
    case = looped(town)
    for url in ("diagram-state", "bpmn", "verification", "trace",
                "element-runs?process=persuasion&element=leader_decision"):
        assert get(town, f"/api/v1/process-instances/{case.id}/{url}", user="civil").status_code == 404, url
        assert get(town, f"/api/v1/process-instances/{case.id}/{url}", user="leader").status_code == 200, url
    assert get(town, f"/api/v1/process-instances/{case.id}/bpmn?process=nothing").status_code == 404
    assert get(town, "/api/v1/process-instances/999999/diagram-state").status_code == 404


def test_a_called_process_the_case_entered_is_drawn_with_its_own_state(scenario):
    town = scenario
    case = referred(town)
    town.report("2025-10-20", {1: "present"})
    state = get(town, f"/api/v1/process-instances/{case.id}/diagram-state").json
    assert state["calls"]["restore_registry"] == "registry_restoration"
    assert state["processes"]["persuasion"]["elements"]["restore_registry"]["state"] == "active"
    called = state["processes"]["registry_restoration"]
    assert called["elements"]["restore_registry"]["state"] == "active"
    xml = get(town, f"/api/v1/process-instances/{case.id}/bpmn?process=registry_restoration").data.decode()
    assert '<bpmn:process id="registry_restoration"' in xml and all(f'id="{f}"' in xml for f in called["flows"])
    runs = get(town, f"/api/v1/process-instances/{case.id}/element-runs?process=registry_restoration"
                     f"&element=restore_registry").json["runs"]
    assert len(runs) == 1 and runs[0]["completed_at"] is None and runs[0]["role_name"] == "学籍管理员"


def test_the_instance_detail_lists_the_flows_taken(scenario):
    town = scenario
    case = looped(town)
    detail = get(town, f"/api/v1/process-instances/{case.id}").json
    assert {"pf_decide", "pf_decided", "pf_absent"} <= set(detail["flows_taken"])
    assert "pf_excused" not in detail["flows_taken"] and "leader_decision" in detail["completed_elements"]
