"""An administrator reads the persuasion process's versions (issue 14): the list, the history,
an older version's diagram in the plain viewer (bpmn-js, under the pages' CSP), the diff."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.api.process_versions import deploy_versions

from .signin import signed_in


def test_the_admin_opens_an_older_version_and_the_diff(live_app, chromium, tmp_path):
    base, engine = live_app.config["LIVE_URL"], live_app.extensions["baoxue.engine"]
    deploy_versions(engine, tmp_path)
    errors = []
    with signed_in(chromium, base, "admin", width=1280, height=900) as page:
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.click("nav.nav >> text=流程")
        expect(page).to_have_url(f"{base}/processes")
        row = page.locator("tr[data-process='persuasion']")
        expect(row).to_contain_text("第 3 版")
        row.locator("a.process-link").click()
        expect(page).to_have_url(f"{base}/processes/persuasion")
        expect(page.locator("table.versions tbody tr")).to_have_count(3)
        expect(page.locator("a.button[href='/processes/persuasion/edit']")).to_have_text("编辑")

        # Version 1's diagram: drill into the persuasion sub-process, its call task has the old name.
        page.click("tr[data-version='1'] a.show-version")
        expect(page.locator("#td-heading")).to_have_text("第 1 版流程图")
        section = page.locator("section.trace-diagram")
        expect(section).to_have_attribute("data-ready", "true")
        expect(section.locator(".td-legend")).to_have_count(0)
        page.locator('.djs-overlays[data-container-id="persuade"] .bjs-drilldown').click()
        call = page.locator(".td-canvas .djs-element[data-element-id='phone_call']")
        expect(call).to_be_visible()
        expect(call).to_contain_text("电话联系监护人")
        call.click()
        expect(section.locator(".td-panel")).to_contain_text("用户任务")
        expect(section.locator(".td-panel .td-title")).to_have_text("电话联系监护人")

        # The diff of versions 1 and 2.
        page.select_option("#f-from", "1")
        page.select_option("#f-to", "2")
        page.click("#diff-form button[type=submit]")
        result = page.locator("#diff-result")
        expect(result.locator(".diff-added")).to_contain_text("核对通话记录")
        expect(result.locator(".diff-removed")).to_contain_text("督办：电话联系监护人逾期")
        changed = result.locator("li[data-element='phone_call']")
        expect(changed).to_contain_text("电话联系家长")
        expect(changed.locator("tr[data-field='name'] th")).to_have_text("名称")
    assert not errors, errors
