"""The verbs of a quarterly inspection scenario (issue 13): open a round, inspect a unit,
and the findings forms' data."""
from __future__ import annotations

from ledger.demo_inspection import findings as demo_findings


def start(town, year=2025, quarter=3, user="leader", status=201) -> dict:
    response = town.client.post("/api/v1/inspections/rounds", headers=town.headers(user),
                                json={"year": year, "quarter": quarter})
    assert response.status_code == status, response.json
    return response.json


def findings(day: str, failing: dict | None = None) -> dict:
    """Every item 合格, except ``failing`` {item: note} 不合格 with its note."""
    return demo_findings(day, failing or {})


def unit_task(town, username: str, element_id: str, unit_name: str) -> dict:
    """The user's open ``element_id`` task about the unit named ``unit_name`` (the inbox row's party)."""
    found = [item for item in town.inbox(username)
             if item["name"] == element_id and (item.get("party") or {}).get("unit_name") == unit_name]
    assert len(found) == 1, [(i["name"], (i.get("party") or {}).get("unit_name")) for i in town.inbox(username)]
    return found[0]


def complete_for(town, username: str, element_id: str, unit_name: str, data: dict, status: int = 200) -> dict:
    task = unit_task(town, username, element_id, unit_name)
    response = town.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=town.headers(username),
                                json={"data": data})
    assert response.status_code == status, response.json
    return response.json
