"""Attendance hands absences to persuasion cases: one case per child, messages for later days.

``bpmn/persuasion_standin.bpmn`` stands in for processes/persuasion.bpmn (issue 4, built
later): the head teacher's call, and a loop that takes every ``absence_day`` message and
ends the case on ``returned``, both correlated on ``child_id``.
"""
from __future__ import annotations

import logging
from datetime import date
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
        "child_id": 1, "absence_days": 1, "first_absence": "2025-03-07", "trigger": "absence",
        "recent_absences": 1, "intermittent_days": 5, "child_age": 8}   # full years, from the register

    day2 = post_day(client, as_user, "2025-03-10", {1: U}).json     # Monday: the second school day
    assert day2["cases_started"] == []
    assert day2["messages_sent"] == [
        {"child_id": 1, "message": "absence_day", "status": "delivered", "reached": [case_id]}]
    assert received(client, as_user, case_id) == [
        {"name": "absence_day", "correlation": {"child_id": 1}, "payload": {"count": 2, "date": "2025-03-10", "first": "2025-03-07", "recent": 2, "age": 8}}]

    again = post_day(client, as_user, "2025-03-10", {1: U}).json
    assert (again["changed"], again["cases_started"], again["messages_sent"]) == (0, [], [])
    assert len(received(client, as_user, case_id)) == 1 and len(cases(app, 1)) == 1

    day3 = post_day(client, as_user, "2025-03-11", {1: U}).json
    assert [m["reached"] for m in day3["messages_sent"]] == [[case_id]]
    assert received(client, as_user, case_id)[-1]["payload"] == {"count": 3, "date": "2025-03-11", "first": "2025-03-07", "recent": 3, "age": 8}


def test_a_return_reaches_the_open_case_and_a_new_absence_after_it_closed_starts_another(persuasion, client, as_user):
    app = persuasion
    post_day(client, as_user, "2025-03-03", {1: U})
    back = post_day(client, as_user, "2025-03-04", {1: P}).json
    [(case_id, status)] = cases(app, 1)
    assert back["messages_sent"] == [
        {"child_id": 1, "message": "returned", "status": "delivered", "reached": [case_id]}]
    assert status == "completed" and client.get("/api/v1/inbox", headers=as_user("ht31")).json["items"] == []
    # Also the child's 就学状态 and the end of a watch (issue 10 §1: ledger.case_handoff).
    assert received(client, as_user, case_id)[-1]["payload"] == {"date": "2025-03-04", "corrected": False,
                                                               "status": "enrolled",
                                                               "watch_until": "2025-03-18T23:59:59+08:00"}
    assert post_day(client, as_user, "2025-03-05", {1: P}).json["messages_sent"] == []   # nothing to return from
    again = post_day(client, as_user, "2025-03-06", {1: U}).json
    assert [c["instance_id"] for c in again["cases_started"]] == [cases(app, 1)[-1][0]] and len(cases(app, 1)) == 2


def test_excused_absences_never_start_a_case(persuasion, client, as_user):
    for day in ("2025-03-03", "2025-03-04", "2025-03-05"):
        assert post_day(client, as_user, day, {1: E}).json["cases_started"] == []
    assert cases(persuasion, 1) == []


def test_without_the_persuasion_process_the_absence_waits_for_the_deploy(app, town, client, as_user, caplog):
    """Nothing is lost when the process is missing: the event stays pending (logged), and
    the worker's next pass after the deploy starts the case."""
    from ledger.case_handoff import dispatch_pending
    with caplog.at_level(logging.WARNING, logger="ledger.case_handoff"):
        response = post_day(client, as_user, "2025-03-03", {1: U})
    assert response.status_code == 200
    assert response.json["outcomes"][0]["consecutive_unexcused"] == 1 and response.json["cases_started"] == []
    assert [p["child_id"] for p in response.json["pending"]] == [1]
    assert "persuasion" in caplog.text and cases(app, 1) == []
    app.extensions["baoxue.engine"].repository.deploy_paths([STANDIN], actor="admin")
    assert dispatch_pending(app.extensions["baoxue.engine"], ignore_backoff=True) == 1
    assert [status for _, status in cases(app, 1)] == ["active"]


# -- the outbox (issue 8): a crash after the commit, corrections, re-sending -------------

def test_a_crash_after_the_commit_loses_no_case_start(persuasion):
    """The report commits with its events; the process dies before applying them (nothing
    calls apply_handoffs); the worker's next pass starts the case, exactly once."""
    from api.worker import default_jobs, run_due
    from ledger.attendance import record_day
    engine = persuasion.extensions["baoxue.engine"]
    with engine.db.transaction() as session:
        record_day(session, "zx", date(2025, 3, 3), [{"child_id": 1, "status": U}, {"child_id": 2, "status": U}], "pzx")
    assert cases(persuasion, 1) == [] and cases(persuasion, 2) == []
    jobs = [job for job in default_jobs(5.0) if job.name == "outbox"]
    run_due(engine, jobs, now=0.0)
    run_due(engine, jobs, now=10.0)            # a second pass changes nothing
    assert [s for _, s in cases(persuasion, 1)] == ["active"] and [s for _, s in cases(persuasion, 2)] == ["active"]


def test_re_sending_a_day_repairs_a_missing_case_and_duplicates_nothing(persuasion, client, as_user):
    from sqlalchemy import delete

    from ledger.attendance_models import CaseHandoff
    engine = persuasion.extensions["baoxue.engine"]
    post_day(client, as_user, "2025-03-03", {1: U})
    # As if the case had been lost (data from before the outbox, a hand-removed row).
    with engine.db.transaction() as session:
        session.execute(delete(CaseHandoff))
        for instance in session.scalars(select(ProcessInstance)):
            instance.status, instance.business_key = "terminated", None
    again = post_day(client, as_user, "2025-03-03", {1: U}).json
    assert again["changed"] == 0 and [c["child_id"] for c in again["cases_started"]] == [1]
    third = post_day(client, as_user, "2025-03-03", {1: U}).json
    assert third["cases_started"] == [] and third["messages_sent"] == []
    assert [s for _, s in cases(persuasion, 1)] == ["active"]          # one new case, not two


def test_correcting_a_past_day_re_sends_the_count_it_changes(persuasion, client, as_user):
    """Mon absent, Tue reported present by mistake, Wed absent: the case counts 1. Tuesday
    corrected to absent: the run at Wednesday is 3, and the case hears it."""
    post_day(client, as_user, "2025-03-03", {1: U})
    post_day(client, as_user, "2025-03-04", {1: P})
    post_day(client, as_user, "2025-03-05", {1: U})
    fixed = post_day(client, as_user, "2025-03-04", {1: U}).json
    assert fixed["outcomes"][0]["consecutive_unexcused"] == 2          # Tuesday's own run
    sent = [m for m in fixed["messages_sent"] if m["child_id"] == 1]
    assert sent, fixed
    engine = persuasion.extensions["baoxue.engine"]
    (case_id, _), = [c for c in cases(persuasion, 1) if c[1] == "active"]
    events = engine.history.events(case_id)
    import json
    counts = [json.loads(e.data).get("payload", {}).get("count") for e in events if e.kind == "message_received"] + \
             [json.loads(e.data)["variables"].get("absence_days") for e in events if e.kind == "variables_set"]
    assert 3 in counts, counts
