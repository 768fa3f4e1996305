"""POST /api/v1/messages (issue 9): a message without its correlation key is a 422, and
nothing of it reaches a case or is stored."""
from __future__ import annotations

from sqlalchemy import func, select

from api.settings import ROOT
from engine.persistence.models import Message


def test_a_message_without_child_id_is_422_and_reaches_no_case(app, client, as_user):
    engine = app.extensions["baoxue.engine"]
    # Without home_teaching.bpmn, nothing deployed throws home_teaching_placed: a person may send it.
    engine.repository.deploy_paths([ROOT / "processes" / f"{key}.bpmn" for key in
                                    ("persuasion", "lawful_exit", "support_measures")], actor="admin")
    leader = as_user("leader")
    started = client.post("/api/v1/process-instances", headers=leader,
                          json={"process_key": "persuasion", "variables": {
                              "child_id": 1, "absence_days": 1, "recent_absences": 1, "intermittent_days": 5}})
    assert started.status_code == 201, started.json
    case_id = started.json["instance_id"]
    before = engine.history.events(case_id)
    # home_teaching_placed: caught by lawful_exit.bpmn on child_id.
    for correlation in ({}, {"child_id": None}, {"child_id": ""}, {"pupil": 1}):
        response = client.post("/api/v1/messages", headers=leader,
                               json={"name": "home_teaching_placed", "correlation": correlation, "payload": {"child_id": 1}}
                               if correlation == {} else {"name": "home_teaching_placed", "correlation": correlation})
        assert response.status_code == 422, response.json
        assert response.json["code"] == "invalid" and list(response.json["errors"]) == ["correlation.child_id"]
    with engine.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0
    assert engine.runtime.get(case_id).status == "active" and engine.runtime.incidents(case_id) == []
    assert len(engine.history.events(case_id)) == len(before)
    detail = client.get(f"/api/v1/process-instances/{case_id}", headers=as_user("inspector")).json
    assert all(w["status"] == "waiting" and w["correlation"] == {"child_id": 1} for w in detail["waiting_messages"])


def test_a_persuasion_case_without_child_id_is_refused_at_start(app, client, as_user):
    """persuasion requires child_id and the day counts to start (its start event's requiredVariables): without
    it the case would wait uncorrelatable on every absence and return message."""
    engine = app.extensions["baoxue.engine"]
    engine.repository.deploy_paths([ROOT / "processes"], actor="admin")
    response = client.post("/api/v1/process-instances", headers=as_user("leader"),
                           json={"process_key": "persuasion", "variables": {"absence_days": 1}})
    assert response.status_code == 422 and response.json["errors"] == {
        "variables.child_id": "required by the process", "variables.recent_absences": "required by the process",
        "variables.intermittent_days": "required by the process"}
    assert engine.runtime.incidents(1) == [] and client.get("/api/v1/process-instances",
                                                            headers=as_user("inspector")).json["total"] == 0


def test_a_message_start_never_opens_a_case_for_what_is_not_a_child(app, client, as_user):
    """A referral for ``child_id`` -5, "220", markup or an unknown 99999 opened cases keyed ``child:-5`` ...:
    the domain's business key refuses them; the message is kept, unmatched, with the reason."""
    engine = app.extensions["baoxue.engine"]
    engine.repository.deploy_paths([ROOT / "tests" / "engine" / "bpmn" / "corr_referral_start.bpmn"], actor="admin")
    leader = as_user("leader")
    for bad in (-5, 0, "220", "<script>x</script>", 99999):
        sent = client.post("/api/v1/messages", headers=leader, json={"name": "referred", "correlation": {"child_id": bad}})
        assert sent.status_code == 200, sent.json
        assert (sent.json["status"], sent.json["started"]) == ("unmatched", []), bad
    with engine.db.read() as session:
        from engine.persistence.models import ProcessInstance
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
        errors = list(session.scalars(select(Message.last_error)))
    assert len(errors) == 5 and all("not a child's id" in e or "positive whole number" in e for e in errors[:4])
    assert "没有编号为 99999 的儿童" in errors[4]          # a whole number, but no such child in the register
    good = client.post("/api/v1/messages", headers=leader, json={"name": "referred", "correlation": {"child_id": 2}})
    assert len(good.json["started"]) == 1
