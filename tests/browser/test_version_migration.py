"""An administrator moves a running case to the new version of its process on the pages
(issue 14, "Running cases"): the dry run first, then the migration; a case that cannot move
says why and stays."""
from __future__ import annotations

from playwright.sync_api import expect

from engine.tasks import TaskQuery
from tests.diagrams import linear_process, user_task

from .signin import signed_in

V1 = linear_process("intake", user_task("visit", name="家访"), user_task("report", name="报告"))
V2 = linear_process("intake", user_task("visit", name="入户家访"), user_task("report", name="报告"),
                    user_task("review", name="审核"))


def test_the_administrator_migrates_a_running_case(live_app, chromium):
    base, engine = live_app.config["LIVE_URL"], live_app.extensions["baoxue.engine"]
    engine.repository.deploy({"intake.bpmn": V1.encode()}, actor="admin")
    waiting = engine.runtime.start("intake", {}).instance_id
    visited = engine.runtime.start("intake", {}).instance_id
    (visit,) = engine.tasks.list(TaskQuery(instance_id=visited))[0]
    engine.runtime.complete_task(visit.id, {}, actor="u")
    engine.repository.deploy({"intake.bpmn": V2.encode()}, actor="admin")

    with signed_in(chromium, base, "admin", width=1280) as page:
        page.goto(f"{base}/processes/intake/migrate")
        group = page.locator("#version-1")
        expect(group.locator("h2")).to_contain_text("进行中 2 件，可迁移 1 件，不能迁移 1 件")
        refused = group.locator("tr", has_text=f"#{visited}")
        expect(refused).to_contain_text("不能迁移")
        expect(refused).to_contain_text("已完成的步骤「家访」(visit)在新版本中被修改")

        group.locator("tr", has_text=f"#{waiting}").locator("text=单独迁移").click()
        expect(page.locator("#verdict")).to_contain_text("可以迁移")
        expect(page.locator("#to-version")).to_contain_text("第 2 版")
        page.click("#verdict button[type=submit]")          # unchecked: the browser asks for the box
        assert engine.repository.get(engine.runtime.get(waiting).definition_id).version == 1
        page.check("#verdict input[name=confirm]")
        page.click("#verdict button[type=submit]")
        expect(page).to_have_url(f"{base}/processes/intake/migrate")
        expect(page.locator(".flash")).to_contain_text(f"案件 #{waiting} 已迁移到第 2 版")
        expect(page.locator("#version-1 h2")).to_contain_text("进行中 1 件，可迁移 0 件")

    assert engine.repository.get(engine.runtime.get(waiting).definition_id).version == 2
    assert engine.repository.get(engine.runtime.get(visited).definition_id).version == 1
    (task,) = engine.tasks.list(TaskQuery(instance_id=waiting))[0]
    assert (task.element_id, task.name) == ("visit", "入户家访")
