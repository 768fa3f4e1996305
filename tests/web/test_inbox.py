"""The inbox page: only my tasks, masked names, filters, overdue first, claims shown."""
from __future__ import annotations

import re
from datetime import timedelta

from engine.persistence.models import HumanTask

from .conftest import csrf_token


def set_due(town, task_id, delta: timedelta):
    engine = town.extensions["baoxue.engine"]
    with engine.db.transaction() as session:
        session.get(HumanTask, task_id).due_at = engine.clock() + delta


def test_a_head_teacher_sees_her_classs_case_with_the_childs_name_and_others_see_nothing(browser, home_visit):
    task_id = home_visit(child_id=1)
    html = browser("ht31").get("/inbox").get_data(as_text=True)
    assert f'href="/tasks/{task_id}"' in html and "班主任家访" in html and "共 1 项" in html
    assert "张小明" in html and "（男）" in html         # her own candidate task: the name she needs
    assert "蛟潭中心学校 三年级1班" in html and "班主任 三年级1班" in html
    assert "未认领" in html and "badge-red" not in html
    other = browser("ht32").get("/inbox").get_data(as_text=True)
    assert task_id not in other and "共 0 项" in other and "暂无待办任务" in other
    # the village secretary's turn has not come yet
    assert task_id not in browser("vsjt").get("/inbox").get_data(as_text=True)


def test_overdue_tasks_come_first_in_red_and_the_filter_keeps_only_them(town, browser, home_visit):
    on_time, late = home_visit(child_id=1), home_visit(child_id=1)
    set_due(town, late, timedelta(days=-1))
    ht31 = browser("ht31")
    html = ht31.get("/inbox").get_data(as_text=True)
    assert html.index(late) < html.index(on_time) and "共 2 项" in html
    assert html.count(">已逾期<") == 1 and 'class="is-overdue"' in html
    only_late = ht31.get("/inbox?overdue=1").get_data(as_text=True)
    assert late in only_late and on_time not in only_late and "共 1 项" in only_late


def search(browser, **fields):
    return browser.post("/inbox", data={**fields, "csrf_token": csrf_token(browser, "/inbox")})


def test_search_by_full_name_and_role_filter(town, browser, home_visit):
    task_id = home_visit(child_id=1)
    ht31 = browser("ht31")
    form = ht31.get("/inbox").get_data(as_text=True)
    assert '<form method="post" action="/inbox" class="filters">' in form and 'name="q"' in form
    assert task_id in search(ht31, q="张小明").get_data(as_text=True)
    missing = search(ht31, q="李红").get_data(as_text=True)
    assert task_id not in missing and "没有符合条件的待办任务" in missing
    assert task_id in ht31.get("/inbox?q=李红").get_data(as_text=True)   # a name in the address is ignored
    assert ht31.post("/inbox", data={"q": "张小明"}).status_code == 400    # the form needs its CSRF token
    assert task_id in ht31.get("/inbox?scope=head_teacher:zx-3-1").get_data(as_text=True)
    # a scope that is not one of mine is ignored, never widened
    assert task_id in ht31.get("/inbox?scope=head_teacher:zx-3-2").get_data(as_text=True)
    assert task_id not in browser("ht32").get("/inbox?scope=head_teacher:zx-3-1").get_data(as_text=True)


def test_a_claim_is_shown_and_pages_hold_twenty(town, browser, home_visit):
    ids = [home_visit(child_id=1) for _ in range(21)]
    town.extensions["baoxue.engine"].tasks.claim(ids[0], "ht31")
    ht31 = browser("ht31")
    first = ht31.get("/inbox").get_data(as_text=True)
    assert "共 21 项" in first and "第 1 / 2 页" in first and "已由 HT31 认领" in first
    assert first.count('href="/tasks/') == 20 and "/inbox?page=2" in first
    second = ht31.get("/inbox?page=2").get_data(as_text=True)
    assert second.count('href="/tasks/') == 1 and "上一页" in second


def test_a_name_search_pages_by_posting_and_the_name_is_in_no_address(town, browser, home_visit):
    ids = [home_visit(child_id=1) for _ in range(21)]
    ht31 = browser("ht31")
    first = search(ht31, q="张小明", overdue="").get_data(as_text=True)
    assert "共 21 项" in first and "第 1 / 2 页" in first and first.count('href="/tasks/') == 20
    assert '<input type="hidden" name="q" value="张小明">' in first and 'name="page" value="2"' in first
    assert "张小明" not in "".join(re.findall(r'(?:href|action)="([^"]*)"', first))
    second = search(ht31, q="张小明", page="2").get_data(as_text=True)
    assert second.count('href="/tasks/') == 1 and 'name="page" value="1"' in second
    assert {ids[0], ids[-1]} & set(re.findall(r'href="/tasks/([^"]+)"', first + second)) == {ids[0], ids[-1]}


def test_the_inbox_needs_a_session(client, town):
    assert client.get("/inbox").status_code == 302
