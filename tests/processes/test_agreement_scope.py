"""A signer sees their own agreement, not the town's campaign (issue 12 review M1), and every
inbox row says whose agreement it is (review M6). The campaign is one instance holding every
unit's and person's signing: its trace is for the town; a task page shows its agreement's
steps. REST API and pages, SQLite and PostgreSQL."""
from __future__ import annotations

from .agreements_case import launch, own_signing, pages_as, refuse_person, sign_unit

OTHERS = ("pfg", "PFG", "ht11", "HT11", "ht32", "HT32", "vsjt", "福港学校")


def _task(town, username, task_id):
    response = town.client.get(f"/api/v1/tasks/{task_id}", headers=town.headers(username))
    assert response.status_code == 200, response.json
    return response.json


def test_a_head_teacher_sees_their_own_agreement_only(scenario):
    town = scenario
    launch(town)
    sign_unit(town, "zx")
    sign_unit(town, "fg")
    refuse_person(town, "ht11", "另一位老师的异议")                     # another school's signer
    refuse_person(town, "ht31", "请先明确家访分工")
    town.complete("pzx", "settle_person", {"settle_note": "已与本人沟通，明确分工"})
    mine = own_signing(town, "ht31")
    detail = _task(town, "ht31", mine["task_id"])
    titles = [entry["title"] for entry in detail["history"]]
    assert titles == ["确认责任书", "处理对责任书的异议"], titles          # their round, their head's settling
    text = str(detail["history"])
    assert not any(word in text for word in OTHERS) and "另一位老师的异议" not in text
    assert detail["traceable"] is False and detail["party"]["label"] == "HT31（蛟潭中心学校）"

    campaign = mine["instance_id"]
    assert town.client.get(f"/api/v1/process-instances/{campaign}", headers=town.headers("ht31")).status_code == 404
    assert town.client.get(f"/api/v1/process-instances/{campaign}/events", headers=town.headers("ht31")).status_code == 404
    listed = town.client.get("/api/v1/process-instances", headers=town.headers("ht31")).json["items"]
    assert campaign not in [item["instance_id"] for item in listed]
    pages = pages_as(town, "ht31")
    assert pages.get(f"/instances/{campaign}").status_code == 404
    page = pages.get(f"/tasks/{mine['task_id']}").get_data(as_text=True)
    assert f"/instances/{campaign}" not in page and "HT31（蛟潭中心学校）" in page
    assert "另一位老师的异议" not in page and "福港学校" not in page
    # A principal traces no campaign either; the town does.
    assert town.client.get(f"/api/v1/process-instances/{campaign}", headers=town.headers("pzx")).status_code == 404
    assert town.client.get(f"/api/v1/process-instances/{campaign}", headers=town.headers("leader")).status_code == 200


def test_a_units_page_shows_its_staff_to_its_head_not_to_a_colleague(scenario):
    town = scenario
    launch(town)
    sign_unit(town, "zx", countersign=False)
    countersign = next(t for t in town.inbox("leader") if t["name"] == "countersign")
    history = _task(town, "leader", countersign["task_id"])["history"]
    assert [entry["title"] for entry in history] == ["确认目标责任书"]
    assert history[0]["actor"] == "pzx"


def test_inbox_rows_say_whose_agreement(scenario):
    town = scenario
    launch(town)
    sign_unit(town, "zx", countersign=False)
    sign_unit(town, "v-jt", countersign=False)
    rows = [t for t in town.inbox("leader") if t["name"] == "countersign"]
    assert sorted(t["party"]["label"] for t in rows) == ["蛟潭中心学校", "蛟潭村"]
    page = pages_as(town, "leader").get("/inbox").get_data(as_text=True)
    assert "单位责任书：蛟潭中心学校" in page and "单位责任书：蛟潭村" in page
    town.complete_first("leader", "countersign", {"countersign_decision": "countersign", "countersigner_name": "LEADER"})
    town.complete_first("leader", "countersign", {"countersign_decision": "countersign", "countersigner_name": "LEADER"})
    assert own_signing(town, "ht31")["party"]["label"] == "HT31（蛟潭中心学校）"
    assert own_signing(town, "gwjt")["party"]["label"] == "GWJT（蛟潭村）"
    refuse_person(town, "gwjt", "请先明确分工")
    settle = town.task("vsjt", "settle_person")
    assert settle["party"] == {"ref": "2025-2026/v-jt/gwjt", "tier": 2, "label": "GWJT（蛟潭村）", "unit_name": "蛟潭村"}
    page = pages_as(town, "vsjt").get("/inbox").get_data(as_text=True)
    assert "个人责任书：GWJT（蛟潭村）" in page
