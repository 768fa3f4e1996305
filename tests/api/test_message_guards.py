"""POST /api/v1/messages takes only what a person may send, whole (SQLite and PostgreSQL):
a message the attendance ledger or a case sends itself is a 403 naming who sends it, and a
message without a payload key its catches declare (BPMN ``requiredPayload``) is a 422
naming ``payload.<key>``; either way nothing is stored and no case moves or fails."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from api.settings import ROOT
from engine.persistence.models import Incident, Message

from ..diagrams import process_file

PERSUASION = {"child_id": 1, "absence_days": 1, "recent_absences": 1, "intermittent_days": 5}

# A visit report a person sends to a waiting case; its catch reads report["date"].
REPORT_HEAD = ('<bpmn:message id="msg_report" name="visit_report"/>'
               '<bpmn:correlationProperty id="child_id" name="child_id">'
               '<bpmn:correlationPropertyRetrievalExpression messageRef="msg_report">'
               '<bpmn:formalExpression>child_id</bpmn:formalExpression>'
               '</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>')
REQUIRED = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="requiredPayload" '
            'value="{keys}"/></spiffworkflow:properties></bpmn:extensionElements>')


def _report_process(required: str | None = "date", extra: str = "") -> str:
    needs = REQUIRED.format(keys=required) if required is not None else ""
    return process_file("visit_report", f'''
      <bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="requiredVariables" value="child_id"/></spiffworkflow:properties>
        </bpmn:extensionElements></bpmn:startEvent>
      <bpmn:intermediateCatchEvent id="got_report">{needs}
        <bpmn:messageEventDefinition id="med_report" messageRef="msg_report">
          <bpmn:extensionElements><spiffworkflow:messageVariable>report</spiffworkflow:messageVariable></bpmn:extensionElements>
        </bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>
      <bpmn:scriptTask id="file_report"><bpmn:script>visited_on = report["date"]</bpmn:script></bpmn:scriptTask>
      {extra}
      <bpmn:endEvent id="end"/>
      <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="got_report"/>
      <bpmn:sequenceFlow id="f2" sourceRef="got_report" targetRef="file_report"/>
      <bpmn:sequenceFlow id="f3" sourceRef="file_report" targetRef="end"/>''', head=REPORT_HEAD)


def _deploy(client, as_user, xml: str):
    return client.post("/api/v1/process-definitions", data={"files": [(io.BytesIO(xml.encode()), "report.bpmn")]},
                       content_type="multipart/form-data", headers=as_user("admin"))


def _stored(engine) -> tuple[int, int]:
    with engine.db.read() as session:
        return (session.scalar(select(func.count()).select_from(Message)),
                session.scalar(select(func.count()).select_from(Incident)))


@pytest.mark.parametrize("name,sender", [("returned", "考勤台账"), ("absence_day", "考勤台账"),
                                         ("excused_day", "考勤台账"), ("case_event", "劝返案件"),
                                         ("home_teaching_referral", "process lawful_exit")])
def test_what_the_domain_sends_itself_is_reserved(app, client, as_user, name, sender):
    engine = app.extensions["baoxue.engine"]
    engine.repository.deploy_paths([ROOT / "processes"], actor="admin")
    case = client.post("/api/v1/process-instances", headers=as_user("leader"),
                       json={"process_key": "persuasion", "variables": PERSUASION})
    assert case.status_code == 201, case.json
    case_id, before = case.json["instance_id"], len(engine.history.events(case.json["instance_id"]))
    payload = {"date": "2026-11-30", "watch_until": "2026-12-14T12:00:00+08:00", "count": 2,
               "event": "closed", "outcome": "returned_before_report"}
    for who in ("leader", "admin"):
        sent = client.post("/api/v1/messages", headers=as_user(who),
                           json={"name": name, "correlation": {"child_id": 1}, "payload": payload})
        assert sent.status_code == 403, sent.json
        assert sender in sent.json["errors"]["name"] and name in sent.json["message"]
    assert _stored(engine) == (0, 0)
    assert engine.runtime.get(case_id).status == "active" and len(engine.history.events(case_id)) == before


def test_a_payload_without_what_the_catch_needs_is_422_before_anything_is_stored(app, client, as_user):
    engine = app.extensions["baoxue.engine"]
    assert _deploy(client, as_user, _report_process()).status_code == 201
    leader = as_user("leader")
    case = client.post("/api/v1/process-instances", headers=leader,
                       json={"process_key": "visit_report", "variables": {"child_id": 1}}).json["instance_id"]
    for payload, reason in (({}, "required by the process that receives it"), ({"date": None}, "has no value"),
                            ({"day": "2026-11-30"}, "required by the process that receives it")):
        refused = client.post("/api/v1/messages", headers=leader,
                              json={"name": "visit_report", "correlation": {"child_id": 1}, "payload": payload})
        assert refused.status_code == 422, refused.json
        assert refused.json["errors"] == {"payload.date": reason}
    assert _stored(engine) == (0, 0) and engine.runtime.get(case).status == "active"
    taken = client.post("/api/v1/messages", headers=leader,
                        json={"name": "visit_report", "correlation": {"child_id": 1}, "payload": {"date": "2026-11-30"}})
    assert taken.status_code == 200 and taken.json["reached"] == [case], taken.json
    assert engine.runtime.get(case).status == "completed"


def test_the_persuasion_catches_declare_what_the_ledger_sends(app):
    engine = app.extensions["baoxue.engine"]
    engine.repository.deploy_paths([ROOT / "processes"], actor="admin")
    assert engine.messages.required_payload("returned") == {"date", "watch_until"}
    assert engine.messages.required_payload("absence_day") == {"count", "date"}
    assert engine.messages.required_payload("excused_day") == {"date"}
    assert engine.messages.required_payload("home_teaching_placed") == set()   # its date is optional


@pytest.mark.parametrize("required,extra,said", [
    ("date, 2x", "", "must list payload keys"),
    ("", "", "must list payload keys"),
    (None, '<bpmn:userTask id="note">' + REQUIRED.format(keys="date") + '</bpmn:userTask>', "catches no message"),
    ("date", '<bpmn:intermediateThrowEvent id="echo"><bpmn:messageEventDefinition id="med_echo" '
             'messageRef="msg_report"><bpmn:extensionElements><spiffworkflow:messagePayload>{"child_id": child_id}'
             '</spiffworkflow:messagePayload></bpmn:extensionElements></bpmn:messageEventDefinition>'
             '</bpmn:intermediateThrowEvent>', "without date"),
])
def test_deploy_checks_the_declaration(app, client, as_user, required, extra, said):
    refused = _deploy(client, as_user, _report_process(required, extra))
    assert refused.status_code == 422, refused.json
    assert any(said in error["message"] for error in refused.json["errors"]), refused.json
