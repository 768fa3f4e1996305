"""A head teacher works a task in the browser; the village secretary sees the next one."""
from __future__ import annotations

from playwright.sync_api import expect

from .signin import login



def test_head_teacher_completes_and_the_case_moves_to_the_village(live_app, page):
    base, engine = live_app.config["LIVE_URL"], live_app.extensions["baoxue.engine"]
    engine.runtime.start("dropout_risk_check", {"child_id": 1}, actor="ht31")

    login(page, base, "ht31")
    row = page.locator("a", has_text="核查辍学风险")
    expect(row).to_have_count(1)
    expect(page.locator("table.tasks")).to_contain_text("张小明")      # a candidate: the name she needs
    row.click()

    # Submit with the risk level missing: the error shows next to the field, entries are kept.
    page.check("input[name=guardian_contacted][value=true]")
    page.fill("#f-contacted_on", "2025-03-03")
    page.check("input[name=risk_factors][value=weariness]")
    page.fill("#f-notes", "连续两天未到校")
    page.click("form.task-form button[type=submit]")
    expect(page.locator("#e-risk_level")).to_have_text("此项为必填项")
    expect(page.locator("#f-notes")).to_have_value("连续两天未到校")
    expect(page.locator("input[name=risk_factors][value=weariness]")).to_be_checked()

    page.check("input[name=risk_level][value=high]")
    page.click("form.task-form button[type=submit]")
    expect(page).to_have_url(f"{base}/inbox")
    expect(page.locator(".flash")).to_contain_text("已转交: 村（场、社区）书记 蛟潭村")
    expect(page.locator("a", has_text="核查辍学风险")).to_have_count(0)

    page.click("text=退出登录")
    expect(page).to_have_url(f"{base}/login")
    login(page, base, "vsjt")
    expect(page.locator("a", has_text="入户核实家庭情况")).to_have_count(1)
    page.click("a:has-text('入户核实家庭情况')")
    expect(page.locator(".instructions")).to_contain_text("高风险")


def test_the_inbox_fits_a_phone_screen(live_app, page):
    base, engine = live_app.config["LIVE_URL"], live_app.extensions["baoxue.engine"]
    engine.runtime.start("dropout_risk_check", {"child_id": 1}, actor="ht31")
    login(page, base, "ht31")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide on a 360px screen"


def test_a_name_search_keeps_the_name_out_of_the_address(live_app, page):
    """Issue 8: the inbox search is posted, so the child's name is in no URL, history or log."""
    base, engine = live_app.config["LIVE_URL"], live_app.extensions["baoxue.engine"]
    engine.runtime.start("dropout_risk_check", {"child_id": 1}, actor="ht31")
    login(page, base, "ht31")
    page.fill("input[name=q]", "张小明")
    page.click("button:has-text('筛选')")
    expect(page.locator("table.tasks")).to_contain_text("张小明")
    expect(page).to_have_url(f"{base}/inbox")
    page.fill("input[name=q]", "李红")
    page.click("button:has-text('筛选')")
    expect(page.locator("p.empty")).to_contain_text("没有符合条件的待办任务")
    expect(page).to_have_url(f"{base}/inbox")
