"""Attendance hands absences to persuasion cases: one case per child, messages for later days.

``bpmn/persuasion_standin.bpmn`` stands in for processes/persuasion.bpmn (issue 4, built
later): the head teacher's call, and a loop that takes every ``absence_day`` message and
ends the case on ``returned``, both correlated on ``child_id``.
"""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.persistence.models import ProcessInstance

from .attendance_helpers import E, P, U, post_day

STANDIN = Path(__file__).parent / "bpmn" / "persuasion_standin.bpmn"


@pytest.fixture
def persuasion(app, town):
    app.extensions["baoxue.engine"].repository.deploy_paths([STANDIN], actor="admin")
    return app


def cases(app, child_id: int) -> list[tuple[int, str]]:
    with app.extensions["baoxue.engine"].db.read() as session:
        rows = session.scalars(select(ProcessInstance).where(ProcessInstance.business_key == f"child:{child_id}")
                               .order_by(ProcessInstance.id))
        return [(r.id, r.status) for r in rows]


def received(client, as_user, instance_id: int) -> list[dict]:
    events = client.get(f"/api/v1/process-instances/{instance_id}/events", headers=as_user("inspector")).json
    return [e["data"] for e in events["events"] if e["kind"] == "message_received"]


def test_day_one_starts_a_case_and_later_days_reach_it(persuasion, client, as_user):
    app = persuasion
    day1 = post_day(client, as_user, "2025-03-07", {1: U, 2: P}).json
    [(case_id, status)] = cases(app, 1)
    assert day1["cases_started"] == [{"child_id": 1, "instance_id": case_id}] and status == "active"
    assert day1["messages_sent"] == [] and cases(app, 2) == []
    inbox = client.get("/api/v1/inbox", headers=as_user("ht31")).json["items"]
    assert [(t["name"], t["instance_id"]) for t in inbox] == [("call_guardian", case_id)]
    started = client.get(f"/api/v1/process-instances/{case_id}/events", headers=as_user("inspector")).json
    assert started["events"][0]["data"]["variables"] == {
        "child_id": 1, "absence_days": 1, "first_absence": "2025-03-07", "trigger": "absence"}

    day2 = post_day(client, as_user, "2025-03-10", {1: U}).json     # Monday: the second school day
    assert day2["cases_started"] == []
    assert day2["messages_sent"] == [
        {"child_id": 1, "message": "absence_day", "status": "delivered", "reached": [case_id]}]
    assert received(client, as_user, case_id) == [
        {"name": "absence_day", "correlation": {"child_id": 1}, "payload": {"count": 2, "date": "2025-03-10", "first": "2025-03-07"}}]

    again = post_day(client, as_user, "2025-03-10", {1: U}).json
    assert (again["changed"], again["cases_started"], again["messages_sent"]) == (0, [], [])
    assert len(received(client, as_user, case_id)) == 1 and len(cases(app, 1)) == 1

    day3 = post_day(client, as_user, "2025-03-11", {1: U}).json
    assert [m["reached"] for m in day3["messages_sent"]] == [[case_id]]
    assert received(client, as_user, case_id)[-1]["payload"] == {"count": 3, "date": "2025-03-11", "first": "2025-03-07"}


def test_a_return_reaches_the_open_case_and_a_new_absence_after_it_closed_starts_another(persuasion, client, as_user):
    app = persuasion
    post_day(client, as_user, "2025-03-03", {1: U})
    back = post_day(client, as_user, "2025-03-04", {1: P}).json
    [(case_id, status)] = cases(app, 1)
    assert back["messages_sent"] == [
        {"child_id": 1, "message": "returned", "status": "delivered", "reached": [case_id]}]
    assert status == "completed" and client.get("/api/v1/inbox", headers=as_user("ht31")).json["items"] == []
    assert received(client, as_user, case_id)[-1]["payload"] == {"date": "2025-03-04", "corrected": False}
    assert post_day(client, as_user, "2025-03-05", {1: P}).json["messages_sent"] == []   # nothing to return from
    again = post_day(client, as_user, "2025-03-06", {1: U}).json
    assert [c["instance_id"] for c in again["cases_started"]] == [cases(app, 1)[-1][0]] and len(cases(app, 1)) == 2


def test_excused_absences_never_start_a_case(persuasion, client, as_user):
    for day in ("2025-03-03", "2025-03-04", "2025-03-05"):
        assert post_day(client, as_user, day, {1: E}).json["cases_started"] == []
    assert cases(persuasion, 1) == []


def test_without_the_persuasion_process_attendance_is_stored_and_the_gap_logged(client, town, as_user, caplog):
    with caplog.at_level(logging.WARNING, logger="ledger.attendance_cases"):
        response = post_day(client, as_user, "2025-03-03", {1: U})
    assert response.status_code == 200
    assert response.json["outcomes"][0]["consecutive_unexcused"] == 1 and response.json["cases_started"] == []
    assert "process 'persuasion' is not deployed" in caplog.text
