"""Pages and the REST API share one set of task rules (api/taskactions.py)."""
from __future__ import annotations

from .test_task_page import GOOD


def test_rest_and_pages_agree_on_who_may_see_claim_and_complete(client, as_user, browser, home_visit):
    task_id = home_visit()
    assert client.get(f"/api/v1/tasks/{task_id}", headers=as_user("ht32")).status_code == 404
    assert browser("ht32").get(f"/tasks/{task_id}").status_code == 404
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=as_user("pzx")).status_code == 403
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=as_user("ht31")).status_code == 200
    assert client.post(f"/api/v1/tasks/{task_id}/unclaim", headers=as_user("vsjt")).status_code == 404
    assert client.post(f"/api/v1/tasks/{task_id}/unclaim", headers=as_user("pzx")).status_code == 200
    bad = client.post(f"/api/v1/tasks/{task_id}/complete", headers=as_user("ht31"), json={"data": {}})
    assert bad.status_code == 422 and bad.json["errors"]["summary"] == "此项为必填项"
    data = {**GOOD, "contacted": False, "family_size": 5, "distance_km": 2.5, "confirmed": True}
    done = client.post(f"/api/v1/tasks/{task_id}/complete", headers=as_user("ht31"), json={"data": data})
    assert done.status_code == 200 and done.json["handed_to"] == ["村（场、社区）书记 蛟潭村"]
    assert client.post(f"/api/v1/tasks/{task_id}/complete", headers=as_user("ht31"),
                       json={"data": data}).status_code == 409
