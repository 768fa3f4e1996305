"""A person and the attendance ledger change one persuasion case at the same moment (issue 8):
both answer 200 (or the person a 409 to reload), the absence always reaches the case.
The full version with 150 cases and 24 threads: ``python -m tests.stress.race``."""
from __future__ import annotations

import threading

from .forms_data import CALL

U = "absent_unexcused"


def _heard_day_two(town, instance_id) -> bool:
    for event in town.audit(instance_id):
        if event.kind == "message_received" and event.data.get("payload", {}).get("count") == 2:
            return True
        if event.kind == "variables_set" and event.data.get("variables", {}).get("absence_days") == 2:
            return True
    return False


def test_the_call_and_the_next_absence_at_once(scenario):
    town = scenario
    town.report("2025-09-29", {1: U})
    town.at("2025-09-30")
    task = town.task("ht31", "phone_call")
    headers = {"ht31": town.headers("ht31"), "pzx": town.headers("pzx")}
    answers, barrier = {}, threading.Barrier(2)

    def complete():
        client = town.app.test_client()
        barrier.wait()
        answers["complete"] = client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=headers["ht31"],
                                          json={"data": CALL}).status_code

    def report():
        client = town.app.test_client()
        barrier.wait()
        answers["report"] = client.post("/api/v1/attendance", headers=headers["pzx"], json={
            "school_code": "zx", "date": "2025-09-30", "records": [{"child_id": 1, "status": U}]}).status_code

    threads = [threading.Thread(target=complete), threading.Thread(target=report)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {"complete": 200, "report": 200}
    case = town.case(1)
    assert case.status == "active" and _heard_day_two(town, case.id)
    assert [e.element_id for e in town.audit(case.id, "task_completed")] == ["phone_call"]
