"""A principal confirms the school's responsibility agreement on a phone (360 px, issue 12)."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from ledger.agreement_check import after_step
from ledger.agreements import school_year_of, start_campaign

from .test_inbox_flow import login


def test_a_principal_reads_and_confirms_the_agreement_at_360px(live_app, page):
    base, engine = live_app.config["LIVE_URL"], live_app.extensions["baoxue.engine"]
    year = school_year_of(engine.clock().astimezone(engine.zone).date())
    deadline = (engine.clock() + timedelta(days=30)).astimezone(engine.zone).date()
    campaign = start_campaign(engine, "deputy", year, deadline=deadline)
    [review] = [t for t in engine.tasks.list(_open_tasks())[0]
                if t.element_id == "review_campaign" and t.instance_id == campaign["instance_id"]]
    engine.runtime.complete_task(review.id, {"dropout_target": 0, "return_target": 100,
                                             "deadline": deadline.isoformat(), "launch": True}, actor="deputy")
    after_step(engine)

    login(page, base, "pzx")
    page.click("a:has-text('确认目标责任书')")
    expect(page.locator(".instructions")).to_contain_text("辍学率 0%")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    with page.expect_navigation():
        page.click(".instructions a:has-text('全文')")
    expect(page.locator("article.doc")).to_contain_text("乙方：蛟潭中心学校")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.go_back()
    page.check("input[name=decision][value=accept]")
    page.fill("#f-signer_name", "张校长")
    page.click("form.task-form button[type=submit]")
    expect(page).to_have_url(f"{base}/inbox")

    page.goto(f"{base}/agreements")
    row = page.locator("table.agreements tr", has_text="蛟潭中心学校")
    expect(row).to_contain_text("待会签")
    expect(row).to_contain_text("张校长")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def _open_tasks():
    from engine.tasks import TaskQuery
    return TaskQuery(status="open", per_page=100)
