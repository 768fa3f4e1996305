"""/api/v1/children: the register scoped, masked and logged as the pages; changes checked,
all or nothing, with their history (issue 15 "The child register"; SQLite and PostgreSQL)."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from ledger import idnumber
from ledger.models import AccessLog, Child, ChildChange

GOOD_ID = idnumber.make("440101", date(2016, 5, 1), 1)    # child 1: born 2016-05-01, a boy
REASON = "入户核查后更正"


def engine_of(town):
    return town.extensions["baoxue.engine"]


def log_rows(town, subject: str) -> list[tuple[str, str, dict]]:
    with engine_of(town).db.read() as session:
        rows = session.scalars(select(AccessLog).where(AccessLog.subject == subject).order_by(AccessLog.id))
        return [(r.username, r.action, json.loads(r.detail)) for r in rows]


def child_row(town, child_id: int) -> dict:
    with engine_of(town).db.read() as session:
        child = session.get(Child, child_id)
        return {c.name: getattr(child, c.name) for c in Child.__table__.columns}


def changes_of(town, child_id: int) -> list[tuple]:
    with engine_of(town).db.read() as session:
        return [(r.actor, r.field, r.old_value, r.new_value, r.reason) for r in session.scalars(
            select(ChildChange).where(ChildChange.child_id == child_id).order_by(ChildChange.id))]


def patch(client, as_user, user, child_id, changes, reason=REASON):
    body = {"changes": changes} | ({"reason": reason} if reason is not None else {})
    return client.patch(f"/api/v1/children/{child_id}", json=body, headers=as_user(user))


@pytest.mark.parametrize("user, expected", [
    ("ht31", [1]), ("ht32", [2]), ("pzx", [1, 2]), ("regzx", [1, 2]), ("pfg", [3]), ("vsjt", [1, 4]),
    ("vsfg", [2, 3]), ("leader", [1, 2, 3, 4]), ("inspector", [1, 2, 3, 4]),
])
def test_the_list_is_scoped_masked_and_logged_as_the_pages(client, as_user, town, user, expected):
    response = client.get("/api/v1/children", headers=as_user(user))
    assert response.status_code == 200, response.json
    assert sorted(i["id"] for i in response.json["items"]) == expected and response.json["total"] == len(expected)
    text = response.get_data(as_text=True)
    assert "张小明" not in text and "44010120160501001X" not in text and "2016-05-01" not in text
    first = {i["id"]: i for i in response.json["items"]}[expected[0]]
    assert first["id_number"] == "440101************" and first["birth_date"] == "2016-**-**"
    assert first["status"] == {"code": "enrolled", "label": "在校", "group": "A", "out_of_school": False}
    assert log_rows(town, "children")[-1][:2] == (user, "view")
    assert log_rows(town, "children")[-1][2]["children"] == [i["id"] for i in response.json["items"]]


def test_outside_the_scope_is_403_for_no_register_and_404_for_a_child(client, as_user, town):
    assert client.get("/api/v1/children", headers=as_user("admin")).status_code == 403
    for user, child_id in (("ht31", 2), ("pfg", 1), ("vsfg", 1), ("admin", 1), ("ht31", 999999)):
        assert client.get(f"/api/v1/children/{child_id}", headers=as_user(user)).status_code == 404, user
        assert client.get(f"/api/v1/children/{child_id}/history", headers=as_user(user)).status_code == 404
        assert patch(client, as_user, user, child_id, {"address": "某地"}).status_code == 404
    assert log_rows(town, "child:1") == [] and log_rows(town, "child:2") == []
    assert client.get("/api/v1/children").status_code == 401


def test_one_child_masked_and_a_reveal_needs_a_reason_and_is_logged(client, as_user, town):
    one = client.get("/api/v1/children/1", headers=as_user("ht31"))
    assert one.status_code == 200 and one.json["name"] == "张*明" and "revealed" not in one.json
    assert one.json["class_name"] == "三年级1班" and one.json["may_change"] == []
    assert log_rows(town, "child:1") == [("ht31", "view", {"fields": ["register"], "via": "api"})]
    missing = client.get("/api/v1/children/1?reveal=id_number", headers=as_user("regzx"))
    assert missing.status_code == 422 and "reason" in missing.json["errors"]
    assert [r[1] for r in log_rows(town, "child:1")] == ["view"]       # nothing logged on refusal
    assert client.get("/api/v1/children/1?reveal=id_number&reason=核对学籍信息",
                      headers=as_user("vsjt")).status_code == 403  # a village may see, not reveal
    shown = client.get("/api/v1/children/1?reveal=id_number&reveal=name&reason=核对学籍信息", headers=as_user("regzx"))
    assert shown.status_code == 200
    assert shown.json["revealed"] == {"id_number": "44010120160501001X", "name": "张小明"}
    assert shown.json["id_number"] == "440101************"
    assert ("regzx", "reveal", {"fields": ["id_number", "name"], "reason": "核对学籍信息", "via": "api"}) \
        in log_rows(town, "child:1")


@pytest.mark.parametrize("changes, field, words", [
    ({"id_number": GOOD_ID[:17] + ("1" if GOOD_ID[17] != "1" else "2")}, "changes.id_number", "校验码"),
    ({"id_number": GOOD_ID, "birth_date": "2016-05-02"}, "changes.birth_date", "不一致"),
    ({"id_number": idnumber.make("440101", date(2016, 5, 1), 2)}, "changes.id_number", "性别"),
    ({"enrolment_status": "on_holiday"}, "changes.enrolment_status", "没有"),
    ({"special_groups": ["orphan", "rich"]}, "changes.special_groups", "没有"),
    ({"verified_on": "2099-01-01"}, "changes.verified_on", "晚于今天"),
    ({"verified_on": "01/02/2025"}, "changes.verified_on", "日期"),
    ({"class_code": "fg-1-1"}, "changes.class_code", "不属于"),
    ({"disability_grade": "2"}, "changes.disability_grade", "残疾"),
    ({"name": ""}, "changes.name", "不能为空"),
    ({"favourite_colour": "红"}, "changes.favourite_colour", "没有此项"),
])
def test_a_bad_change_is_422_naming_the_field_and_stores_nothing(client, as_user, town, changes, field, words):
    before = child_row(town, 1)
    response = patch(client, as_user, "regzx", 1, {"risk_level": "high", **changes})
    assert response.status_code == 422, response.json
    assert field in response.json["errors"] and words in response.json["errors"][field], response.json
    assert child_row(town, 1) == before and changes_of(town, 1) == []
    assert [r for r in log_rows(town, "child:1") if r[1] == "change"] == []


def test_a_reason_is_required(client, as_user, town):
    for reason in (None, "", " "):
        response = patch(client, as_user, "vsjt", 1, {"address": "蛟潭村三组"}, reason=reason)
        assert response.status_code == 422 and "reason" in response.json["errors"]
    assert child_row(town, 1)["address"] is None and changes_of(town, 1) == []


def test_who_may_change_which_fields(client, as_user, town):
    # The school keeps schooling, the village the household; neither the other's; the head
    # teacher, the town and the administrator none.
    refused = patch(client, as_user, "vsjt", 1, {"registry_no": "G" + GOOD_ID})
    assert refused.status_code == 403 and "changes.registry_no" in refused.json["errors"]
    assert patch(client, as_user, "regzx", 1, {"guardian2_phone": "13800001111"}).status_code == 403
    for user in ("ht31", "leader", "deputy", "inspector"):
        assert patch(client, as_user, user, 1, {"risk_level": "high"}).status_code == 403, user
    assert changes_of(town, 1) == []
    assert client.get("/api/v1/children/1", headers=as_user("vsjt")).json["may_change"].count("address") == 1


def test_a_change_is_stored_with_its_history_masked(client, as_user, town):
    school = patch(client, as_user, "regzx", 1, {"id_number": GOOD_ID, "enrolment_status": "dropped_out",
                                                  "special_groups": ["disability", "left_behind"],
                                                  "disability_type": "hearing", "disability_grade": "3",
                                                  "risk_level": "high", "risk_factors": ["dislikes_school"]})
    assert school.status_code == 200, school.json
    assert school.json["status"]["out_of_school"] is True and school.json["id_number"] == "440101************"
    assert sorted(school.json["changed"]) == sorted(["id_number", "enrolment_status", "special_groups",
                                                     "disability_type", "disability_grade", "risk_level", "risk_factors"])
    village = patch(client, as_user, "vsjt", 1, {"guardian2_name": "张大山", "guardian2_phone": "13812345678",
                                                  "address": "蛟潭村三组 12 号", "verify_method": "home_visit",
                                                  "verified_on": "2025-03-01", "verified_by": "李网格"})
    assert village.status_code == 200, village.json
    assert village.json["guardian2_phone"] == "138****5678" and village.json["guardian2_name"] == "张*山"
    again = patch(client, as_user, "vsjt", 1, {"address": "蛟潭村三组 12 号"})   # the same value: no change
    assert again.status_code == 200 and again.json["changed"] == []
    stored = child_row(town, 1)
    assert stored["id_number"] == GOOD_ID and stored["special_groups"] == "disability,left_behind"
    assert stored["verified_on"] == date(2025, 3, 1) and stored["enrolment_status"] == "dropped_out"
    rows = changes_of(town, 1)
    assert ("regzx", "id_number", "44010120160501001X", GOOD_ID, REASON) in rows and len(rows) == 13
    history = client.get("/api/v1/children/1/history", headers=as_user("ht31"))
    assert history.status_code == 200 and history.json["total"] == 13
    by_field = {h["field"]: h for h in history.json["items"]}
    assert by_field["id_number"]["old"] == "440101************" and by_field["id_number"]["field_label"] == "身份证号"
    assert by_field["guardian2_phone"]["new"] == "138****5678" and by_field["enrolment_status"]["new"] == "辍学"
    assert by_field["special_groups"]["new"] == "残疾、留守儿童" and by_field["address"]["actor"] == "vsjt"
    assert GOOD_ID not in history.get_data(as_text=True) and "13812345678" not in history.get_data(as_text=True)
    changes = [r for r in log_rows(town, "child:1") if r[1] == "change"]
    assert [r[0] for r in changes] == ["regzx", "vsjt", "vsjt"] and changes[0][2]["reason"] == REASON
    assert ("ht31", "view", {"fields": ["history"], "via": "api"}) in log_rows(town, "child:1")


def test_filters_search_and_paging(client, as_user, town):
    engine = engine_of(town)
    with engine.db.transaction() as session:
        for n in range(25):
            session.add(Child(id=100 + n, name=f"测试{n:02d}号", gender="女", birth_date=date(2016, 1, 1),
                              id_number=idnumber.make("440101", date(2016, 1, 1), 2 * n), class_code="zx-3-2",
                              school_code="zx", village_code="v-fg", created_at=engine.clock(),
                              enrolment_status="not_enrolled" if n < 3 else "enrolled",
                              special_groups="orphan" if n % 5 == 0 else "left_behind,orphan" if n == 7 else "",
                              risk_level="high" if n == 4 else None))

    def ids(query, user="pzx"):
        response = client.get(f"/api/v1/children?{query}", headers=as_user(user))
        assert response.status_code == 200, response.json
        return response.json

    page = ids("class=zx-3-2&per_page=10&page=3")
    assert page["total"] == 26 and len(page["items"]) == 6 and page["page"] == 3 and page["per_page"] == 10
    assert [i["id"] for i in ids("status=not_enrolled")["items"]] == [100, 101, 102]
    assert [i["id"] for i in ids("group=orphan")["items"]] == [100, 105, 107, 110, 115, 120]
    assert [i["id"] for i in ids("risk=high")["items"]] == [104]
    assert [i["id"] for i in ids("q=测试07")["items"]] == [107]
    number = idnumber.make("440101", date(2016, 1, 1), 14)
    assert [i["id"] for i in ids(f"q={number}")["items"]] == [107]
    assert ids(f"q={number[:12]}")["total"] == 0                      # an ID number matches whole only
    assert ids("village=v-fg", user="ht31")["total"] == 0             # a filter never widens the scope
    assert ids("q=测试", user="vsjt")["total"] == 0
    for bad in ("per_page=201", "page=0", "status=on_holiday", "group=rich", "risk=extreme"):
        response = client.get(f"/api/v1/children?{bad}", headers=as_user("pzx"))
        assert response.status_code == 422 and response.json["errors"], bad
