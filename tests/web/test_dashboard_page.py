"""/dashboard (统计): the tables under the charts carry the hand-worked numbers
(tests/api/figures_town.py), the picker's scope, the Chinese 403 and 422, the nav link, and
ECharts served from node_modules."""
from __future__ import annotations

import re

import pytest

from tests.api.figures_town import fig_app  # noqa: F401 - the hand-worked town's app

from .conftest import sign_in


@pytest.fixture
def page(fig_app):
    def open_as(username: str, **params):
        client = fig_app.test_client()
        assert sign_in(client, username).status_code == 302
        return client.get("/dashboard", query_string=params)
    return open_as


def row(html: str, attribute: str) -> str:
    match = re.search(rf'<tr {attribute}>(.*?)</tr>', html, re.S)
    assert match, attribute
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "|", match.group(1)))


def test_the_tables_show_the_hand_worked_figures(page):
    response = page("leader", month="2025-10")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "42.9%" in row(html, 'data-key="dropout_rate"') and "3/7" in row(html, 'data-key="dropout_rate"')
    assert "50.0%" in row(html, 'data-key="return_rate"') and "2/4" in row(html, 'data-key="return_rate"')
    assert "80.0%" in row(html, 'data-key="retention_rate"') and "4/5" in row(html, 'data-key="retention_rate"')
    assert "1/2" in row(html, 'data-key="disabled_placement_rate"')
    assert row(html, 'data-tier="school"').endswith("|1|") and row(html, 'data-tier="town"').endswith("|1|")
    assert row(html, 'data-age="13"') == "|13||1|"
    assert row(html, 'data-overdue="zx"') == "|蛟潭中心学校||1|"
    assert "25.0天" in row(html, 'data-key="median_days_to_return"')
    assert "75.0%（3/4）" in row(html, 'data-unit="v-jt"')
    assert "辍学率 = 月末就学状态为辍学或失学的儿童数" in html            # the formula under its chart
    assert html.count('class="chart"') >= 6 and "/vendor/echarts/echarts.min.js" in html
    assert "<script>" not in html                                       # no inline script (CSP)
    assert ">统计</a>" in html and "测试儿童" not in html


def test_a_principal_picks_only_their_school(page):
    html = page("pzx", month="2025-10").get_data(as_text=True)
    assert re.findall(r'<option value="([^"]+)"', html) == ["zx"]
    assert "33.3%" in row(html, 'data-key="dropout_rate"') and 'data-table="by_unit"' not in html
    refused = page("pzx", month="2025-10", unit="fg")
    assert refused.status_code == 403 and "无权查看" in refused.get_data(as_text=True)


def test_a_head_teacher_has_no_figures_and_no_link(page):
    response = page("ht31")
    assert response.status_code == 403
    assert ">统计</a>" not in response.get_data(as_text=True)


def test_a_bad_month_says_why_beside_the_picker(page):
    response = page("leader", month="2025-13", unit="nowhere")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-month"' in html and "YYYY-MM" in html and 'id="e-unit"' in html and "nowhere" in html
    assert 'data-key="dropout_rate"' in html                             # the current month shown instead


def test_echarts_is_served_from_node_modules(fig_app):
    client = fig_app.test_client()
    response = client.get("/vendor/echarts/echarts.min.js")
    assert response.status_code == 200, "node_modules/echarts missing: run make install"
    assert b"echarts" in response.data[:2000]
    assert client.get("/vendor/echarts/../package.json").status_code == 404
    assert client.get("/vendor/echarts/echarts.js").status_code == 404
