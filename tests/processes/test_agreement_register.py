"""The register (issue 12), on the page and in the API: pages of lines with totals, the Excel
export complete whatever the page, ``school_year`` the same name on both (``year`` still
works), and every bad filter a 422 naming its field, never a 500. SQLite and PostgreSQL."""
from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from .agreements_case import STAFF, UNITS, YEAR, launch, pages_as, register, sign_unit

BAD = [({"school_year": "2025"}, "school_year"), ({"year": "2025-2027"}, "school_year"),
       ({"school_year": YEAR, "year": "2024-2025"}, "school_year"), ({"unit": "nowhere"}, "unit"),
       ({"status": "late"}, "status"), ({"tier": "3"}, "tier"), ({"tier": "one"}, "tier"),
       ({"page": "0"}, "page"), ({"page": "x"}, "page"), ({"page": "9" * 5000}, "page"),
       ({"per_page": "500"}, "per_page"), ({"per_page": "-1"}, "per_page")]


@pytest.fixture
def signing(scenario):
    """Every unit has signed: 4 tier-1 agreements signed, 5 staff signings pending."""
    launch(scenario)
    for unit in UNITS:
        sign_unit(scenario, unit)
    return scenario


def test_the_api_pages_the_register_and_counts_every_line(signing):
    town = signing
    everything = register(town)
    assert (everything["total"], everything["counts"]["total"], everything["pages"]) == (9, 9, 1)
    seen = []
    for page in (1, 2, 3):
        data = register(town, per_page=4, page=page)
        assert (data["total"], data["page"], data["per_page"], data["pages"]) == (9, page, 4, 3)
        assert data["counts"] == everything["counts"]
        seen += [item["ref"] for item in data["items"]]
    assert seen == [item["ref"] for item in everything["items"]]        # each line once, in order
    assert register(town, per_page=4, page=4)["items"] == []
    pending = register(town, status="pending", per_page=2, page=3)
    assert (pending["total"], pending["pages"], len(pending["items"])) == (5, 3, 1)
    assert pending["counts"]["total"] == 9 and pending["counts"]["signed"] == 4
    export = town.client.get("/api/v1/agreements/export.xlsx", headers=town.headers("leader"),
                             query_string={"per_page": 1, "page": 2})
    rows = list(load_workbook(BytesIO(export.data)).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 9                                           # the export is never paged


def test_school_year_is_the_same_name_on_the_page_and_the_api_and_year_still_works(signing):
    town = signing
    assert register(town, school_year=YEAR)["school_year"] == register(town, year=YEAR)["school_year"] == YEAR
    assert register(town, school_year="2024-2025")["items"] == []        # a year without a campaign
    page = pages_as(town, "leader")
    for name in ("school_year", "year"):
        html = page.get(f"/agreements?{name}={YEAR}&tier=2&per_page=2").get_data(as_text=True)
        assert f"{YEAR} 学年" in html and "第 1 / 3 页" in html
        assert f"/agreements?school_year={YEAR}&amp;tier=2&amp;per_page=2&amp;page=2" in html
    html = page.get(f"/agreements?school_year={YEAR}&tier=2&per_page=2&page=3").get_data(as_text=True)
    assert "第 3 / 3 页" in html and html.count('data-label="单位"') == 1
    assert 'name="school_year"' in html and 'name="year"' not in html
    assert f"/agreements/export.xlsx?school_year={YEAR}&amp;tier=2&amp;per_page=2\"" in html
    export = page.get(f"/agreements/export.xlsx?school_year={YEAR}&tier=2&per_page=2&page=3")
    people = {row[4] for row in list(load_workbook(BytesIO(export.data)).active.iter_rows(values_only=True))[1:]}
    assert people == {name.upper() for names in STAFF.values() for name in names}


def test_every_bad_filter_is_refused_with_its_field_on_the_page_and_the_api(signing):
    town = signing
    page = pages_as(town, "leader")
    for query, field in BAD:
        for path in ("/api/v1/agreements", "/api/v1/agreements/export.xlsx"):
            response = town.client.get(path, headers=town.headers("leader"), query_string=query)
            assert response.status_code == 422, (query, path, response.json)
            assert list(response.json["errors"]) == [field], (query, path)
        for path in ("/agreements", "/agreements/export.xlsx"):
            response = page.get(path, query_string=query)
            assert response.status_code == 422, (query, path)
            assert "筛选条件不正确" in response.get_data(as_text=True)


def test_a_bad_filter_on_the_page_shows_the_register_by_the_others_with_the_reason_beside_it(signing):
    town = signing
    page = pages_as(town, "leader")
    response = page.get("/agreements?tier=abc&status=pending")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-tier"' in html and "层级应为正整数" in html          # the reason beside the tier filter
    table = html.split("<table")[1]
    assert table.count('data-label="单位"') == 5 and "已签订" not in table   # status=pending kept: the 5 staff
    assert '<option value="pending" selected>' in html
    response = page.get("/agreements?unit=nowhere&tier=1")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="e-unit"' in html
    assert html.split("<table")[1].count('data-label="单位"') == 4                 # tier 1 kept


def test_a_page_beyond_the_last_says_so_and_links_the_last(signing):
    town = signing
    html = pages_as(town, "leader").get("/agreements?page=999&tier=2&per_page=2").get_data(as_text=True)
    assert "没有符合条件的责任书" not in html
    assert "第 999 页超出范围：符合条件的 5 份共 3 页" in html
    assert "/agreements?school_year=2025-2026&amp;tier=2&amp;per_page=2&amp;page=3" in html
