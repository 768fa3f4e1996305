"""The process editor (issue 14 "Editor") in Debian's Chromium: an administrator adds a user task
to the persuasion process in a lane, gives it a new form, sees the lint problem for the
unconnected task, connects it, saves a draft, reloads and reopens it, deploys it with a note,
and version N+1 exists with that note."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import served_town
from tests.browser.signin import signed_in

NOTE = "演示：增加镇专班副组长的复核步骤"


def _center(box):
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _open_editor(page, base):
    page.goto(f"{base}/processes/persuasion/edit")
    expect(page.locator("[data-process-editor]")).to_have_attribute("data-ready", "true", timeout=30_000)


def test_add_a_task_with_a_form_save_reopen_and_deploy(chromium, tmp_path):
    with served_town(tmp_path, "editor.db") as (town, base):
        before = town.engine.repository.latest("persuasion").version
        with signed_in(chromium, base, "admin", width=1400, height=1000) as page:
            _open_editor(page, base)
            problems = page.locator("[data-problems]")
            expect(page.locator("[data-deploy]")).to_be_disabled()

            # A task from the palette, placed in the task-force deputy's lane, made a user task.
            lane = page.locator('.djs-element[data-element-id="lane_task_force_deputy"]').bounding_box()
            page.click(".djs-palette .entry.bpmn-icon-task")
            at = (lane["x"] + lane["width"] * 0.12, lane["y"] + lane["height"] / 2)
            page.mouse.move(*at)
            page.mouse.move(at[0] + 2, at[1] + 2)
            page.mouse.click(at[0] + 2, at[1] + 2)
            page.click('.djs-context-pad [data-action="replace"]')
            page.click('.djs-popup-body [data-id="replace-with-user-task"]')
            panel = page.locator("[data-panel]")
            expect(panel).to_contain_text("用户任务")
            task_id = panel.locator(".pe-id").inner_text().split("·")[-1].strip()
            expect(panel.locator("select").first).to_have_value("lane_task_force_deputy")

            panel.get_by_label("名称").fill("副组长复核")
            panel.get_by_label("名称").press("Tab")
            panel.get_by_label("表单").select_option("__new__")
            panel.get_by_placeholder("新表单的名称").fill("deputy_review")
            panel.get_by_role("button", name="创建表单").click()

            # The form tab opened on the new pair of files, previewed as the task page shows it.
            forms = page.locator("#pe-forms")
            expect(forms).to_be_visible()
            expect(page.locator("#pe-form-pick")).to_have_value("deputy_review.schema.json")
            expect(forms.locator("[data-form-preview]")).to_contain_text("办理情况")
            page.fill("#pe-form-schema", '{"type": "object", "properties": {')
            expect(forms.locator("[data-form-schema-state]")).to_contain_text("第 1 行")
            page.fill("#pe-form-schema", '{"type": "object", "required": ["checked"], "properties": '
                                         '{"checked": {"type": "string", "title": "复核意见"}}}')
            expect(forms.locator("[data-form-preview]")).to_contain_text("复核意见")
            page.get_by_role("tab", name="流程图").click()

            # bpmnlint: the new task is not connected; clicking the problem selects it.
            problem = problems.locator(f'[data-element="{task_id}"]').filter(has_text="没有连线")
            expect(problem).to_be_visible(timeout=20_000)
            page.click(".djs-palette .entry.bpmn-icon-hand-tool")  # any click on the canvas next
            problem.click()
            expect(panel).to_contain_text(task_id)

            # Connect it to the deputy's end event with the context pad's connect tool.
            page.click('.djs-context-pad [data-action="connect"]')
            end = page.locator('.djs-element[data-element-id="strike_off_overseen"]').bounding_box()
            page.mouse.move(*_center(end))
            page.mouse.click(*_center(end))
            expect(problems.locator(f'[data-element="{task_id}"]').filter(has_text="没有连线")).to_have_count(0)

            page.fill("[data-draft-title]", "增加复核")
            page.click("[data-save]")
            expect(page.locator("[data-status]")).to_contain_text("已保存")

            # Reload: the draft is listed and opens with the task and its form.
            _open_editor(page, base)
            option = page.locator("[data-draft-list] option", has_text="增加复核")
            page.select_option("[data-draft-list]", value=option.get_attribute("value"))
            page.click("[data-draft-open]")
            expect(page.locator("[data-status]")).to_contain_text("已打开草稿")
            expect(page.locator(f'.djs-element[data-element-id="{task_id}"]')).to_have_count(1)

            page.fill("[data-deploy-note]", NOTE)
            expect(page.locator("[data-deploy]")).to_be_enabled(timeout=20_000)
            page.click("[data-deploy]")
            expect(page.locator("[data-status]")).to_contain_text(f"第 {before + 1} 版")

        latest = town.engine.repository.latest("persuasion")
        assert latest.version == before + 1
        assert latest.note == NOTE
        files = town.engine.repository.files(latest.id)
        assert "deputy_review.schema.json" in files
        assert task_id.encode() in files[latest.file_name]
