"""A responsibility-agreement campaign (issue 12) driven through the REST API, shared by the
agreement scenario tests: the scenario town (two schools, two villages) with two grid workers
added. Dates: 2025-09-01 is a Monday; the deadline 2025-09-19 a Friday, so the reminder (3
working days before) is due 2025-09-16 09:00."""
from __future__ import annotations

from ledger.accounts import create_user
from ledger.agreement_check import after_step
from tests.api.town import PASSWORD
from tests.web.conftest import sign_in

YEAR = "2025-2026"
DEADLINE = "2025-09-19"
UNITS = {"zx": "pzx", "fg": "pfg", "v-jt": "vsjt", "v-fg": "vsfg"}
STAFF = {"zx": ["ht31", "ht32"], "fg": ["ht11"], "v-jt": ["gwjt"], "v-fg": ["gwfg"]}


def grid_workers(town) -> None:
    with town.engine.db.transaction() as session:
        for username, village in (("gwjt", "v-jt"), ("gwfg", "v-fg")):
            create_user(session, username, username.upper(), PASSWORD, now=town.clock(),
                        roles=[("grid_worker", village)])


def launch(town, deadline: str = DEADLINE, *, with_grid_workers: bool = True) -> dict:
    """Open the campaign (livelihood office) and launch it from the review task."""
    if with_grid_workers:
        grid_workers(town)
    town.at("2025-09-01", 9)
    response = town.client.post("/api/v1/agreements/campaigns", headers=town.headers("livelihood"),
                                json={"school_year": YEAR, "deadline": deadline})
    assert response.status_code == 201, response.json
    town.complete("livelihood", "review_campaign",
                  {"dropout_target": 0, "return_target": 100, "deadline": deadline, "launch": True})
    return response.json


def sign_unit(town, unit: str, countersign: bool = True) -> None:
    town.complete(UNITS[unit], "sign_unit", {"decision": "accept", "signer_name": UNITS[unit].upper()})
    if countersign:
        town.complete("leader", "countersign", {"countersign_decision": "countersign", "countersigner_name": "LEADER"})


def own_signing(town, username: str) -> dict:
    """One's own open signing: created claimed by that person, and listed in their inbox only
    (a co-head teacher of the same class does not see it)."""
    mine = [t for t in town.inbox(username) if t["name"] == "sign_personal" and t["assignee"] == username]
    assert len(mine) == 1, town.inbox(username)
    return mine[0]


def sign_person(town, username: str, data: dict | None = None) -> dict:
    """Answer one's own signing (accept, by default); returns the completion's response."""
    response = town.client.post(f"/api/v1/tasks/{own_signing(town, username)['task_id']}/complete",
                                headers=town.headers(username),
                                json={"data": data or {"decision": "accept", "signer_name": username.upper()}})
    assert response.status_code == 200, response.json
    return response.json


def countersign_person(town, username: str) -> dict:
    """The unit's head countersigns ``username``'s signed agreement (tier 2, review M11)."""
    unit = next(unit for unit, staff in STAFF.items() if username in staff)
    head = UNITS[unit]
    task = next(t for t in town.inbox(head) if t["name"] == "countersign_person"
                and t["party"]["ref"] == f"{YEAR}/{unit}/{username}")
    response = town.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=town.headers(head),
                                json={"data": {"countersign_decision": "countersign", "countersigner_name": head.upper()}})
    assert response.status_code == 200, response.json
    return response.json


def refuse_person(town, username: str, reason: str) -> dict:
    return sign_person(town, username, {"decision": "refuse", "signer_name": username.upper(),
                                        "refusal_reason": reason})


def register(town, user: str = "leader", **query) -> dict:
    response = town.client.get("/api/v1/agreements", headers=town.headers(user), query_string=query)
    assert response.status_code == 200, response.json
    return response.json


def by_ref(data: dict) -> dict:
    return {item["ref"]: item for item in data["items"]}


def fire(town, day: str, hour: int = 16) -> None:
    town.pass_until(day, hour)
    after_step(town.engine)


def pages_as(town, username: str):
    """A test client of the staff pages signed in as ``username``."""
    client = town.app.test_client()
    response = sign_in(client, username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
