"""/attendance: a head teacher marks the day; absences start persuasion cases (SQLite and PostgreSQL).

The persuasion process is ``tests/api/bpmn/persuasion_standin.bpmn`` (as in the API tests):
the head teacher's call, and a loop taking ``absence_day`` / ``returned`` messages.
"""
from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl
import pytest

from engine.tasks import TaskQuery
from tests.hostile_xlsx import BILLION_LAUGHS, with_doctype, zip_bomb

from .pages_helpers import (
    E, P, U, access_log, cases, deploy_persuasion, engine_of, html_of, post, start_variables, stored,
)

DAY = "2025-03-07"   # a Friday, a school day


@pytest.fixture
def persuasion(town):
    deploy_persuasion(town)
    return town


def checked(html: str, child_id: int) -> str | None:
    """The status whose radio is checked for the child, or None."""
    match = re.search(rf'name="status-{child_id}" value="(\w+)" checked', html)
    return match.group(1) if match else None


def mark(browser, data: dict, klass: str = "zx-3-1", day: str = DAY):
    return post(browser, "/attendance", {"class": klass, "date": day, **data}, token_from="/attendance")


def test_everyone_is_present_by_default_by_full_name_for_those_who_report(town, browser):
    html = html_of(browser("ht31").get(f"/attendance?date={DAY}"))
    assert "三年级1班" in html and "张小明" in html          # the class's own register: names unmasked
    assert "张小明" not in html_of(browser("ht32").get("/attendance"))
    assert checked(html, 1) == P and 'name="status-2"' not in html      # another class's child is not listed
    assert "本日尚未报送" in html and 'id="upload"' not in html          # the Excel upload is for the school
    assert access_log(town, "attendance:zx-3-1")[-1][:2] == ("ht31", "view")


def test_an_unexcused_absence_starts_a_case_and_resending_the_day_starts_no_second_one(persuasion, browser):
    town, teacher = persuasion, browser("ht31")
    response = mark(teacher, {"status-1": U, "reason-1": "电话未接通"})
    html = html_of(response)
    assert response.status_code == 200 and "已保存" in html and "已发起劝返案件" in html
    [(case_id, status)] = cases(town, 1)
    assert status == "active" and f"案件编号 {case_id}" in html
    [task] = engine_of(town).tasks.list(TaskQuery(instance_id=case_id))[0]
    assert f'<a href="/tasks/{task.id}">电话联系监护人</a>' in html and "张小明" in html
    assert start_variables(town, case_id) == {"child_id": 1, "absence_days": 1, "first_absence": DAY,
                                              "trigger": "absence", "recent_absences": 1, "intermittent_days": 5,
                                              "child_age": 8}
    assert stored(town) == [(1, DAY, U, "ht31")]

    again = html_of(mark(teacher, {"status-1": U, "reason-1": "电话未接通"}))
    assert "没有发起新的案件" in again and "已发起劝返案件" not in again and len(cases(town, 1)) == 1
    shown = html_of(teacher.get(f"/attendance?date={DAY}"))
    assert checked(shown, 1) == U and "已报：无故缺课" in shown and 'value="电话未接通"' in shown

    monday = html_of(mark(teacher, {"status-1": U}, day="2025-03-10"))
    assert "已通知进行中的案件" in monday and "又一天无故缺课" in monday and len(cases(town, 1)) == 1
    back = html_of(mark(teacher, {"status-1": P}, day="2025-03-11"))
    assert "已返校" in back and cases(town, 1) == [(case_id, "completed")]


def test_an_excused_absence_is_stored_without_a_case(persuasion, browser):
    html = html_of(mark(browser("ht31"), {"status-1": E, "reason-1": "病假"}))
    assert "已保存" in html and cases(persuasion, 1) == [] and stored(persuasion) == [(1, DAY, E, "ht31")]


def test_another_class_and_its_children_are_refused_and_nothing_is_stored(persuasion, browser):
    teacher = browser("ht31")
    refused = mark(teacher, {"status-2": U}, klass="zx-3-2")
    assert refused.status_code == 403 and "不能报送该班级" in html_of(refused)
    smuggled = mark(teacher, {"status-1": U, "status-2": U})
    html = html_of(smuggled)
    assert smuggled.status_code == 422 and "未保存任何记录" in html and "儿童 2 不在您的班级" in html
    assert mark(browser("ht11"), {"status-1": U}, klass="zx-3-1").status_code == 403   # another school
    assert stored(persuasion) == [] and cases(persuasion, 1) == [] and cases(persuasion, 2) == []
    assert browser("vsjt").get("/attendance").status_code == 403                      # not a reporter


def test_a_future_date_a_day_off_and_a_bad_date_are_refused_in_chinese(persuasion, browser):
    engine = engine_of(persuasion)
    tomorrow = (engine.clock().astimezone(engine.zone).date() + timedelta(days=1)).isoformat()
    teacher = browser("ht31")
    future = mark(teacher, {"status-1": U}, day=tomorrow)
    assert future.status_code == 422
    assert re.search(r'id="e-date" role="alert">[^<]*是未来的日期', html_of(future))
    weekend = mark(teacher, {"status-1": U}, day="2025-03-08")
    assert weekend.status_code == 422 and "不是该校的上课日" in html_of(weekend)
    for bad, message in (("2025-13-01", "日期格式应为"), ("", "请填写日期"), ("1900-01-01", "日期不能早于")):
        response = mark(teacher, {"status-1": U}, day=bad)
        assert response.status_code == 422 and message in html_of(response), bad
    too_long = mark(teacher, {"status-1": U, "reason-1": "很" * 201})
    assert too_long.status_code == 422 and re.search(r'id="e-1" role="alert">原因不能超过 200 字', html_of(too_long))
    bad_status = mark(teacher, {"status-1": "gone"})
    assert bad_status.status_code == 422 and "无效" in html_of(bad_status)
    assert mark(teacher, {}).status_code == 422
    assert stored(persuasion) == [] and cases(persuasion, 1) == []
    assert "不是本校的上课日" in html_of(teacher.get("/attendance?date=2025-10-03"))   # National Day
    assert teacher.get("/attendance?date=not-a-date").status_code == 200               # shown with the error


def test_a_principal_reports_any_class_of_the_school(persuasion, browser):
    principal = browser("pzx")
    html = html_of(principal.get("/attendance?class=zx-3-2"))
    assert '<option value="zx-3-1">' in html and '<option value="zx-3-2" selected>' in html
    assert "李红" in html and 'id="upload"' in html and "fg-1-1" not in html
    assert "已保存" in html_of(mark(principal, {"status-2": U}, klass="zx-3-2"))
    assert [c[1] for c in cases(persuasion, 2)] == ["active"]


def workbook(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["学生ID", "姓名", "班级", "状态（到校/请假/无故缺课）", "原因"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(browser, data: bytes, name: str = "day.xlsx", day: str = DAY, school: str = "zx"):
    return post(browser, "/attendance/upload", {"school": school, "date": day, "file": (io.BytesIO(data), name)},
                token_from="/attendance", content_type="multipart/form-data")


def test_the_excel_upload_lists_each_bad_row_in_chinese_and_stores_all_or_nothing(persuasion, browser):
    principal = browser("pzx")
    bad = upload(principal, workbook([[1, "张小明", "三年级1班", "无故缺课", ""], [2, "李红", "", "逃学", ""],
                                      [3, "", "", "到校", ""]]))
    html = html_of(bad)
    assert bad.status_code == 422 and "文件未导入" in html
    assert "第3行：儿童 2 的状态 “逃学” 无效" in html and "第4行：儿童 3 不存在或不在该校" in html
    assert stored(persuasion) == []
    assert upload(principal, b"not excel", name="day.csv").status_code == 422
    good = upload(principal, workbook([[1, "张小明", "三年级1班", "无故缺课", "未到校"], [2, "李红", "", "到校", ""]]))
    assert good.status_code == 200 and "已导入" in html_of(good) and "已发起劝返案件" in html_of(good)
    assert stored(persuasion) == [(1, DAY, U, "pzx"), (2, DAY, P, "pzx")] and len(cases(persuasion, 1)) == 1
    assert upload(browser("ht31"), workbook([[1, "", "", "到校", ""]])).status_code == 403   # a class, not the school
    assert upload(principal, workbook([[2, "", "", "到校", ""]]), school="fg").status_code == 403


def test_a_hostile_workbook_gets_a_chinese_refusal_not_a_server_error(persuasion, browser):
    principal = browser("pzx")
    good = workbook([[1, "张小明", "三年级1班", "到校", ""]])
    laughs = upload(principal, with_doctype(good, BILLION_LAUGHS))
    assert laughs.status_code == 422 and "含有 XML 文档类型声明（DTD）" in html_of(laughs)
    bomb = upload(principal, zip_bomb(good, 11 * 1024 * 1024))
    assert bomb.status_code == 413 and "文件解压后过大" in html_of(bomb)
    assert stored(persuasion) == []


def test_posts_without_a_csrf_token_are_refused_and_store_nothing(persuasion, browser):
    teacher = browser("ht31")
    for token in ({}, {"csrf_token": "forged"}):
        response = teacher.post("/attendance", data={"class": "zx-3-1", "date": DAY, "status-1": U, **token})
        assert response.status_code == 400 and "页面已过期" in html_of(response)
    assert stored(persuasion) == [] and cases(persuasion, 1) == []
