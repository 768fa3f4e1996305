"""/children: each role sees its own children, masked and logged; a dropout tendency starts
a persuasion case once (SQLite and PostgreSQL)."""
from __future__ import annotations

import re
from datetime import date

import pytest

from engine.errors import Conflict
from ledger.attendance import EngineCaseSink, record_day
from ledger.models import Child

from .pages_helpers import U, access_log, cases, deploy_persuasion, engine_of, html_of, post, start_variables

REASON = "多次表示不想读书，家长打算让其外出打工"


def listed(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td data-label="姓名"><a href="/children/(\d+)">', html)]


def flag(browser, child_id: int = 1, reason: str = REASON):
    return post(browser, f"/children/{child_id}/tendency", {"reason": reason}, token_from=f"/children/{child_id}")


@pytest.mark.parametrize("user, expected", [
    ("ht31", [1]), ("ht32", [2]), ("pzx", [1, 2]), ("regzx", [1, 2]), ("pfg", [3]), ("vsjt", [1, 4]),
    ("vsfg", [2, 3]), ("leader", [1, 2, 3, 4]), ("inspector", [1, 2, 3, 4]),
])
def test_each_role_lists_only_the_children_of_its_own_units(town, browser, user, expected):
    html = html_of(browser(user).get("/children"))
    assert sorted(listed(html)) == expected and f"共 {len(expected)} 人" in html
    assert "张小明" not in html and "44010120160501001X" not in html
    assert access_log(town, "children")[-1][:2] == (user, "view")


def test_an_administrator_has_no_register(town, browser):
    response = browser("admin").get("/children")   # administrators manage accounts, not children's data
    assert response.status_code == 403 and "不能查看儿童名册" in html_of(response)


def test_the_class_filter_and_paging(town, browser):
    engine = engine_of(town)
    with engine.db.transaction() as session:
        for n in range(55):
            session.add(Child(id=100 + n, name=f"测试{n:02d}号", gender="女", birth_date=date(2016, 1, 1),
                              id_number=f"4401012016010{n:04d}X"[:18], class_code="zx-3-2", school_code="zx",
                              village_code="v-jt", created_at=engine.clock()))
    principal = browser("pzx")
    first = html_of(principal.get("/children?class=zx-3-2"))
    assert "共 56 人" in first and "第 1 / 2 页" in first and len(listed(first)) == 50 and 1 not in listed(first)
    # Class names repeat across schools: the filter says the school too (issue 17).
    assert '<option value="zx-3-2" selected>蛟潭中心学校 三年级2班</option>' in first
    assert "/children?class=zx-3-2&amp;page=2" in first
    assert len(listed(html_of(principal.get("/children?class=zx-3-2&page=2")))) == 6
    assert 1 in listed(html_of(principal.get("/children?class=fg-1-1")))      # not one of mine: ignored
    assert listed(html_of(browser("ht31").get("/children?class=zx-3-2"))) == [1]   # never widened


def test_a_child_of_another_school_is_not_found(town, browser):
    for user in ("ht11", "pfg", "ht32", "admin"):
        response = browser(user).get("/children/1")
        assert response.status_code == 404 and "无权查看该学生" in html_of(response), user
    assert browser("ht31").get("/children/999999").status_code == 404
    assert browser("ht31").get("/children/99999999999999999999").status_code == 404
    assert [entry for entry in access_log(town, "child:1")] == []


def test_the_child_page_is_masked_logged_and_counts_unexcused_school_days(town, browser):
    engine = engine_of(town)
    for day in (date(2025, 3, 6), date(2025, 3, 7), date(2025, 3, 10)):   # Thursday, Friday, Monday
        record_day(engine, "zx", day, [{"child_id": 1, "status": U, "reason": "未到校"}], "ht31")
    html = html_of(browser("ht31").get("/children/1"))
    assert "张*明" in html and "张小明" not in html and "440101************" in html
    assert "连续无故缺课 3 个上课日" in html and "自 2025-03-06 起" in html and "没有进行中的劝返案件" in html
    assert "标记辍学倾向" in html
    assert access_log(town, "child:1") == [("ht31", "view", {"fields": ["name", "id_number", "attendance", "case", "status_history", "register", "history"]})]
    village = html_of(browser("vsjt").get("/children/1"))
    assert "张*明" in village and 'action="/children/1/tendency"' not in village   # may see, may not flag


def test_a_tendency_flag_starts_a_case_once(town, browser):
    deploy_persuasion(town)
    teacher = browser("ht31")
    empty = flag(teacher, reason="   ")
    assert empty.status_code == 422 and re.search(r'id="e-reason" role="alert">请填写', html_of(empty))
    assert flag(teacher, reason="很" * 201).status_code == 422 and cases(town, 1) == []

    done = flag(teacher)
    assert done.status_code == 302 and done.headers["Location"].endswith("/children/1")
    [(case_id, status)] = cases(town, 1)
    assert status == "active" and start_variables(town, case_id) == {
        "child_id": 1, "absence_days": 0, "first_absence": None, "trigger": "tendency", "tendency_reason": REASON,
        "recent_absences": 0, "intermittent_days": 5, "child_age": 10}
    page = html_of(teacher.get("/children/1"))
    assert "已标记辍学倾向" in page and f"案件编号 {case_id}" in page and "电话联系监护人" in page
    assert ("ht31", "change", {"instance_id": case_id, "tendency": True}) in access_log(town, "child:1")

    again = flag(teacher)
    assert again.status_code == 409 and "已有未结的劝返案件" in html_of(again) and len(cases(town, 1)) == 1
    assert flag(browser("pzx")).status_code == 409     # the principal may flag too; the case is open


def test_only_the_childs_teacher_principal_or_task_force_may_flag(town, browser):
    deploy_persuasion(town)
    assert flag(browser("vsjt")).status_code == 403           # sees the child, may not flag
    assert flag(browser("inspector")).status_code == 403
    assert flag(browser("ht32")).status_code == 404           # does not see the child
    assert flag(browser("pfg")).status_code == 404
    assert cases(town, 1) == []
    assert flag(browser("deputy"), child_id=2).status_code == 302 and len(cases(town, 2)) == 1


def test_without_the_persuasion_process_the_flag_says_so(town, browser):
    response = flag(browser("ht31"))
    assert response.status_code == 404 and "劝返流程（persuasion）尚未部署" in html_of(response)
    assert "not deployed" not in html_of(response) and cases(town, 1) == []


def test_the_sink_refuses_a_second_open_case(town):
    deploy_persuasion(town)
    sink = EngineCaseSink(engine_of(town), actor="ht31")
    event = sink.tendency(1, reason=REASON)
    assert event.kind == "started" and event.detail["child_id"] == 1
    with pytest.raises(Conflict, match="已有未结的劝返案件"):
        sink.tendency(1, reason=REASON)


def test_a_flag_without_a_csrf_token_is_refused(town, browser):
    deploy_persuasion(town)
    response = browser("ht31").post("/children/1/tendency", data={"reason": REASON})
    assert response.status_code == 400 and "页面已过期" in html_of(response) and cases(town, 1) == []
