"""A home teacher records a visit on a phone (送教上门, issue 11: "a browser test in which a
teacher records a visit at 360 px width"), then the child page shows it.

The live app runs on a clock the test sets: the case is taken through assessment, placement
and the plan by the real engine on its days (the scenario tests' answers), the first visit
day's timer fires, and the plan's teacher (``tzx``, 王老师) finds the visit in the inbox.
"""
from __future__ import annotations

import threading
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from api.app import create_app
from api.settings import ROOT, Settings
from api.wiring import build_engine
from engine.clock import FixedClock
from engine.persistence.models import HumanTask
from ledger.accounts import create_user
from tests.api.town import PASSWORD, build_town
from tests.processes.test_home_teaching import (
    AGREED, APPROVE, COMMITTEE, COUNTERSIGN, FEDERATION, PLAN, REGISTRY, SCHOOL, visit,
)

from tests.processes.test_home_teaching_photos import picture

from .signin import signed_in
from .test_persuasion_flow import fill

ZONE = ZoneInfo("Asia/Shanghai")
PHONE = 360
# (day, hour, user, element, answers): the case up to the plan, as each person does it.
STEPS = [("2025-10-14", 15, "ht31", "assess_school", SCHOOL),
         ("2025-10-14", 15, "dpf", "assess_federation", FEDERATION),
         ("2025-10-16", 10, "dpf", "placement", {**COMMITTEE, "placement": "home_teaching"}),
         ("2025-10-17", 10, "regzx", "registry_archive", REGISTRY),
         ("2025-10-20", 9, "ht31", "draw_plan", PLAN), ("2025-10-20", 9, "ht31", "guardian_agreement", AGREED),
         ("2025-10-20", 9, "pzx", "approve_plan", APPROVE), ("2025-10-20", 9, "dpf", "countersign_plan", COUNTERSIGN)]


def _at(clock, day: str, hour: int) -> None:
    clock.set(datetime.combine(datetime.fromisoformat(day).date(), time(hour), ZONE))


@pytest.fixture
def visit_day(chromium, tmp_path, db_url):
    """The live app on Tue 2025-10-21, 17:00: child 1's plan (Tuesdays and Fridays, 王老师
    responsible) countersigned the day before, this morning's visit task open for 王老师."""
    clock = FixedClock(datetime(2025, 10, 13, 9, tzinfo=ZONE))
    settings = Settings.from_env(database_url=db_url, var_dir=tmp_path,     # SQLite, then PostgreSQL
                                 secret_key="browser-test")
    engine = build_engine(settings, clock=clock)
    engine.migrate()
    build_town(engine)
    with engine.db.transaction() as session:
        create_user(session, "tzx", "王老师", PASSWORD, now=clock(), roles=[("home_teacher", "zx")])
        create_user(session, "dpf", "镇残联李干事", PASSWORD, now=clock(), roles=[("disabled_persons_federation", "town")])
    engine.repository.deploy_paths([ROOT / "processes"], actor="admin")
    [case] = engine.messages.deliver("home_teaching_referral", {"child_id": 1}, {"referred_from": "principal"},
                                     actor="pzx").started
    for day, hour, user, element, answers in STEPS:
        _at(clock, day, hour)
        with engine.db.read() as session:
            task = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == case, HumanTask.status == "open",
                                                             HumanTask.element_id == element))
        engine.runtime.complete_task(task, answers, actor=user)
    _at(clock, "2025-10-21", 8)
    assert engine.timers.fire_due(clock()) >= 1                   # 07:30: the visit day
    _at(clock, "2025-10-21", 17)
    app = create_app(settings, engine=engine)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    engine.close()


def fits(page) -> None:
    """The page does not scroll sideways at phone width."""
    wide = page.evaluate("""(limit) => Array.from(document.querySelectorAll('body *'))
        .filter(e => (e.getBoundingClientRect().right > limit || e.scrollWidth > e.clientWidth + 1)
                && e.getClientRects().length && getComputedStyle(e).overflowX === 'visible')
        .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""", PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE, (page.url, wide)


def test_a_teacher_records_a_visit_on_a_phone_and_the_child_page_shows_it(chromium, visit_day):
    base = visit_day
    with signed_in(chromium, base, "tzx", width=PHONE) as page:
        link = page.get_by_role("link", name="送教上门并登记", exact=True)
        expect(link).to_have_count(1)
        fits(page)
        link.click()
        expect(page.locator("h1")).to_have_text("送教上门并登记")
        expect(page.locator(".instructions")).to_contain_text("今天（2025-10-21）是该生的送教日")
        fits(page)
        fields = page.locator("form.task-form .field")
        assert fields.count() >= 10
        for index in range(fields.count()):               # every field reachable, none past the edge
            field = fields.nth(index)
            field.scroll_into_view_if_needed()
            expect(field).to_be_visible()
            box = field.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE, (index, box)
        fill(page, visit("2025-10-21"))
        fits(page)
        task_url = page.url
        photos = page.locator("#f-visit_photos")              # a photo above 5 MB: refused before sending
        photos.set_input_files([{"name": "大.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * (6 * 1024 * 1024)}])
        page.click("form.task-form button[type=submit]")
        expect(page.locator("#field-visit_photos .error")).to_contain_text("第 1 张照片（大.jpg）超过 5 MB")
        assert page.url == task_url
        expect(page.locator("#f-visit_content")).to_have_value(visit("2025-10-21")["visit_content"])   # kept
        photos.set_input_files([{"name": "课堂.png", "mimeType": "image/png", "buffer": picture("PNG")}])
        expect(page.locator("#field-visit_photos .error")).to_have_count(0)
        page.click("form.task-form button[type=submit]")
        expect(page).to_have_url(f"{base}/inbox")
        expect(page.locator(".flash")).to_contain_text("已提交")
        expect(page.get_by_role("link", name="送教上门并登记", exact=True)).to_have_count(0)
        fits(page)

    with signed_in(chromium, base, "ht31", width=PHONE) as page:   # the head teacher, the plan's co-teacher
        page.goto(f"{base}/children/1")
        section = page.locator("#home-teaching")
        expect(section).to_contain_text("送教教师 王老师、HT31")
        expect(section).to_contain_text("本月已送教 1 次")
        visits = page.locator("#home-visits")
        expect(visits).to_contain_text("2025-10-21")
        expect(visits).to_contain_text("15:00–16:30")
        expect(visits).to_contain_text("王老师")
        fits(page)
        case = page.locator("#home-teaching a[href$='/home-teaching/plan']").get_attribute("href").split("/")[2]
        for path, title in (("plan", "个别化教育计划（一人一案）"), ("visits", "送教上门记录")):
            page.goto(f"{base}/instances/{case}/home-teaching/{path}")   # the phone reads the document
            phone = page.locator("section.doc-phone")
            expect(phone).to_be_visible()
            expect(phone.locator("h1")).to_have_text(title)
            expect(page.locator("article.doc")).to_be_hidden()
            fits(page)
        photo = page.locator("section.doc-phone ul.photos img")     # the visit's photo, shown, not its hash
        expect(photo).to_have_count(1)
        # Waits for the picture (it may still be loading when the page is there).
        assert photo.evaluate("img => img.complete && img.naturalWidth ? img.naturalWidth : new Promise("
                              "(done, fail) => { img.onload = () => done(img.naturalWidth); img.onerror = fail; })") == 64
        page.get_by_role("link", name="打开打印版（A4）").click()
        expect(page.locator("article.doc")).to_be_visible()
        page.get_by_role("link", name="返回手机阅读版").click()
        expect(page.locator("section.doc-phone")).to_be_visible()

    with signed_in(chromium, base, "pzx", width=1280, height=800) as page:   # at a desk: the A4 pages
        for path in ("plan", "visits"):
            page.goto(f"{base}/instances/{case}/home-teaching/{path}")
            expect(page.locator("article.doc")).to_be_visible()
            expect(page.locator("section.doc-phone")).to_be_hidden()
            assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") == 0
