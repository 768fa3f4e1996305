"""A person's agreement is countersigned by their unit (issue 12 review M11): once a head
teacher or grid worker has confirmed, the principal or village secretary countersigns for
the unit, as the task-force leader does for the town in tier 1; the kept document carries
both parties' confirmations with their times. REST API, SQLite and PostgreSQL."""
from __future__ import annotations

from .agreements_case import (STAFF, YEAR, by_ref, countersign_person, launch, pages_as, register, sign_person,
                              sign_unit)


def _text(town, agreement_id: int, user: str = "pzx") -> str:
    listing = town.client.get(f"/api/v1/agreements/{agreement_id}/documents", headers=town.headers(user)).json
    return town.client.get(f"/api/v1/agreements/documents/{listing['documents'][-1]['id']}",
                           headers=town.headers(user)).json["text"]


def test_the_principal_countersigns_a_head_teachers_agreement(scenario):
    town = scenario
    launch(town)
    sign_unit(town, "zx")
    town.at("2025-09-03", 10)
    sign_person(town, "ht31")
    item = by_ref(register(town))[f"{YEAR}/zx/ht31"]
    assert (item["status"], item["status_name"]) == ("awaiting_countersign", "待会签")
    assert "甲方：待会签" in _text(town, item["id"])
    task = next(t for t in town.inbox("pzx") if t["name"] == "countersign_person")
    assert task["party"]["label"] == "HT31（蛟潭中心学校）"
    assert "countersign_person" not in town.names("pfg") and "countersign_person" not in town.names("leader")
    errors = town.refused("pzx", "countersign_person", {"countersign_decision": "countersign", "countersigner_name": "HT31"})
    assert set(errors) == {"countersigner_name"}                       # in the head's own name only

    town.at("2025-09-04", 11)
    countersign_person(town, "ht31")
    item = by_ref(register(town))[f"{YEAR}/zx/ht31"]
    assert (item["status"], item["countersigned_by"]) == ("signed", "pzx")
    text = _text(town, item["id"])
    assert "乙方：HT31（账号 ht31）于 2025年09月03日 10:00 确认" in text
    assert "甲方：PZX（账号 pzx）于 2025年09月04日 11:00 代表甲方会签确认" in text and "待会签" not in text
    listing = town.client.get(f"/api/v1/agreements/{item['id']}/documents", headers=town.headers("ht31")).json
    assert [d["version"] for d in listing["documents"]] == [1, 2]      # confirmed, then countersigned


def test_the_campaign_is_signed_only_once_every_person_is_countersigned(scenario):
    town = scenario
    launch(town)
    for unit, staff in STAFF.items():
        sign_unit(town, unit)
        for username in staff:
            sign_person(town, username)
    for username in ("ht31", "ht32", "ht11", "gwfg"):
        countersign_person(town, username)
    assert "countersign_person" in town.names("vsjt") and "countersign_person" not in town.names("vsfg")
    data = register(town)
    assert data["campaign"]["status"] == "signing" and data["counts"]["awaiting_countersign"] == 1
    countersign_person(town, "gwjt")
    data = register(town)
    assert data["campaign"]["status"] == "signed" and data["counts"]["signed"] == data["counts"]["total"] == 9


def test_the_head_may_return_a_confirmation_with_a_reason_and_the_person_confirms_again(scenario):
    town = scenario
    launch(town)
    sign_unit(town, "zx")
    sign_person(town, "ht31")
    task = next(t for t in town.inbox("pzx") if t["name"] == "countersign_person")
    shown = town.client.get(f"/api/v1/tasks/{task['task_id']}", headers=town.headers("pzx")).json
    assert [o["const"] for o in shown["form"]["schema"]["properties"]["countersign_decision"]["oneOf"]] == [
        "countersign", "return"]
    page = pages_as(town, "pzx").get(f"/tasks/{task['task_id']}").get_data(as_text=True)
    assert 'name="countersign_decision" value="return"' in page and "退回本人重新确认" in page
    assert 'name="return_reason"' in page
    errors = town.refused("pzx", "countersign_person", {"countersign_decision": "return", "countersigner_name": "PZX"})
    assert set(errors) == {"return_reason"}                            # a return says why
    town.complete("pzx", "countersign_person", {"countersign_decision": "return", "countersigner_name": "PZX",
                                                "return_reason": "任教班级填写有误，请核对"})
    item = by_ref(register(town))[f"{YEAR}/zx/ht31"]
    assert (item["status"], item["signed_at"], item["signer_name"]) == ("pending", None, None)
    assert item["refusal_reason"] == "会签退回：任教班级填写有误，请核对"
    assert "countersign_person" not in town.names("pzx")
    again = next(t for t in town.inbox("ht31") if t["name"] == "sign_personal")
    detail = town.client.get(f"/api/v1/tasks/{again['task_id']}", headers=town.headers("ht31")).json
    assert "任教班级填写有误" in detail["instructions"]
    sign_person(town, "ht31")
    assert by_ref(register(town))[f"{YEAR}/zx/ht31"]["status"] == "awaiting_countersign"
    countersign_person(town, "ht31")
    item = by_ref(register(town))[f"{YEAR}/zx/ht31"]
    assert (item["status"], item["countersigned_by"]) == ("signed", "pzx")
    listing = town.client.get(f"/api/v1/agreements/{item['id']}/documents", headers=town.headers("ht31")).json
    assert [d["version"] for d in listing["documents"]] == [1, 2, 3]   # the returned confirmation stays kept


def test_the_leader_may_return_a_units_confirmation_and_tier_2_waits_for_the_countersign(scenario):
    town = scenario
    launch(town)
    town.complete("pzx", "sign_unit", {"decision": "accept", "signer_name": "PZX"})
    town.complete("leader", "countersign", {"countersign_decision": "return", "countersigner_name": "LEADER",
                                            "return_reason": "请由校长本人确认"})
    item = by_ref(register(town))[f"{YEAR}/zx"]
    assert (item["status"], item["refusal_reason"]) == ("pending", "会签退回：请由校长本人确认")
    assert town.names("ht31") == []                                    # tier 2 has not started
    detail = town.client.get(f"/api/v1/tasks/{town.task('pzx', 'sign_unit')['task_id']}", headers=town.headers("pzx")).json
    assert "请由校长本人确认" in detail["instructions"]
    sign_unit(town, "zx")
    assert by_ref(register(town))[f"{YEAR}/zx"]["countersigned_by"] == "leader"
    assert town.names("ht31") == ["sign_personal"]
