"""The process editor on a drilled-down sub-process (persuasion's 三级劝返, drawn on its own plane
with no lane shapes; its tasks' lanes are the top process's lanes' flowNodeRef lists, which is
what SpiffWorkflow routes by): the panel reads a task's lane from flowNodeRef, a change moves it
between the lists without moving the shape and is undone by Ctrl+Z; a new task there gets a
lane and a 标识 of our choosing (checked), a deployed task's 标识 is read-only. Also: lanes show
the role's Chinese name while the XML keeps the code, the toolbar fits one line at 1280 px, a
deploy with a note and no draft name names the draft itself and the header shows the new
version, and the draft list shows local time."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from ledger.roles import ROLES
from tests.browser.conftest import served_town
from tests.browser.signin import signed_in
from tests.browser.test_process_editor import _center, _open_editor, _select, _shape

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
NOTE = "劝返：法治教育改由镇政府办理，增加家长回访"


def _lane_members(bpmn: str) -> dict[str, list[str]]:
    """{lane id: [flowNodeRef text]} of every lane in the file."""
    root = ET.fromstring(bpmn.encode("utf-8"))
    return {lane.get("id"): [ref.text for ref in lane.findall(f"{BPMN}flowNodeRef")] for lane in root.iter(f"{BPMN}lane")}


def _lane_names(bpmn: str) -> dict[str, str]:
    return {lane.get("id"): lane.get("name") for lane in ET.fromstring(bpmn.encode("utf-8")).iter(f"{BPMN}lane")}


def test_lanes_of_tasks_on_a_sub_process_plane_ids_and_deploy_without_a_name(chromium, tmp_path):
    roles = {r.code: r.name_zh for r in ROLES}
    with served_town(tmp_path, "editor_lanes.db") as (town, base):
        before = town.engine.repository.latest("persuasion").version
        with signed_in(chromium, base, "admin", width=1280, height=900) as page:
            _open_editor(page, base)
            panel = page.locator("[data-panel]")
            lane_choice = panel.get_by_label("泳道（办理岗位）")
            identifier = panel.get_by_label("标识")

            # The toolbar is one line at 1280 px: 发布新版本 sits level with 草稿.
            assert page.locator("[data-deploy]").bounding_box()["y"] == page.locator("[data-save]").bounding_box()["y"]
            # The lane shows the role's Chinese name (the XML keeps the code: checked below).
            expect(_shape(page, "lane_judicial_office").locator("text")).to_contain_text(roles["judicial_office"])

            # The problem list says 警告 as the canvas's lint button does.
            expect(page.locator("[data-problems] h2")).to_contain_text("个警告", timeout=20_000)

            page.click('.djs-overlays[data-container-id="persuade"] .bjs-drilldown')
            expect(_shape(page, "legal_education")).to_be_visible()
            _select(page, "legal_education")
            expect(lane_choice).to_have_value("lane_judicial_office")
            expect(identifier).to_have_attribute("readonly", "")
            expect(panel).to_contain_text("已部署的元素不能改标识")

            box = _shape(page, "legal_education").bounding_box()
            lane_choice.select_option("lane_town_government")
            expect(lane_choice).to_have_value("lane_town_government")
            assert _shape(page, "legal_education").bounding_box() == box   # the shape did not move

            # One Ctrl+Z undoes it; the choice is made again.
            canvas = page.locator(".pe-canvas").bounding_box()
            page.mouse.click(canvas["x"] + canvas["width"] * 0.6, canvas["y"] + canvas["height"] * 0.9)
            page.keyboard.press("Control+z")
            _select(page, "legal_education")
            expect(lane_choice).to_have_value("lane_judicial_office")
            lane_choice.select_option("lane_town_government")

            # A new user task on this plane: in no lane until one is chosen; its 标识 is ours to set.
            page.click(".djs-palette .entry.bpmn-icon-user-task")
            at = (canvas["x"] + canvas["width"] * 0.6, canvas["y"] + canvas["height"] * 0.85)
            page.mouse.move(*at)
            page.mouse.move(at[0] + 2, at[1] + 2)
            page.mouse.click(at[0] + 2, at[1] + 2)
            expect(page.locator(".djs-direct-editing-parent")).to_be_visible()
            page.keyboard.type("家长回访")
            page.keyboard.press("Enter")
            expect(panel.get_by_label("名称")).to_have_value("家长回访")
            expect(lane_choice).to_have_value("")
            for bad, says in (("1 回访", "须以英文字母或下划线开头"), ("legal_education", "已被本流程中的其他元素使用")):
                identifier.fill(bad)
                identifier.press("Enter")
                expect(panel.locator(".pe-error-text")).to_contain_text(says)
            identifier.fill("parent_followup")
            identifier.press("Enter")
            expect(panel.locator(".pe-error-text")).to_be_hidden()
            _select(page, "parent_followup")
            lane_choice.select_option("lane_livelihood_office")
            expect(lane_choice).to_have_value("lane_livelihood_office")
            # Unconnected, it keeps 发布新版本 off (bpmnlint's errors count: second tryout). Saved
            # as a draft (its lane is checked below), then taken out again to deploy the rest.
            page.fill("[data-draft-title]", "家长回访")
            page.click("[data-save]")
            expect(page.locator("[data-status]")).to_contain_text("已保存")
            page.fill("[data-deploy-note]", NOTE)
            expect(page.locator("[data-deploy]")).to_have_attribute("title", re.compile(r"问题列表中有 \d+ 个错误"),
                                                                   timeout=20_000)
            saved_draft = town.engine.drafts.list("persuasion")[0]
            drafted = _lane_members(saved_draft_xml := town.engine.drafts.get(saved_draft.id).files["persuasion.bpmn"])
            assert "parent_followup" in drafted["lane_livelihood_office"], saved_draft_xml[:200]
            assert sum(refs.count("parent_followup") for refs in drafted.values()) == 1
            _select(page, "parent_followup")
            page.click('.djs-context-pad .entry[data-action="delete"]')
            expect(_shape(page, "parent_followup")).to_have_count(0)
            page.fill("[data-draft-title]", "")

            # Deploy with a note and no draft name: the draft is named for the moment, the header moves on.
            page.fill("[data-deploy-note]", NOTE)
            deploy = page.locator("[data-deploy]")
            expect(deploy).to_be_enabled(timeout=20_000)
            deploy.click()
            expect(page.locator("[data-status]")).to_contain_text(f"第 {before + 1} 版")
            expect(page.locator("[data-current-version]")).to_have_text(str(before + 1))

            # The draft list shows the town's local time, as every other page does.
            page.fill("[data-draft-title]", "时间显示")
            page.click("[data-save]")
            expect(page.locator("[data-status]")).to_contain_text("已保存")
            draft = town.engine.drafts.list("persuasion")[0]
            local = draft.updated_at.replace(tzinfo=draft.updated_at.tzinfo or ZoneInfo("UTC"))
            shown = local.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
            expect(page.locator("[data-draft-list] option", has_text="时间显示")).to_contain_text(shown)

        latest = town.engine.repository.latest("persuasion")
        assert latest.version == before + 1 and latest.note == NOTE
        deployed_draft = town.engine.drafts.get(draft.id - 1)
        assert deployed_draft.id == saved_draft.id
        assert re.fullmatch(r".+ 修改 \d{4}-\d{2}-\d{2} \d{2}:\d{2}", deployed_draft.title), deployed_draft.title
        bpmn = town.engine.repository.files(latest.id)[latest.file_name].decode("utf-8")
        members = _lane_members(bpmn)
        assert "legal_education" in members["lane_town_government"]
        assert "legal_education" not in members["lane_judicial_office"]
        assert "parent_followup" not in bpmn
        assert _lane_names(bpmn)["lane_judicial_office"] == "judicial_office"
