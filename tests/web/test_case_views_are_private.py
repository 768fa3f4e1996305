"""Looking at a case is logged and never cached (issue 8): the task page, ``GET
/api/v1/tasks/<id>`` and ``GET /api/v1/process-instances/<id>/events`` each write an access-log
row; every page and API answer but static files says ``Cache-Control: no-store``."""
from __future__ import annotations

from .pages_helpers import access_log


def test_opening_a_task_on_the_page_and_over_the_api_is_logged(town, browser, as_user, home_visit):
    task_id = home_visit(child_id=1)
    instance_id = town.extensions["baoxue.engine"].tasks.get(task_id).instance_id
    assert access_log(town, "child:1") == []
    assert browser("ht31").get(f"/tasks/{task_id}").status_code == 200
    assert browser("pzx").get(f"/tasks/{task_id}").status_code == 200        # a supervisor's look counts too
    assert town.test_client().get(f"/api/v1/tasks/{task_id}", headers=as_user("ht31")).status_code == 200
    task_view = {"view": "task", "instance_id": instance_id, "task_id": task_id}
    # The candidate sees the child's name and gender (docs/privacy.md), the supervisor masked values.
    candidate_view = {**task_view, "fields": ["gender", "name"]}
    assert access_log(town, "child:1") == [("ht31", "reveal", candidate_view), ("pzx", "view", task_view),
                                           ("ht31", "reveal", candidate_view)]


def test_reading_a_cases_events_is_logged_and_a_refused_look_is_not(town, as_user, home_visit):
    task_id = home_visit(child_id=2)
    instance_id = town.extensions["baoxue.engine"].tasks.get(task_id).instance_id
    client = town.test_client()
    assert client.get(f"/api/v1/process-instances/{instance_id}/events", headers=as_user("ht31")).status_code == 404
    assert access_log(town, "child:2") == []                                  # not shown, not logged
    shown = client.get(f"/api/v1/process-instances/{instance_id}/events", headers=as_user("inspector"))
    assert shown.status_code == 200 and shown.json["events"]
    assert access_log(town, "child:2") == [("inspector", "view", {"view": "case_events", "instance_id": instance_id})]


def test_pages_and_api_answers_are_not_stored_but_static_files_may_be(town, browser, as_user, home_visit):
    task_id = home_visit()
    ht31 = browser("ht31")
    client = town.test_client()
    answers = [ht31.get(f"/tasks/{task_id}"), ht31.get("/inbox"), ht31.get("/children/1"), ht31.get("/nowhere"),
               client.get("/login"), client.get(f"/api/v1/tasks/{task_id}", headers=as_user("ht31")),
               client.get("/api/v1/me", headers=as_user("ht31")), client.get("/api/v1/inbox"),
               client.get("/api/openapi.json"), client.get("/healthz")]
    assert [a.headers.get("Cache-Control") for a in answers] == ["no-store"] * len(answers)
    static = client.get("/static/baoxue.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")
