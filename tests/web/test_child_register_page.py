"""/children/<id>: the register's fields masked, the change history, and the edit form for
the school's registrar and the village's secretary, reason required (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ledger import idnumber
from ledger.models import Child, ChildChange

from .pages_helpers import access_log, engine_of, html_of, post

GOOD_ID = idnumber.make("440101", date(2016, 5, 1), 1)


def edit(browser, data: dict):
    return post(browser, "/children/1/register", data, token_from="/children/1")


def history(town) -> list[tuple]:
    with engine_of(town).db.read() as session:
        return [(r.actor, r.field, r.new_value) for r in session.scalars(select(ChildChange).order_by(ChildChange.id))]


def test_the_edit_form_is_for_those_who_keep_the_register(town, browser):
    head_teacher = html_of(browser("ht31").get("/children/1"))
    assert "登记信息（底数台账）" in head_teacher and 'action="/children/1/register"' not in head_teacher
    village = html_of(browser("vsjt").get("/children/1"))
    assert 'action="/children/1/register"' in village and 'name="guardian2_phone"' in village
    assert 'name="registry_no"' not in village                      # schooling is the school's
    school = html_of(browser("regzx").get("/children/1"))
    assert 'name="registry_no"' in school and 'name="guardian2_phone"' not in school
    assert edit(browser("ht31"), {"risk_level": "high", "change_reason": "发现厌学"}).status_code == 403
    assert edit(browser("pfg"), {"risk_level": "high", "change_reason": "发现厌学"}).status_code == 404
    assert history(town) == []


def test_a_bad_change_shows_each_reason_and_stores_nothing(town, browser):
    registrar = browser("regzx")
    response = edit(registrar, {"id_number": GOOD_ID[:17] + ("1" if GOOD_ID[17] != "1" else "2"), "change_reason": ""})
    html = html_of(response)
    assert response.status_code == 422 and "请填写修改原因" in html and "校验码" in html
    response = edit(registrar, {"id_number": GOOD_ID, "birth_date": "2016-06-01", "change_reason": "核对户口簿"})
    assert response.status_code == 422 and "出生日期与身份证号中的出生日期不一致" in html_of(response)
    assert history(town) == [] and [r for r in access_log(town, "child:1") if r[1] == "change"] == []
    with engine_of(town).db.read() as session:
        assert session.get(Child, 1).id_number == "44010120160501001X"


def test_a_change_is_saved_and_shown_masked_in_the_history(town, browser):
    village = browser("vsjt")
    response = edit(village, {"guardian2_name": "张大山", "guardian2_phone": "13812345678", "hukou_type": "agricultural",
                              "flags_shown": ["special_groups"], "special_groups": ["left_behind", "orphan"],
                              "change_reason": "入户核查"})
    assert response.status_code == 302, html_of(response)
    assert sorted(f for _, f, _ in history(town)) == ["guardian2_name", "guardian2_phone", "hukou_type", "special_groups"]
    html = html_of(village.get("/children/1"))
    assert "张*山" in html and "138****5678" in html and "农业户口" in html and "孤儿、留守儿童" in html
    assert "13812345678" not in html and "张大山" not in html
    assert "入户核查" in html and "VSJT" in html                      # why, and who (display name)
    assert ("vsjt", "change", {"fields": ["hukou_type", "guardian2_name", "guardian2_phone", "special_groups"],
                               "reason": "入户核查", "via": "page"}) in access_log(town, "child:1")


def test_a_missing_reason_is_shown_on_the_edit_form_only(town, browser):
    response = edit(browser("pzx"), {"risk_level": "high", "change_reason": ""})
    html = html_of(response)
    assert response.status_code == 422 and html.count("请填写修改原因") == 1
    assert '<details id="register-edit" open>' in html and 'value="high" selected' in html
    assert history(town) == []
