"""One persuasion case from the first absence to closure, entirely through the pages (issue 4,
"Done when"): the head teacher marks 张小明 无故缺课 on 每日考勤, each tier's task is worked in
the inbox of the person it is routed to, the child is marked back, the registrar and the
livelihood office close the ledger, and the four weekly follow-up checks come due as time is
moved with ``baoxue timers fire-due --now``.

The live app runs on the real clock and attendance may not be in the future, so the walk uses
the seven most recent school days up to today (chinesecalendar; on 2026-11-29: 11-19 .. 11-27):
absent on the first five (days 1-5), the notice served on the sixth (the return deadline, 3
working days later, is still ahead of the real clock), back at school on the seventh.
"""
from __future__ import annotations

import json

from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from playwright.sync_api import expect
from sqlalchemy import select

from api.cli import main as baoxue_cli
from engine.calendar import BusinessCalendar
from engine.persistence.models import ProcessInstance
from ledger.accounts import create_user
from tests.api.town import PASSWORD
from tests.browser.signin import login

ABSENT, PRESENT = "absent_unexcused", "present"



def recent_school_days(engine, count):
    """The last ``count`` school days on or before today (local date of the engine clock), oldest first."""
    calendar, day, found = BusinessCalendar(engine.zone), engine.clock().astimezone(engine.zone).date(), []
    while len(found) < count:
        if calendar.is_business_day(day, "school"):
            found.insert(0, day.isoformat())
        day -= timedelta(days=1)
    return found


def answers(d):
    """Valid answers for each task of the walk, dated on school days ``d[0]`` .. ``d[6]``."""
    return {
        "phone_call": {"call_on": d[0], "call_time": "16:30", "call_participants": "李老师（班主任）",
                       "call_method": "phone", "call_reached": True, "call_met": "父亲", "call_attitude": "hesitant",
                       "cause": "weariness", "call_result": "孩子不想上学", "call_promised_return": d[1],
                       "call_next_step": "次日核实是否到校"},
        "home_visit": {"visit_on": d[2], "visit_time": "17:00", "visit_participants": "李老师（班主任）、王主任（德育处）",
                       "visit_method": "home_visit", "visit_met": "父亲", "told_art5": True, "told_art58": True,
                       "visit_attitude": "hesitant", "cause": "weariness", "visit_outcome": "still_refusing",
                       "visit_result": "学生厌学，监护人犹豫", "visit_next_step": "请村委会协助"},
        "visit_cosign": {"cosign_on": d[2], "cosign_by": "王主任（德育处）", "cosign_agreed": True},
        "village_check": {"village_on": d[3], "village_time": "10:00", "village_participants": "张书记（村书记）、王某（网格员）",
                          "village_method": "door_check", "village_met": "父亲", "village_attitude": "hesitant",
                          "cause": "weariness", "family_dibao": False, "cause_detail": "厌学，沉迷手机",
                          "village_result": "监护人同意配合", "plan_measures": ["counselling", "buddy_teacher"],
                          "plan_responsible": "村书记、班主任", "village_next_step": "每周上门一次",
                          "plan_next_check_on": (date.fromisoformat(d[6]) + timedelta(days=30)).isoformat()},
        "dropout_report": {"report_whereabouts": "at_home", "report_reason": "厌学", "report_moral_office_signed": True},
        "confirm_report": {"report_decision": "confirm", "report_no": "蛟中报〔2026〕3号", "report_sent_on": d[4]},
        "receive_report": {"receipt_confirmed": True, "receipt_on": d[5]},
        "issue_notice": {"notice_no": "蛟府教〔2026〕7号", "notice_signer": "镇长李某", "notice_issued_on": d[5],
                         "notice_served_on": d[5], "notice_service_method": "in_person", "notice_recipient": "张父",
                         "notice_served_at": "监护人家中"},
        "restore_registry": {"registry_action": "restore", "done_on": d[6], "confirmed_in_system": True},
        "strike_off": {"strike_confirmed": True, "struck_off_on": d[6], "strike_reviewer": "民生办李主任"},
        "weekly_check": {"week_checked_on": d[6], "week_attending": True},
    }


@pytest.fixture
def people(chromium, live_app):
    """``people("ht31")`` → a page logged in as that user, one browser context per person."""
    base, pages = live_app.config["LIVE_URL"], {}

    def page_of(username):
        if username not in pages:
            context = chromium.new_context(viewport={"width": 1024, "height": 800}, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(10_000)
            login(page, base, username)
            pages[username] = page
        return pages[username]
    yield page_of
    for page in pages.values():
        page.context.close()


def mark(page, base, day, status):
    """每日考勤: pick the day in the date field, set 张小明 (child 1), submit; the result panel."""
    page.goto(f"{base}/attendance")
    page.fill("#f-date", day)
    page.click("form.filters button[type=submit]")
    expect(page.locator("h1")).to_contain_text(day)
    page.check(f"input[name=status-1][value={status}]")
    page.get_by_role("button", name=f"提交 {day} 的考勤").click()
    result = page.locator("section.result")
    expect(result).to_contain_text("已保存")
    return result


def open_task(page, base, title):
    page.goto(f"{base}/inbox")
    link = page.get_by_role("link", name=title, exact=True)
    expect(link).to_have_count(1)
    link.click()
    expect(page.locator("h1")).to_have_text(title)


def fill(page, answers):
    """Fill a task form the way api/web/forms.py renders it: confirmations are one checkbox,
    booleans 是/否 radios, arrays checkboxes, short choice lists radios, long ones a select."""
    for name, value in answers.items():
        if isinstance(value, list):
            for item in value:
                page.check(f"input[name={name}][value={item}]")
        elif value is True and page.locator(f"input[type=checkbox][name={name}]").count():
            page.check(f"input[type=checkbox][name={name}]")
        elif isinstance(value, bool):
            page.check(f"input[name={name}][value={'true' if value else 'false'}]")
        elif page.locator(f"select#f-{name}").count():
            page.select_option(f"#f-{name}", value)
        elif page.locator(f"#f-{name}").count():
            page.fill(f"#f-{name}", str(value))
        else:
            page.check(f"input[type=radio][name={name}][value={value}]")


def work(page, base, title, answers, then):
    """Open the task from the inbox, fill and submit it; the flash says where the case went."""
    open_task(page, base, title)
    fill(page, answers)
    page.click("form.task-form button[type=submit]")
    expect(page).to_have_url(f"{base}/inbox")
    expect(page.locator(".flash")).to_contain_text(then)
    expect(page.get_by_role("link", name=title, exact=True)).to_have_count(0)


def fire_due(app, moment) -> int:
    """``baoxue timers fire-due --now <moment>`` against the live app's database."""
    settings = app.extensions["baoxue.settings"]   # the same audit key, or its links read as forged
    env = {"BAOXUE_DATABASE_URL": settings.database_url, "BAOXUE_SECRET_KEY": "browser-test",
           "BAOXUE_AUDIT_KEY": settings.audit_key}
    result = CliRunner().invoke(baoxue_cli, ["timers", "fire-due", "--json", "--now", moment.isoformat()], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["fired"]


def test_one_case_from_absence_to_closure_in_the_browser(live_app, people):
    base, engine = live_app.config["LIVE_URL"], live_app.extensions["baoxue.engine"]
    with engine.db.transaction() as session:   # the test town has no 镇民生服务办 or 德育处 account
        create_user(session, "livelihood", "LIVELIHOOD", PASSWORD, now=engine.clock(),
                    roles=[("livelihood_office", "town")])
        create_user(session, "moral", "MORAL", PASSWORD, now=engine.clock(),
                    roles=[("moral_education_office", "zx")])
    day = recent_school_days(engine, 7)
    form = answers(day)
    # The report is filed today (the walk's past days are reported on the real clock): its papers
    # are dated today, never before the filing (ledger.case_dates).
    today = engine.clock().astimezone(engine.zone).date().isoformat()
    form["confirm_report"]["report_sent_on"] = form["receive_report"]["receipt_on"] = today
    form["issue_notice"].update(notice_issued_on=today, notice_served_on=today)
    ht31 = people("ht31")

    # Day 1: the head teacher marks the absence; the page reports the case and links its task.
    started = mark(ht31, base, day[0], ABSENT)
    expect(started).to_contain_text("已发起劝返案件")
    expect(started).to_contain_text("张小明")          # the class's own register is not masked
    expect(started.get_by_role("link", name="电话联系监护人")).to_have_count(1)
    ht31.goto(f"{base}/inbox")
    expect(ht31.locator("table.tasks")).to_contain_text("张小明")    # her candidate task names the child
    open_task(ht31, base, "电话联系监护人")
    expect(ht31.locator(".instructions")).to_contain_text(f"无故缺课 1 个教学日（自 {day[0]} 起）")
    expect(ht31.locator(".facts")).to_contain_text("张小明")
    work(ht31, base, "电话联系监护人", form["phone_call"], "下一步由系统在以下情况发生时自动启动：“又一天无故缺课”（由考勤自动送达）")

    # Days 2 and 3: the home visit with the two legal-duty confirmations.
    expect(mark(ht31, base, day[1], ABSENT)).to_contain_text("又一天无故缺课")
    mark(ht31, base, day[2], ABSENT)
    open_task(ht31, base, "家访并告知法定义务")
    expect(ht31.locator(".instructions")).to_contain_text("连续无故缺课 3 个教学日")
    work(ht31, base, "家访并告知法定义务", form["home_visit"], "已转交: 德育处 蛟潭中心学校")
    work(people("moral"), base, "德育处会签家访记录", form["visit_cosign"], "下一步由系统在以下情况发生时自动启动")

    # Day 4: the village secretary of 蛟潭村 verifies the cause and draws up the plan.
    mark(ht31, base, day[3], ABSENT)
    expect(ht31.get_by_role("link", name="入户核实原因并制定就学方案")).to_have_count(0)
    work(people("vsjt"), base, "入户核实原因并制定就学方案", form["village_check"], "下一步由系统在以下情况发生时自动启动")
    open_task(people("pzx"), base, "学校确认个别化就学方案")       # the support plan opened its own file

    # Day 5: the town tier — report, the principal's confirmation, the town's notice.
    mark(ht31, base, day[4], ABSENT)
    work(ht31, base, "填报辍学情况报告单", form["dropout_report"], "已转交: 校长 蛟潭中心学校")
    work(people("pzx"), base, "审核并报送辍学情况报告单", form["confirm_report"], "已转交: 镇政府 蛟潭镇")
    town = people("town")
    work(town, base, "签收辍学情况报告单", form["receive_report"], "已转交: 镇政府 蛟潭镇")   # the receipt first
    work(town, base, "签发并送达限期返校通知书", form["issue_notice"], "下一步由系统在以下情况发生时自动启动")

    # Back at school before the notice's deadline: registry restored, then struck off the ledger.
    expect(mark(ht31, base, day[6], PRESENT)).to_contain_text("已返校")
    work(people("regzx"), base, "恢复或重建学籍", form["restore_registry"], "已转交: 镇民生服务办 蛟潭镇")
    livelihood = people("livelihood")
    open_task(livelihood, base, "销号")
    expect(livelihood.locator(".instructions")).to_contain_text(f"已于 {day[6]} 返校")
    work(livelihood, base, "销号", form["strike_off"], "下一步由系统在以下情况发生时自动启动")
    ht31.goto(f"{base}/inbox")
    expect(ht31.locator("body")).to_contain_text("暂无待办任务")

    # Four weekly checks, each after moving time a week (and a day) further with the CLI.
    struck_off_at = engine.clock()
    for week in range(1, 5):
        # Week 1 also fires the support file's overdue plan acknowledgement (its own case).
        assert fire_due(live_app, struck_off_at + timedelta(days=8 * week)) == (2 if week == 1 else 1)
        open_task(ht31, base, "返校后每周跟踪")
        expect(ht31.locator(".instructions")).to_contain_text(f"第 {week} 周，共 4 周")
        work(ht31, base, "返校后每周跟踪", form["weekly_check"], "此案件已办结" if week == 4 else "下一步由系统在以下情况发生时自动启动")

    # Closed: nothing left in the inbox, the child page shows no case, the trail is complete.
    expect(ht31.locator("body")).to_contain_text("暂无待办任务")
    ht31.goto(f"{base}/children/1")
    expect(ht31.locator("#case")).to_contain_text("没有进行中的劝返案件")
    # Its 就学状态 followed the case: 疑似辍学 when the report was filed, 在校 again on return.
    expect(ht31.locator("#status-history")).to_contain_text("在校 → 疑似辍学")
    expect(ht31.locator("#status-history")).to_contain_text("疑似辍学 → 在校")
    with engine.db.read() as session:
        [case] = session.scalars(select(ProcessInstance).where(ProcessInstance.business_key == "child:1"))
        case_id, status = case.id, case.status
    assert status == "completed"
    events = engine.history.events(case_id)
    done = [(e.element_id, e.actor) for e in events if e.kind == "task_completed"]
    assert done == [("phone_call", "ht31"), ("home_visit", "ht31"), ("visit_cosign", "moral"), ("village_check", "vsjt"),
                    ("dropout_report", "ht31"), ("confirm_report", "pzx"), ("receive_report", "town"),
                    ("issue_notice", "town"),
                    ("restore_registry", "regzx"), ("strike_off", "livelihood")] + [("weekly_check", "ht31")] * 4
    assert [e.element_id for e in events if e.kind == "message_received"] == [
        "wait_day", "wait_day", "wait_day", "wait_day", "on_returned"]
    assert [e.element_id for e in events if e.kind == "timer_fired"] == ["week_passes"] * 4
    assert events[0].kind == "instance_started" and events[-1].kind == "instance_completed"
    assert engine.history.verify_chain(case_id).ok
