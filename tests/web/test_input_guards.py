"""What a user can type never gives a 500 and stores nothing: NUL characters in page forms,
numbers beyond what the database stores in URLs and JSON."""
from __future__ import annotations

from .pages_helpers import U, cases, deploy_persuasion, html_of, post, stored


def test_a_nul_character_in_a_page_form_is_refused_in_chinese_and_nothing_is_stored(town, browser):
    deploy_persuasion(town)
    ht31 = browser("ht31")
    response = post(ht31, "/attendance", {"class": "zx-3-1", "date": "2025-03-07", "status-1": U,
                                          "reason-1": "生病\x00了"}, token_from="/attendance")
    assert response.status_code == 400 and "空字符" in html_of(response)
    assert stored(town) == [] and cases(town, 1) == []
    flagged = post(ht31, "/children/1/tendency", {"reason": "a\x00b"}, token_from="/children/1")
    assert flagged.status_code == 400 and cases(town, 1) == []


def test_numbers_too_large_for_the_database_are_bad_input_not_errors(town, browser, as_user):
    admin = browser("admin")
    assert admin.get("/admin/users/99999999999999999999").status_code in (400, 404)
    headers = as_user("pzx")
    response = town.test_client().post("/api/v1/attendance", headers=headers, json={
        "school_code": "zx", "date": "2025-03-07", "records": [{"child_id": 99999999999999999999999, "status": U}]})
    assert response.status_code == 422 and "records.0" in response.json["errors"]
    assert stored(town) == []
    users = town.test_client().get("/api/v1/users/99999999999999999999", headers=as_user("admin"))
    assert users.status_code in (400, 404) and users.json["message"]


def test_a_method_no_page_has_is_405_not_a_csrf_refusal(town, browser):
    ht31 = browser("ht31")
    assert ht31.put("/attendance").status_code == 405
    assert ht31.delete("/children/1").status_code == 405
    assert ht31.post("/no-such-page").status_code == 404
    assert ht31.post("/attendance", data={"class": "zx-3-1"}).status_code == 400     # a real page: CSRF still applies


def test_a_bad_date_in_the_attendance_address_says_so_and_shows_today(town, browser):
    html = html_of(browser("ht31").get("/attendance?date=abc"))
    assert "日期有误，下面显示的是今天的考勤" in html and "未保存任何记录" not in html
