"""GET /api/v1/process-instances: every filter, each role's scope, the counts, 422s (issue 13 "Case lists")."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.persistence.models import ProcessInstance
from ledger.models import AccessLog

from .case_list_town import build_cases
from .town import token


@pytest.fixture
def cases(town):
    return build_cases(town.extensions["baoxue.engine"])


def listed(client, headers, **params) -> dict:
    response = client.get("/api/v1/process-instances", headers=headers, query_string=params)
    assert response.status_code == 200, response.json
    return response.json


def ids(client, headers, **params) -> set[int]:
    return {item["id"] for item in listed(client, headers, per_page=200, **params)["items"]}


def test_each_role_sees_its_scope_and_the_case_pages_agree(client, as_user, cases, town):
    """The inspector, the task force and the county see every case; a principal their school's,
    a village secretary their village's; a head teacher their own tasks'; others none."""
    c = cases
    every = {c.a, c.b, c.c, c.d, c.e, c.f}
    expected = {"inspector": every, "leader": every, "deputy": every, "county": every,
                "pzx": {c.a, c.c, c.d}, "pfg": {c.b}, "vsfg": {c.b, c.c}, "vsjt": {c.a, c.d},
                "ht31": {c.a}, "ht32": {c.c}, "ht11": {c.b}, "regzx": set(), "town": set(), "admin": set()}
    for username, visible in expected.items():
        assert ids(client, as_user(username)) == visible, username
        for instance_id in every:   # the case's own page follows the same rule (access.case_scope)
            status = client.get(f"/api/v1/process-instances/{instance_id}", headers=as_user(username)).status_code
            assert status == (200 if instance_id in visible else 404), (username, instance_id)


def test_items_say_what_the_case_is_with_the_child_masked(client, as_user, cases):
    data = listed(client, as_user("inspector"), sort="id", order="asc")
    items = {item["id"]: item for item in data["items"]}
    a, b, d = items[cases.a], items[cases.b], items[cases.d]
    assert a["process_key"] == "traced_case" and a["process_name"] == "测试劝返案件" and a["version"] == 1
    assert a["status"] == "running" and a["current_steps"] == ["班主任家访"] and a["overdue"] is False
    assert a["due_at"] and b["due_at"] is None
    assert a["child"] == {"id": 1, "name": "张*明", "school": "zx", "school_name": "蛟潭中心学校",
                          "village": "v-jt", "village_name": "蛟潭村"}
    assert a["started_by"] == "ht31" and a["closed_at"] is None and a["started_at"]
    assert b["status"] == "completed" and b["outcome"] == "returned_before_report"
    assert b["outcome_label"] == "劝返成功（未辍学）" and b["closed_at"] and b["current_steps"] == []
    assert d["status"] == "waiting" and d["child"]["name"] == "张*明"
    assert items[cases.e]["status"] == "error" and items[cases.e]["child"] is None
    assert items[cases.f]["status"] == "terminated" and items[cases.f]["closed_at"]
    text = json.dumps(data, ensure_ascii=False)
    assert "张小明" not in text and "王芳芳" not in text and "李红" not in text
    assert data["total"] == 6 and data["page"] == 1 and data["per_page"] == 50


def test_every_filter(client, as_user, cases, app):
    c, inspector = cases, as_user("inspector")
    assert ids(client, inspector, process_key="timer_case") == {c.d}
    assert ids(client, inspector, process_key="traced_case", version=1) == {c.a, c.b, c.c}
    assert ids(client, inspector, status="running") == {c.a, c.c}
    assert ids(client, inspector, status="waiting") == {c.d}
    assert ids(client, inspector, status="active") == {c.a, c.c, c.d}          # CONTRACT.md's value
    assert ids(client, inspector, status="completed") == {c.b}
    assert ids(client, inspector, status="error") == {c.e}
    assert ids(client, inspector, status="terminated") == {c.f}
    assert ids(client, inspector, outcome="returned_before_report") == {c.b}
    assert ids(client, inspector, outcome="returned_after_report") == set()
    assert ids(client, inspector, school="zx") == {c.a, c.c, c.d}
    assert ids(client, inspector, school="fg") == {c.b}
    assert ids(client, inspector, village="v-fg") == {c.b, c.c}
    assert ids(client, inspector, village="v-jt") == {c.a, c.d}
    assert ids(client, inspector, org_unit="v-fg") == {c.b, c.c}              # CONTRACT.md: a task's unit
    assert ids(client, inspector, child_id=1) == {c.a, c.d}                   # CONTRACT.md: the child's id
    assert ids(client, inspector, child="张小明") == {c.a, c.d}               # the full name, exact
    assert ids(client, inspector, child="张小") == set()
    assert ids(client, inspector, child="张*明") == {c.a, c.d}                # the masked name as shown
    assert ids(client, inspector, child="李*") == {c.c}
    assert ids(client, inspector, child=str(c.b)) == {c.b}                    # a case number
    assert ids(client, inspector, child=f"#{c.c}") == {c.c}
    assert ids(client, inspector, child="%") == set()                         # LIKE's wildcards are text
    assert ids(client, inspector, step="follow_up") == {c.c}
    assert ids(client, inspector, step="visit") == {c.a}
    assert ids(client, inspector, overdue="1") == set()
    engine = app.extensions["baoxue.engine"]
    today = engine.clock().astimezone(engine.zone).date()
    assert ids(client, inspector, started_from=today.isoformat(), started_to=today.isoformat()) == {
        c.a, c.b, c.c, c.d, c.e, c.f}
    assert ids(client, inspector, started_to=(today - timedelta(days=1)).isoformat()) == set()
    assert ids(client, inspector, closed_from=today.isoformat()) == {c.b, c.f}
    assert ids(client, inspector, closed_to=(today - timedelta(days=1)).isoformat()) == set()
    later = engine.clock() + timedelta(days=4)
    engine.clock = lambda: later                       # the visit (due in 3 days) is overdue now
    inspector = token(client, "inspector")             # a token of the new day
    assert ids(client, inspector, overdue="true") == {c.a}
    assert listed(client, inspector, child=str(c.a))["items"][0]["overdue"] is True
    # Filters combine, and never widen a scope.
    assert ids(client, inspector, school="zx", status="running", step="visit") == {c.a}
    assert ids(client, as_user("pfg"), school="zx") == set()


def test_sorting_and_paging(client, as_user, cases):
    c, inspector = cases, as_user("inspector")
    every = sorted([c.a, c.b, c.c, c.d, c.e, c.f])
    assert [i["id"] for i in listed(client, inspector, sort="id", order="asc")["items"]] == every
    assert [i["id"] for i in listed(client, inspector, sort="id")["items"]] == every[::-1]
    assert [i["id"] for i in listed(client, inspector)["items"]] == every[::-1]     # newest first
    closed = [i["id"] for i in listed(client, inspector, sort="closed", order="asc")["items"]]
    assert set(closed[:2]) == {c.b, c.f} and closed[0] == c.b                       # open cases last
    due = [i["id"] for i in listed(client, inspector, sort="due", order="asc")["items"]]
    assert due[0] == c.a                                                             # only the visit has a deadline
    first = listed(client, inspector, sort="id", order="asc", per_page=4)
    second = listed(client, inspector, sort="id", order="asc", per_page=4, page=2)
    assert first["total"] == second["total"] == 6 and first["pages"] == 2
    assert [i["id"] for i in first["items"] + second["items"]] == every
    assert listed(client, inspector, page=9)["items"] == []


def test_counts_per_status_and_step_leave_out_their_own_filter(client, as_user, cases):
    inspector = as_user("inspector")
    data = listed(client, inspector, status="completed")
    assert data["counts"]["status"] == {"running": 2, "waiting": 1, "completed": 1, "suspended": 0, "error": 1, "terminated": 1}
    assert data["total"] == 1 and data["counts"]["step"] == []          # a closed case has no open step
    assert listed(client, inspector)["counts"]["step"] == [{"element_id": "follow_up", "name": "村书记跟进", "count": 1},
                                      {"element_id": "visit", "name": "班主任家访", "count": 1}]
    scoped = listed(client, as_user("vsfg"), step="visit")
    assert scoped["total"] == 0 and scoped["counts"]["status"]["completed"] == 0
    assert scoped["counts"]["step"] == [{"element_id": "follow_up", "name": "村书记跟进", "count": 1}]
    assert listed(client, as_user("vsfg"))["counts"]["status"] == {
        "running": 1, "waiting": 0, "suspended": 0, "completed": 1, "error": 0, "terminated": 0}


@pytest.mark.parametrize("params, field", [
    ({"status": "paused"}, "status"), ({"outcome": "won"}, "outcome"),
    ({"version": "1"}, "version"), ({"process_key": "traced_case", "version": "7"}, "version"),
    ({"process_key": "no_such"}, "process_key"), ({"version": "x", "process_key": "traced_case"}, "version"),
    ({"school": "v-jt"}, "school"), ({"school": "nowhere"}, "school"), ({"village": "zx"}, "village"),
    ({"child_id": "99999999999999999999"}, "child_id"), ({"child": "x" * 65}, "child"),
    ({"child": "99999999999"}, "child"), ({"child": "**"}, "child"), ({"step": "s" * 256}, "step"),
    ({"overdue": "maybe"}, "overdue"), ({"started_from": "2025-02-30"}, "started_from"),
    ({"started_from": "0001-01-01"}, "started_from"), ({"closed_to": "9999-12-31"}, "closed_to"),
    ({"closed_to": "yesterday"}, "closed_to"), ({"started_from": "2025-03-02", "started_to": "2025-03-01"}, "started_to"),
    ({"closed_from": "2025-03-02", "closed_to": "2025-03-01"}, "closed_to"), ({"sort": "name"}, "sort"),
    ({"order": "up"}, "order"), ({"page": "0"}, "page"), ({"per_page": "201"}, "per_page"),
    ({"per_page": "٣"}, "per_page"),
])
def test_a_bad_filter_is_a_422_naming_the_field_and_changes_nothing(client, as_user, cases, app, params, field):
    engine = app.extensions["baoxue.engine"]

    def counts():
        with engine.db.read() as session:
            return (session.scalar(select(func.count()).select_from(AccessLog)),
                    session.scalar(select(func.count()).select_from(ProcessInstance)))
    before = counts()
    response = client.get("/api/v1/process-instances", headers=as_user("inspector"), query_string=params)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json["errors"][field])      # a Chinese reason
    assert counts() == before


def test_every_look_at_the_list_is_logged(client, as_user, cases, app):
    engine = app.extensions["baoxue.engine"]
    listed(client, as_user("county"), child="张小明", status="running")
    with engine.db.read() as session:
        row = session.scalars(select(AccessLog).where(AccessLog.subject == "cases").order_by(AccessLog.id.desc())).first()
    detail = json.loads(row.detail)
    assert (row.username, row.action) == ("county", "view")
    assert detail["view"] == "case_list" and detail["ids"] == [cases.a] and detail["total"] == 1
    assert detail["filters"] == {"child": "张*明", "status": "running"}      # the name searched for, masked
    assert "张小明" not in row.detail


def test_a_suspended_case_is_listed_as_suspended(client, as_user, cases, app):
    engine = app.extensions["baoxue.engine"]
    engine.lifecycle.suspend(cases.c, "家长申请暂缓", actor="admin")
    inspector = as_user("inspector")
    assert ids(client, inspector, status="suspended") == {cases.c}
    assert ids(client, inspector, status="running") == {cases.a}
    data = client.get("/api/v1/process-instances", headers=inspector).json
    assert data["counts"]["status"]["suspended"] == 1
    assert {i["instance_id"]: i["status_name"] for i in data["items"]}[cases.c] == "已暂停"
