"""An inspector finds cases on /instances by filters and counts, and opens one (issue 13)."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.api.case_list_town import build_cases

from .signin import signed_in


def test_the_inspector_filters_the_list_and_opens_a_case(live_app, chromium):
    base, engine = live_app.config["LIVE_URL"], live_app.extensions["baoxue.engine"]
    cases = build_cases(engine)
    with signed_in(chromium, base, "inspector", width=1280) as page:
        page.click("nav.nav >> text=案件查询")
        expect(page).to_have_url(f"{base}/instances")
        rows = page.locator("table.cases tbody tr")
        expect(rows).to_have_count(6)

        # The form: running cases of 蛟潭中心学校, by the child's full name (posted, not in the address).
        page.select_option("#f-status", "running")
        page.select_option("#f-school", "zx")
        page.fill("#f-child", "张小明")
        page.click("#case-filters button[type=submit]")
        expect(page).to_have_url(f"{base}/instances")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("张*明")
        expect(page.locator("table.cases")).not_to_contain_text("张小明")

        # A count at the top filters by it.
        page.click("text=清除筛选")
        page.click("a.count-step:has-text('村书记跟进')")
        expect(page).to_have_url(f"{base}/instances?step=follow_up")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("李*")

        # A bad range is shown beside its field; the page still lists by the rest.
        page.fill("#f-started_from", "2025-03-02")
        page.fill("#f-started_to", "2025-03-01")
        page.click("#case-filters button[type=submit]")
        expect(page.locator("#e-started_to")).to_contain_text("止日早于起日")

        page.goto(f"{base}/instances?step=follow_up")
        page.click(f"a.case-link[href='/instances/{cases.c}']")
        expect(page).to_have_url(f"{base}/instances/{cases.c}")
        expect(page.locator("main")).to_contain_text("测试劝返案件")
