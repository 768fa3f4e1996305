"""The README's "Walking a persuasion case" as a new user follows it (issue 17: "a browser
test follows the README's steps literally"): a fresh demo database made as `make demo` makes
it (``api.cli.initialise``: migrate, deploy processes/, the demo town and its cases), the
README's accounts and menu names, Chromium at 360 px (head teacher, a phone) and 1280 px.

One function per README step, each quoting the README's sentence it follows. When the README
changes, change the step (and ``ANSWERS``, the forms' answers, when a form changes).

The app's clock is a ``FixedClock`` the test moves a school day at a time ("mark the same
pupil absent on the next school days as they come"); ``baoxue timers fire-due --now`` runs
as the command line does, then the app's clock follows it.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from api.app import create_app
from api.cli import initialise
from api.settings import Settings
from api.wiring import build_engine
from engine.calendar import BusinessCalendar
from engine.clock import FixedClock
from engine.persistence.models import ProcessInstance
from ledger.demo import DEMO_PASSWORD
from ledger.models import Child

from .signin import login
from .test_persuasion_flow import answers, fill, fire_due

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 30, 8, 0, tzinfo=ZONE)   # a Monday: `make demo` run that morning
TEACHER, CLASS, SCHOOL = "head_teacher-zx-3-2", "zx-3-2", "zx"
PHONE, DESK = {"width": 360, "height": 740}, {"width": 1280, "height": 800}


# The forms' answers are the persuasion flow test's (one set to keep up to date), by task title.
TITLES = {"电话联系监护人": "phone_call", "家访并告知法定义务": "home_visit", "德育处会签家访记录": "visit_cosign",
          "入户核实原因并制定就学方案": "village_check", "填报辍学情况报告单": "dropout_report",
          "审核并报送辍学情况报告单": "confirm_report", "签收辍学情况报告单": "receive_report",
          "签发并送达限期返校通知书": "issue_notice",
          "恢复或重建学籍": "restore_registry", "销号": "strike_off", "返校后每周跟踪": "weekly_check"}


def ANSWERS(day: str) -> dict:
    """What each task's form is answered with, every date ``day`` (the clock's day)."""
    form = answers([day] * 7)
    return {title: form[key] for title, key in TITLES.items()}


@dataclass
class Walk:
    """The walker: the live demo app, its clock, a browser page per person, the pupil."""
    app: object
    clock: FixedClock
    chromium: object
    base: str
    pages: dict = field(default_factory=dict)
    pupil: int | None = None
    served_on: date | None = None

    @property
    def engine(self):
        return self.app.extensions["baoxue.engine"]

    def today(self) -> date:
        return self.clock().astimezone(ZONE).date()

    def next_school_day(self) -> str:
        """Move the clock to 08:00 of the next school day ("as they come")."""
        calendar, day = BusinessCalendar(ZONE), self.today() + timedelta(days=1)
        while not calendar.is_business_day(day, "school"):
            day += timedelta(days=1)
        self.move_to(datetime.combine(day, time(8, 0), ZONE))
        return day.isoformat()

    def move_to(self, moment: datetime) -> None:
        """Set the clock; everyone signs in again (a session does not last overnight)."""
        self.clock.set(moment)
        for page in self.pages.values():
            page.context.close()
        self.pages.clear()

    def as_(self, username: str, viewport=DESK):
        """A page signed in as ``username`` with the demo password (one browser context each)."""
        if username not in self.pages:
            context = self.chromium.new_context(viewport=viewport, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(15_000)
            login(page, self.base, username, DEMO_PASSWORD)
            self.pages[username] = page
        return self.pages[username]

    def mark(self, status_label: str) -> object:
        """每日考勤 as the head teacher, on the day it opens on (today): set the pupil, submit."""
        page = self.as_(TEACHER, PHONE)
        page.get_by_role("link", name="每日考勤").first.click()
        expect(page.locator("h1")).to_contain_text(self.today().isoformat())     # "the page opens on today"
        page.locator(f"#child-{self.pupil} label", has_text=status_label).click()
        page.get_by_role("button", name=f"提交 {self.today().isoformat()} 的考勤").click()
        result = page.locator("section.result")
        expect(result).to_contain_text("已保存")
        return result

    def inbox_has(self, username: str, title: str, viewport=DESK):
        page = self.as_(username, viewport)
        page.goto(f"{self.base}/inbox")
        # The demo has other cases at the same step: the pupil's row (candidates see the name).
        link = page.locator("tr", has_text=self.child().name).get_by_role("link", name=title, exact=True)
        expect(link).to_have_count(1)
        return page, link

    def work(self, username: str, title: str, viewport=DESK, answers: dict | None = None):
        """Open ``title`` from the inbox, answer it, submit; it leaves the inbox."""
        page, link = self.inbox_has(username, title, viewport)
        link.click()
        expect(page.locator("h1")).to_have_text(title)
        fill(page, answers if answers is not None else ANSWERS(self.today().isoformat())[title])
        page.click("form.task-form button[type=submit]")
        page.wait_for_load_state()
        assert page.url == f"{self.base}/inbox", f"{title} refused: {page.locator('.error').all_inner_texts()}"
        expect(page.locator("tr", has_text=self.child().name).get_by_role("link", name=title, exact=True)) \
            .to_have_count(0)
        return page

    def case(self) -> ProcessInstance:
        with self.engine.db.read() as session:
            return session.scalars(select(ProcessInstance).where(
                ProcessInstance.process_key == "persuasion", ProcessInstance.business_key == f"child:{self.pupil}")
                .order_by(ProcessInstance.id.desc())).first()

    def child(self) -> Child:
        with self.engine.db.read() as session:
            return session.get(Child, self.pupil)


@pytest.fixture
def walk(chromium, tmp_path):
    clock = FixedClock(START)
    settings = Settings.from_env(database_url=f"sqlite:///{tmp_path / 'demo.db'}", var_dir=tmp_path,
                                 secret_key="browser-test")
    engine = build_engine(settings, clock=clock)
    initialise(engine, settings, demo=True)               # as `make demo` (`baoxue init --demo`)
    app = create_app(settings, engine=engine)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    walker = Walk(app, clock, chromium, f"http://127.0.0.1:{server.server_port}")
    yield walker
    for page in walker.pages.values():
        page.context.close()
    server.shutdown()
    engine.close()


def pupil_without_a_case(walk: Walk) -> int:
    """A pupil of the README's class with no case yet (the demo gives some pupils cases)."""
    with walk.engine.db.read() as session:
        busy = {key for (key,) in session.execute(select(ProcessInstance.business_key))}
        pupils = session.scalars(select(Child).where(Child.class_code == CLASS).order_by(Child.id)).all()
    return [c.id for c in pupils if f"child:{c.id}" not in busy and c.village_code][-1]


# ---------------------------------------------------------------- the README's steps

def step_1_mark_a_pupil_absent(walk: Walk):
    """"Log in as a head teacher (e.g. `head_teacher-zx-3-2`), open **每日考勤** on the latest
    school day (the page opens on today; the demo has reported every day up to it) and mark a
    pupil 无故缺课: a case starts and **电话联系监护人** is in your inbox (due today). Work each task
    from the inbox of the person it reaches as it comes\""""
    walk.pupil = pupil_without_a_case(walk)
    result = walk.mark("无故缺课")
    expect(result).to_contain_text("已发起劝返案件")
    _, link = walk.inbox_has(TEACHER, "电话联系监护人", PHONE)
    expect(link.locator("xpath=ancestor::tr")).to_contain_text(walk.today().isoformat())   # due today
    walk.work(TEACHER, "电话联系监护人", PHONE)


def step_2_absent_on_the_next_school_days(walk: Walk):
    """"Mark the same pupil absent on the next school days as they come: day 3 brings
    **家访并告知法定义务**, co-signed by the moral education office (**德育处会签家访记录**); the next absence after the visit sends **入户核实原因并制定就学方案** to
    the village secretary (`village_secretary-<village>`)\""""
    walk.next_school_day()
    walk.mark("无故缺课")                                          # day 2
    walk.next_school_day()
    walk.mark("无故缺课")                                          # day 3
    walk.work(TEACHER, "家访并告知法定义务", PHONE)
    walk.work(f"moral_education_office-{SCHOOL}", "德育处会签家访记录")
    walk.next_school_day()
    walk.mark("无故缺课")                                          # day 4: after the visit
    walk.work(f"village_secretary-{walk.child().village_code}", "入户核实原因并制定就学方案", PHONE)


def step_3_report_and_notice(walk: Walk):
    """"Day 5: the head teacher files the dropout report, the principal confirms it, the town
    government (`town`) issues the return-by-deadline notice (printable from the task page,
    with the proof of service); the deadline is 3 working days after service.\""""
    walk.next_school_day()
    walk.mark("无故缺课")                                          # day 5
    walk.work(TEACHER, "填报辍学情况报告单", PHONE)
    walk.work("principal-zx", "审核并报送辍学情况报告单")
    walk.work("town", "签收辍学情况报告单")                          # the notice follows the receipt
    page, link = walk.inbox_has("town", "签发并送达限期返校通知书")
    link.click()
    expect(page.get_by_role("link", name="限期返校通知书").first).to_be_visible()   # printable from the task page
    walk.served_on = walk.today()
    walk.work("town", "签发并送达限期返校通知书")


def step_4_move_time(walk: Walk):
    """"Move time past the notice's deadline: `.venv/bin/baoxue timers fire-due --now
    2026-12-10T09:00:00+08:00` (for a notice served on Friday 2026-12-04 ...) fires what is due by
    then: the deadline (→ judicial office `judicial`, then `leader` decides, looping while the
    child is out)\""""
    deadline = BusinessCalendar(ZONE).add_days(walk.served_on, 3, "working")
    moment = datetime(2026, 12, 10, 9, 0, tzinfo=ZONE)
    assert moment.date() > deadline, f"the README's --now must come after the deadline {deadline}"
    fired = fire_due(walk.app, moment)
    walk.move_to(moment)
    assert fired >= 1
    walk.inbox_has("judicial", "对监护人开展法治教育")


def step_5_back_at_school(walk: Walk):
    """"Mark the pupil 到校. ... Back **after** the report: the child goes back to 在校, the
    registrar restores the registry or records 学籍状态未变更（已核实） (3 school days), the
    livelihood office (`office`) strikes the case off, then four weekly checks follow (fire
    timers a week ahead each time)\""""
    result = walk.mark("到校")
    expect(result).to_contain_text("已通知进行中的案件")            # it changed something
    assert walk.child().enrolment_status == "enrolled"
    walk.work("registrar-zx", "恢复或重建学籍")
    walk.work("office", "销号")
    for week in range(4):
        moment = walk.clock() + timedelta(days=7, hours=1)
        assert fire_due(walk.app, moment) >= 1
        walk.move_to(moment)
        walk.work(TEACHER, "返校后每周跟踪", PHONE)
    assert walk.case().status == "completed"


def step_6_the_child_page(walk: Walk):
    """"Open the child's page (**儿童名册**): **就学状态变更记录** lists each change of 就学状态
    with when, who, old → new and the case (疑似辍学 when the report was filed, 辍学 when the
    notice's deadline passed, 在校 on return), and **已结案件** lists the child's closed cases with
    their outcome and dates, each linked to its case page.\""""
    page = walk.as_(TEACHER, PHONE)
    page.get_by_role("link", name="儿童名册").first.click()
    page.locator(f"a[href='/children/{walk.pupil}']").first.click()
    history = page.locator("#status-history")
    for change in ("在校 → 疑似辍学", "疑似辍学 → 辍学", "辍学 → 在校"):
        expect(history).to_contain_text(change)
    closed = page.locator("#closed-cases")
    expect(closed.get_by_role("link", name=f"案件 {walk.case().id}")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


STEPS = [step_1_mark_a_pupil_absent, step_2_absent_on_the_next_school_days, step_3_report_and_notice,
         step_4_move_time, step_5_back_at_school, step_6_the_child_page]


def test_the_readme_persuasion_walk_works_as_written(walk):
    for step in STEPS:
        step(walk)
