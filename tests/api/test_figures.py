"""GET /api/v1/metrics on a town whose answers were worked out by hand (tests/api/figures_town.py,
issue 15 "Figures"): each figure, per unit, the month before, scope (403) and bad input (422)."""
from __future__ import annotations

import pytest

from .figures_town import fig_app  # noqa: F401 - the hand-worked town's app
from .town import token


@pytest.fixture
def get(fig_app):
    client, tokens = fig_app.test_client(), {}

    def fetch(username, **params):
        if username not in tokens:
            tokens[username] = token(client, username)
        return client.get("/api/v1/metrics", headers=tokens[username], query_string=params)
    return fetch


def by_key(data) -> dict:
    return {f["key"]: f for f in data["figures"]}


def ratio(figure) -> tuple:
    return figure["value"], figure["numerator"], figure["denominator"]


def test_october_for_the_town_as_worked_by_hand(get):
    response = get("leader", month="2025-10")
    assert response.status_code == 200, response.json
    data = response.json
    f = by_key(data)
    assert data["month"] == "2025-10" and data["unit"]["code"] == "town"
    assert ratio(f["dropout_rate"]) == (42.9, 3, 7)
    assert ratio(f["return_rate"]) == (50.0, 2, 4)
    assert ratio(f["retention_rate"]) == (80.0, 4, 5)
    assert ratio(f["disabled_placement_rate"]) == (50.0, 1, 2)
    assert f["open_cases"]["value"] == 2
    assert {t["key"]: t["count"] for t in f["open_cases"]["by_tier"]} == {
        "school": 1, "village": 0, "town": 1, "follow_up": 0}
    assert f["open_cases"]["by_age"] == [{"age": 9, "count": 1}, {"age": 13, "count": 1}]
    assert f["overdue_tasks"]["value"] == 1
    assert f["overdue_tasks"]["by_unit"] == [{"unit": "zx", "name": "蛟潭中心学校", "count": 1}]
    assert f["median_days_to_return"]["value"] == 25.0 and f["median_days_to_return"]["days"] == [13, 37]
    assert ratio(f["redropout_90d"]) == (50.0, 1, 2) and f["redropout_90d"]["watching"] == 2
    for figure in data["figures"]:
        assert figure["label_zh"] and figure["formula_zh"], figure["key"]
    assert "测试儿童" not in response.get_data(as_text=True) and "张小明" not in response.get_data(as_text=True)


def test_october_per_school_and_village(get):
    rows = {row["unit"]: row["figures"] for row in get("inspector", month="2025-10").json["by_unit"]}
    assert set(rows) == {"zx", "fg", "v-jt", "v-fg"}
    expected = {  # unit: dropout, return, retention, placement as (value, numerator, denominator)
        "zx": ((33.3, 1, 3), (50.0, 1, 2), (100.0, 2, 2), (0.0, 0, 1)),
        "fg": ((33.3, 1, 3), (50.0, 1, 2), (66.7, 2, 3), (100.0, 1, 1)),
        "v-jt": ((75.0, 3, 4), (33.3, 1, 3), (50.0, 1, 2), (0.0, 0, 1)),
        "v-fg": ((0.0, 0, 3), (100.0, 1, 1), (100.0, 3, 3), (100.0, 1, 1)),
    }
    for unit, figures in expected.items():
        got = tuple(ratio(rows[unit][key]) for key in
                    ("dropout_rate", "return_rate", "retention_rate", "disabled_placement_rate"))
        assert got == figures, unit
    assert rows["zx"]["overdue_tasks"]["value"] == 1 and rows["fg"]["overdue_tasks"]["value"] == 0
    assert rows["zx"]["open_cases"]["value"] == 2 and rows["v-fg"]["open_cases"]["value"] == 1


def test_september_and_the_trend(get):
    data = get("county", month="2025-09").json
    f = by_key(data)
    assert ratio(f["dropout_rate"]) == (28.6, 2, 7)
    assert ratio(f["return_rate"]) == (0.0, 0, 3)
    assert f["open_cases"]["value"] == 1 and f["open_cases"]["by_tier"][2] == {
        "key": "town", "label_zh": "镇级督办", "count": 1}
    trend = {row["month"]: row for row in get("county", month="2025-10").json["trend"]}
    assert list(trend)[-2:] == ["2025-09", "2025-10"] and len(trend) == 6
    assert trend["2025-09"]["dropout_rate"] == {"value": 28.6, "numerator": 2, "denominator": 7}
    assert trend["2025-10"]["return_rate"] == {"value": 50.0, "numerator": 2, "denominator": 4}


def test_a_unit_head_sees_their_unit_only(get):
    principal = get("pzx", month="2025-10")
    assert principal.status_code == 200 and principal.json["unit"]["code"] == "zx"
    assert [u["code"] for u in principal.json["units"]] == ["zx"] and principal.json["by_unit"] == []
    assert ratio(by_key(principal.json)["dropout_rate"]) == (33.3, 1, 3)
    secretary = get("vsjt", month="2025-10", unit="v-jt")
    assert secretary.status_code == 200 and ratio(by_key(secretary.json)["return_rate"]) == (33.3, 1, 3)
    for username, unit in (("pzx", "town"), ("pzx", "fg"), ("pzx", "v-jt"), ("vsjt", "v-fg"), ("vsjt", "zx")):
        assert get(username, month="2025-10", unit=unit).status_code == 403, (username, unit)
    for username in ("ht31", "regzx", "admin"):
        assert get(username, month="2025-10").status_code == 403, username
    assert get("town", month="2025-10", unit="fg").status_code == 200        # the town government: all units


@pytest.mark.parametrize("params, field", [
    ({"month": "2025-13"}, "month"), ({"month": "october"}, "month"), ({"month": "2025-1"}, "month"),
    ({"month": "2025-12"}, "month"), ({"month": "1999-12"}, "month"),
    ({"unit": "nowhere"}, "unit"), ({"unit": "zx-3-1"}, "unit"), ({"unit": "x" * 300}, "unit")])
def test_bad_month_or_unit_is_a_422_naming_the_field(get, params, field):
    response = get("leader", **params)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
