"""/calendar: statutory holidays off, make-up days on, the fallback notice, a school's own
days set by its principal (SQLite and PostgreSQL)."""
from __future__ import annotations

import re
from datetime import date

import pytest

from engine.calendar import BusinessCalendar
from engine.errors import InvalidInput
from ledger.attendance import record_day
from ledger.school_calendar import DEFAULT_ZONE

from .pages_helpers import U, access_log, calendar_rows, engine_of, html_of, post

OCTOBER = "/calendar?school=zx&month=2025-10"


def state(html: str, day: str) -> str:
    """"上课" or "放假" as the month grid shows ``day``."""
    match = re.search(rf'id="d-{day}">\s*<span class="num">\d+</span>\s*<span class="state">(\S+)</span>', html)
    assert match, f"{day} not in the grid"
    return match.group(1)


def change(browser, data: dict, school: str = "zx"):
    return post(browser, "/calendar", {"school": school, **data}, token_from=OCTOBER)


def test_national_day_is_off_and_the_make_up_saturday_is_a_school_day(town, browser):
    html = html_of(browser("ht31").get(OCTOBER))
    for n in range(1, 9):
        assert state(html, f"2025-10-{n:02d}") == "放假", n
    assert state(html, "2025-10-11") == "上课" and "调休上课（国庆节）" in html
    assert state(html, "2025-10-09") == "上课" and state(html, "2025-10-12") == "放假"
    assert "尚未收录" not in html and 'id="edit"' not in html     # a head teacher only looks
    assert "<option value=\"zx\" selected>" in html


def test_a_year_chinesecalendar_does_not_know_shows_the_fallback_notice(town, browser):
    year = 2027 if BusinessCalendar(DEFAULT_ZONE).uses_fallback(2027) else 2099
    html = html_of(browser("ht31").get(f"/calendar?school=zx&month={year}-01"))
    assert f"系统尚未收录 {year} 年的法定节假日" in html and "周一至周五上课" in html
    assert "尚未收录" not in html_of(browser("ht31").get(OCTOBER))
    bad = browser("ht31").get("/calendar?month=2025-13")
    assert bad.status_code == 200 and "月份格式应为" in html_of(bad)


def test_a_principal_sets_and_clears_the_schools_own_day_and_it_is_logged(town, browser):
    principal = browser("pzx")
    assert 'id="edit"' in html_of(principal.get(OCTOBER))
    done = change(principal, {"date": "2025-10-13", "kind": "off", "note": "秋季运动会"})
    assert done.status_code == 302 and done.headers["Location"].endswith(OCTOBER)
    html = html_of(principal.get(OCTOBER))
    assert state(html, "2025-10-13") == "放假" and "本校放假：秋季运动会" in html and "已将 2025-10-13 设为放假" in html
    assert calendar_rows(town) == [("zx", "2025-10-13", False, "秋季运动会")]
    with pytest.raises(InvalidInput):   # attendance follows the school's calendar at once
        record_day(engine_of(town), "zx", date(2025, 10, 13), [{"child_id": 1, "status": U}], "ht31")
    assert state(html_of(principal.get("/calendar?school=fg&month=2025-10")), "2025-10-13") == "上课"

    assert change(principal, {"date": "2025-10-12", "kind": "on", "note": "补课"}).status_code == 302
    assert state(html_of(principal.get(OCTOBER)), "2025-10-12") == "上课"
    assert change(principal, {"date": "2025-10-13", "kind": "clear"}).status_code == 302
    assert calendar_rows(town) == [("zx", "2025-10-12", True, "补课")]
    assert state(html_of(principal.get(OCTOBER)), "2025-10-13") == "上课"
    log = access_log(town, "calendar:zx")
    assert [(who, action) for who, action, _ in log] == [("pzx", "change")] * 3
    assert log[-1][2] == {"date": "2025-10-13", "set": None, "note": "",
                          "before": {"is_school_day": False, "note": "秋季运动会"}}


def test_an_administrator_may_set_a_day_too(town, browser):
    assert change(browser("admin"), {"date": "2025-10-14", "kind": "off"}).status_code == 302
    assert calendar_rows(town) == [("zx", "2025-10-14", False, "")]


def test_others_and_bad_input_are_refused_and_nothing_is_stored(town, browser):
    assert change(browser("ht31"), {"date": "2025-10-13", "kind": "off"}).status_code == 403
    assert change(browser("pfg"), {"date": "2025-10-13", "kind": "off"}).status_code == 403   # another school
    assert change(browser("pzx"), {"date": "2025-10-13", "kind": "off"}, school="nowhere").status_code == 404
    principal = browser("pzx")
    for data, field, message in (
            ({"date": "2025-02-30", "kind": "off"}, "date", "请填写有效日期"),
            ({"date": "", "kind": "off"}, "date", "请填写日期"),
            ({"date": "1999-12-31", "kind": "off"}, "date", "日期应在"),
            ({"date": "2025-10-13", "kind": "holiday"}, "kind", "请选择"),
            ({"date": "2025-10-13", "kind": "off", "note": "长" * 201}, "note", "说明不能超过")):
        response = change(principal, data)
        assert response.status_code == 422, data
        assert re.search(rf'id="e-{field}" role="alert">{message}', html_of(response)), data
    no_token = principal.post("/calendar", data={"school": "zx", "date": "2025-10-13", "kind": "off"})
    assert no_token.status_code == 400 and "页面已过期" in html_of(no_token)
    assert calendar_rows(town) == [] and access_log(town, "calendar:zx") == []
