"""A campaign's deadline lies in its school year, and the register opens on the current one
(issue 12 review M7). 2026-06-19 is in school year 2025-2026; 2026-2027 begins 2026-08-01.
REST API and pages, SQLite and PostgreSQL."""
from __future__ import annotations

from .agreements_case import grid_workers, pages_as, register

NEXT, CURRENT = "2026-2027", "2025-2026"


def _open(town, school_year: str, deadline: str | None):
    body = {"school_year": school_year, **({"deadline": deadline} if deadline else {})}
    return town.client.post("/api/v1/agreements/campaigns", headers=town.headers("livelihood"), json=body)


def test_next_years_deadline_before_that_year_begins_is_refused(scenario):
    town = scenario
    town.at("2026-06-19", 9)
    refused = _open(town, NEXT, "2026-07-10")
    assert refused.status_code == 422 and set(refused.json["errors"]) == {"deadline"}
    assert "2026-08-01" in refused.json["errors"]["deadline"]
    assert register(town, school_year=NEXT)["campaign"] is None                 # nothing kept
    opened = _open(town, NEXT, None)                                            # the default: in the year
    assert opened.status_code == 201, opened.json
    assert register(town, school_year=NEXT)["campaign"]["deadline"] >= "2026-08-01"


def test_the_review_form_keeps_the_deadline_in_the_school_year(scenario):
    town = scenario
    town.at("2026-06-19", 9)
    assert _open(town, NEXT, "2026-09-18").status_code == 201
    review = {"dropout_target": 0, "return_target": 100, "launch": True}
    errors = town.refused("livelihood", "review_campaign", {**review, "deadline": "2026-07-30"})
    assert set(errors) == {"deadline"} and "学年开始日" in errors["deadline"] and "2026-08-01" in errors["deadline"]
    town.complete("livelihood", "review_campaign", {**review, "deadline": "2026-09-18"})
    assert register(town, school_year=NEXT)["campaign"]["status"] == "signing"


def test_the_register_opens_on_the_current_school_year(scenario):
    town = scenario
    grid_workers(town)
    town.at("2026-06-19", 9)
    assert _open(town, NEXT, "2026-09-18").status_code == 201                  # next year's, in review
    data = register(town)
    assert data["school_year"] == CURRENT and data["campaign"] is None
    page = pages_as(town, "leader").get("/agreements").get_data(as_text=True)
    assert f"{CURRENT} 学年尚未发起目标责任书签订" in page and f"/agreements?school_year={NEXT}" in page

    late = _open(town, CURRENT, "2026-08-10")                                   # after the year's last day
    assert late.status_code == 422 and "2026-07-31" in late.json["errors"]["deadline"]
    assert _open(town, CURRENT, "2026-06-30").status_code == 201
    review = next(t for t in town.inbox("livelihood") if t["name"] == "review_campaign"
                  and town.data(t["instance_id"])["school_year"] == CURRENT)
    refused = town.client.post(f"/api/v1/tasks/{review['task_id']}/complete", headers=town.headers("livelihood"),
                               json={"data": {"dropout_target": 0, "return_target": 100, "deadline": "2026-08-10",
                                              "launch": True}})
    assert refused.status_code == 422 and "学年最后一天（2026-07-31）" in refused.json["errors"]["deadline"]
    done = town.client.post(f"/api/v1/tasks/{review['task_id']}/complete", headers=town.headers("livelihood"),
                            json={"data": {"dropout_target": 0, "return_target": 100, "deadline": "2026-06-30",
                                           "launch": True}})
    assert done.status_code == 200, done.json
    data = register(town)
    assert data["school_year"] == CURRENT and data["campaign"]["status"] == "signing" and data["counts"]["total"] == 4
    page = pages_as(town, "leader").get(f"/agreements?school_year={NEXT}").get_data(as_text=True)
    assert "尚在审核" in page
