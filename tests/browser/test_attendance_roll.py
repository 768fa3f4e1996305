"""The attendance page on a phone and a desk (issue 17 "Papers and pages on a phone"): one
line per pupil with the three choices side by side, "全部到校" as one action that still lets
the teacher change single pupils before submitting. Heights and overflow, never timing."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ledger.attendance_models import AttendanceRecord
from ledger.models import Child

from .signin import signed_in

DAY = "2025-03-03"      # a Monday, in the past for the live app's real clock
NAMES = ["欧阳晓峰", "陈思", "林美玲", "黄志强", "吴雨桐", "周子涵", "郑浩然", "孙悦", "马俊杰", "朱一鸣"]


@pytest.fixture
def eleven_pupils(live_app):
    engine = live_app.extensions["baoxue.engine"]
    with engine.db.transaction() as session:
        for n, name in enumerate(NAMES):
            session.add(Child(id=20 + n, name=name, gender="女", birth_date=date(2016, 6, n + 1),
                              id_number=f"44010120160601{n:03d}2"[:18], class_code="zx-3-1", school_code="zx",
                              village_code="v-jt", created_at=engine.clock()))
    return live_app


def stored(app) -> dict[int, str]:
    with app.extensions["baoxue.engine"].db.read() as session:
        rows = session.scalars(select(AttendanceRecord).where(AttendanceRecord.date == date.fromisoformat(DAY)))
        return {r.child_id: r.status for r in rows}


@pytest.mark.parametrize("width", [360, 1280])
def test_one_line_per_pupil_and_all_present_in_one_action(eleven_pupils, chromium, width):
    app = eleven_pupils
    base = app.config["LIVE_URL"]
    with signed_in(chromium, base, "ht31", width) as page:
        page.goto(f"{base}/attendance?class=zx-3-1&date={DAY}")
        rows = page.locator("li.roll-row")
        expect(rows).to_have_count(11)

        # Nothing runs wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # Each pupil is one line: the three choices side by side, level with the name.
        for i in range(11):
            row = rows.nth(i)
            tops = [row.locator(f".seg label").nth(k).bounding_box()["y"] for k in range(3)]
            name = row.locator(".roll-name").bounding_box()
            assert max(tops) - min(tops) < 1, f"row {i}: the choices wrap ({tops})"
            assert abs(name["y"] - tops[0]) < 24, f"row {i}: the name and the choices are not on one line"
            assert row.bounding_box()["height"] < 60, f"row {i} is {row.bounding_box()['height']}px tall"
        # Eleven pupils fit within twice the phone's screen, header and buttons included
        # (it was 2,774 px: issue 17).
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 1480, f"the page is {height}px tall for 11 pupils at {width}px"

        # Mark two pupils absent, then "全部到校" marks everyone present in the form only.
        rows.nth(0).locator("label.seg-absent_unexcused").click()
        rows.nth(3).locator("label.seg-absent_excused").click()
        expect(rows.nth(0).locator("input.roll-reason")).to_be_visible()        # a reason for the absent one
        expect(rows.nth(1).locator("input.roll-reason")).to_be_hidden()         # none for a present one
        page.click("#all-present")
        assert page.locator(".roll input[value=present]:checked").count() == 11
        assert stored(app) == {}                                                 # nothing sent yet
        # ... and single pupils can still be changed before submitting.
        rows.nth(2).locator("label.seg-absent_unexcused").click()
        rows.nth(2).locator("input.roll-reason").fill("发烧未请假")
        page.click("form[method=post][action='/attendance'] button[type=submit]")
        expect(page.locator(".result")).to_contain_text("已保存")
        absent = int(rows.nth(2).get_attribute("id").removeprefix("child-"))
        assert stored(app) == {**{cid: "present" for cid in [1, *range(20, 30)]}, absent: "absent_unexcused"}
        page.screenshot(path=f"/tmp/pages/attendance-{width}.png", full_page=True)
