"""/dashboard in Chromium: ECharts (from /vendor/echarts/) draws every chart on a canvas under
the page's CSP, with no console error (a refused inline style or script would be one)."""
from __future__ import annotations

from playwright.sync_api import expect

from ledger.models import Child

from .conftest import served_town
from .signin import signed_in


def test_the_charts_render_without_console_errors(chromium, tmp_path):
    with served_town(tmp_path, "dashboard.db") as (town, base):
        with town.engine.db.transaction() as session:
            session.get(Child, 4).enrolment_status = "not_enrolled"       # a dropout rate above 0
        with signed_in(chromium, base, "leader", width=1024) as page:
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"{base}/dashboard")
            charts = page.locator("[data-chart]")
            expect(charts.first).to_be_visible()
            count = charts.count()
            assert count >= 6
            for index in range(count):
                expect(charts.nth(index).locator("canvas")).to_have_count(1)
            assert page.locator('tr[data-key="dropout_rate"]').inner_text().count("25.0%") == 1   # 1 of 4
            page.get_by_role("link", name="统计").click()
            expect(page).to_have_url(f"{base}/dashboard")
            assert problems == []
