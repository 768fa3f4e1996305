"""Responsibility agreements on a phone (360 px, issue 12): a principal confirms the school's
agreement (in their own account's name, after a confirm dialog); a head teacher objects to
theirs, and it reaches their principal."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from ledger.agreement_check import after_step
from ledger.agreements import school_year_of, start_campaign

from .signin import login, signed_in


def launched(engine) -> None:
    """This school year's campaign, reviewed and launched by the task-force deputy."""
    year = school_year_of(engine.clock().astimezone(engine.zone).date())
    deadline = (engine.clock() + timedelta(days=30)).astimezone(engine.zone).date()
    campaign = start_campaign(engine, "deputy", year, deadline=deadline)
    [review] = [t for t in _open_tasks(engine) if t.element_id == "review_campaign"
                and t.instance_id == campaign["instance_id"]]
    _complete(engine, review, "deputy", {"dropout_target": 0, "return_target": 100,
                                         "deadline": deadline.isoformat(), "launch": True})


def test_a_principal_reads_and_confirms_the_agreement_at_360px(live_app, page):
    base, engine = live_app.config["LIVE_URL"], live_app.extensions["baoxue.engine"]
    launched(engine)

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
    expect(page.locator("#f-signer_name")).to_have_value("PZX")     # the account's own name, filled in
    # Signing asks first (a browser confirm): dismissed, nothing is sent.
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("form.task-form button[type=submit]")
    page.wait_for_timeout(300)
    assert asked and "PZX" in asked[0] and "不能撤回" in asked[0]
    expect(page).not_to_have_url(f"{base}/inbox")
    # Another person's name is refused beside the field.
    page.fill("#f-signer_name", "张校长")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("form.task-form button[type=submit]")
    expect(page.locator(".task-form")).to_contain_text("请填写您本人账号的姓名“PZX”")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.fill("#f-signer_name", "PZX")
    page.check("input[name=decision][value=accept]")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("form.task-form button[type=submit]")
    expect(page).to_have_url(f"{base}/inbox")

    page.goto(f"{base}/agreements")
    row = page.locator("table.agreements tr", has_text="蛟潭中心学校")
    expect(row).to_contain_text("待会签")
    expect(row).to_contain_text("PZX")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_head_teacher_objects_at_360px_and_the_principal_gets_it(live_app, chromium):
    base, engine = live_app.config["LIVE_URL"], live_app.extensions["baoxue.engine"]
    launched(engine)
    [sign] = [t for t in _open_tasks(engine) if t.element_id == "sign_unit" and t.org_unit == "zx"]
    _complete(engine, sign, "pzx", {"decision": "accept", "signer_name": "PZX"})
    [countersign] = [t for t in _open_tasks(engine) if t.element_id == "countersign"]
    _complete(engine, countersign, "leader", {"countersign_decision": "countersign", "countersigner_name": "LEADER"})

    with signed_in(chromium, base, "ht31") as page:
        page.click("a:has-text('确认责任书')")
        expect(page.locator(".instructions")).to_contain_text("如有异议")
        expect(page.locator("dl").first).to_contain_text("HT31（蛟潭中心学校）")   # whose agreement
        page.check("input[name=decision][value=refuse]")
        page.fill("#f-refusal_reason", "班上留守儿童多，请先明确家访分工")
        page.once("dialog", lambda dialog: dialog.accept())                  # the confirm step
        page.click("form.task-form button[type=submit]")
        expect(page).to_have_url(f"{base}/inbox")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

    with signed_in(chromium, base, "pzx") as page:
        page.click("a:has-text('处理对责任书的异议')")
        expect(page.locator(".instructions")).to_contain_text("班上留守儿童多，请先明确家访分工")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.goto(f"{base}/agreements?tier=2")
        expect(page.locator("table.agreements tr", has_text="HT31")).to_contain_text("有异议")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360


def _open_tasks(engine):
    from engine.tasks import TaskQuery
    return engine.tasks.list(TaskQuery(status="open", per_page=100))[0]


def _complete(engine, task, actor: str, data: dict) -> None:
    engine.runtime.complete_task(task.id, data, actor=actor)
    after_step(engine)
