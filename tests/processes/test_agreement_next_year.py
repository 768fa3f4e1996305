"""Next school year's campaign opened in December (issue 12 review): the deadline is bound to
the school year (within it, at most 180 days after its start), not to today, and the default
deadline is valid; the review form takes the same bounds."""
from __future__ import annotations

from .agreements_case import YEAR, launch


def _open(town, body):
    return town.client.post("/api/v1/agreements/campaigns", headers=town.headers("deputy"), json=body)


def test_next_years_campaign_opens_in_december_with_a_deadline_in_its_autumn_term(scenario):
    town = scenario
    launch(town)                                       # this year's, in September: default bounds hold
    town.at("2025-12-01", 10)
    early = _open(town, {"school_year": "2026-2027", "deadline": "2026-05-01"})
    assert early.status_code == 422 and "2026-08-01 至 2027-07-31" in early.json["errors"]["deadline"]
    late = _open(town, {"school_year": "2026-2027", "deadline": "2027-03-01"})
    assert late.status_code == 422 and "2027-01-28" in late.json["errors"]["deadline"], late.json
    chosen = _open(town, {"school_year": "2026-2027", "deadline": "2026-09-15"})
    assert chosen.status_code == 201, chosen.json      # before: refused "不能晚于 2026-05-30"
    # The review form: the same bounds, relative to the year.
    task = next(t for t in town.inbox("livelihood") if t["name"] == "review_campaign"
                and t["instance_id"] == chosen.json["instance_id"])
    def review(deadline):
        return town.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=town.headers("livelihood"),
                                json={"data": {"dropout_target": 0, "return_target": 100, "deadline": deadline,
                                               "launch": True}})
    too_late = review("2027-02-01")
    assert too_late.status_code == 422 and "2027-01-28" in too_late.json["errors"]["deadline"], too_late.json
    assert review("2026-10-30").status_code == 200


def test_the_default_deadline_is_valid_for_this_year_and_the_next(scenario):
    town = scenario
    town.at("2025-12-01", 10)
    current = _open(town, {"school_year": YEAR})
    assert current.status_code == 201, current.json
    following = _open(town, {"school_year": "2026-2027"})  # no deadline typed: 20 working days from 1 August
    assert following.status_code == 201, following.json
    variables = town.data(following.json["instance_id"])
    assert "2026-08-01" <= variables["deadline"] <= variables["deadline_latest"] == "2027-01-28"
    assert town.data(current.json["instance_id"])["deadline"] > "2025-12-01"
