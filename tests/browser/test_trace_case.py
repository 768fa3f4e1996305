"""An inspector traces a closed persuasion case in the browser (issue 13 "Tests"): the real app
serving a case built through the real engine and attendance (the leader decided twice, the
child came back, the registry was restored, the case struck off and followed up to closure);
the diagram colours the path the engine recorded, counts the second decision, lists the
timeline, and "核验记录" verifies the record. Debian's Chromium on a desk screen (the 360 px
layout of the diagram is tested in test_trace_diagram.py)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.processes.forms_data import JOINT, REGISTRY, STRIKE, WEEK
from tests.processes.harness import P
from tests.processes.test_trace import looped

from .conftest import served_town
from .signin import signed_in


@pytest.fixture
def closed_case(tmp_path):
    """(base URL, id) of a closed persuasion case that looped through the leader's decision."""
    with served_town(tmp_path, "trace.db") as (town, base):
        case = looped(town)
        town.complete("vsjt", "joint_persuasion", {**JOINT, "joint_on": "2025-11-01"})
        town.report("2025-11-03", {1: P})
        town.complete("regzx", "restore_registry", {**REGISTRY, "done_on": "2025-11-03"})
        town.complete("livelihood", "strike_off", {**STRIKE, "struck_off_on": "2025-11-03"})
        day = date(2025, 11, 10)
        while town.case(1).status != "completed" and day < date(2026, 3, 1):   # the follow-up's weekly checks
            town.pass_until(day.isoformat(), 18)
            if "weekly_check" in town.names("ht31"):
                town.complete("ht31", "weekly_check", {**WEEK, "week_checked_on": day.isoformat()})
            day += timedelta(days=7)
        assert town.case(1).status == "completed"
        yield base, case.id


def has(name):
    import re
    return re.compile(rf"(^|\s){name}(\s|$)")


def test_an_inspector_traces_a_closed_case_on_its_diagram_and_verifies_it(chromium, closed_case):
    base, case_id = closed_case
    with signed_in(chromium, base, "inspector", width=1280, height=900) as page:
        page.goto(f"{base}/instances/{case_id}")
        section = page.locator("[data-trace-diagram]")
        expect(section).to_have_attribute("data-ready", "true")
        expect(page.locator('.td-canvas g.djs-element[data-element-id="persuade"]')).to_have_class(has("td-completed"))
        expect(page.locator('.td-canvas g.djs-element[data-element-id="restore_registry"]')).to_have_class(
            has("td-completed"))
        taken = page.locator(".td-canvas g.djs-element.td-taken")
        assert taken.count() >= 3
        expect(page.locator(".td-note")).to_be_hidden()          # recorded from the start
        expect(page.locator(".td-canvas")).to_contain_text("班主任")          # lanes by the role's name
        expect(page.locator(".td-canvas")).not_to_contain_text("head_teacher")
        # Into the three tiers: the leader decided twice.
        page.locator('.djs-overlays[data-container-id="persuade"] .bjs-drilldown').click()
        page.get_by_role("button", name="适应窗口").click()
        expect(page.locator('.djs-overlays[data-container-id="leader_decision"] .td-badge')).to_have_text("2")
        page.locator('.td-canvas g.djs-element[data-element-id="leader_decision"] .djs-hit').first.click(force=True)
        expect(page.locator(".td-panel .td-run")).to_have_count(2)
        expect(page.locator(".td-panel")).to_contain_text("专班组长")
        # The timeline, then the record verified.
        expect(page.locator("ol.history")).to_contain_text("研判下一步措施")
        page.get_by_role("link", name="核验记录").click()
        expect(page.locator(".verify-ok")).to_contain_text("核验通过")
