"""A head teacher or grid worker may refuse their agreement with a reason, as a unit may in
tier 1 (issue 12): the unit's head settles the refusal and records how, then the person signs
again; the register shows 有异议 meanwhile. REST API, SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.persistence.models import HumanTask
from ledger.agreement_check import daily_check
from ledger.models import User
from ledger.users import revoke

from .agreements_case import YEAR, by_ref, launch, pages_as, refuse_person, register, sign_person, sign_unit

REASON = "本学期家访任务重，希望先明确与网格员的分工"


@pytest.mark.parametrize(("unit", "person", "head", "other_head"), [("zx", "ht31", "pzx", "pfg"),
                                                                    ("v-jt", "gwjt", "vsjt", "vsfg")])
def test_a_person_refuses_the_units_head_settles_and_they_sign_again(scenario, unit, person, head, other_head):
    town = scenario
    launch(town)
    sign_unit(town, unit)
    ref = f"{YEAR}/{unit}/{person}"
    task = next(t for t in town.inbox(person) if t["name"] == "sign_personal")
    detail = town.client.get(f"/api/v1/tasks/{task['task_id']}", headers=town.headers(person)).json
    assert "如有异议" in detail["instructions"]
    assert [o["const"] for o in detail["form"]["schema"]["properties"]["decision"]["oneOf"]] == ["accept", "refuse"]
    assert "refusal_reason" in town.refused(person, "sign_personal", {"decision": "refuse", "signer_name": person.upper()})
    assert by_ref(register(town))[ref]["status"] == "pending"        # a refused submission changed nothing

    refuse_person(town, person, REASON)
    item = by_ref(register(town))[ref]
    assert (item["status"], item["status_name"], item["refusal_reason"]) == ("refused", "有异议", REASON)
    assert register(town, status="refused")["counts"]["refused"] == 1
    assert "sign_personal" not in town.names(person)                  # nothing to sign while it is settled
    assert "settle_person" not in town.names(other_head) and "settle_person" not in town.names("leader")
    settle = town.task(head, "settle_person")                         # the unit's head, not the town
    shown = town.client.get(f"/api/v1/tasks/{settle['task_id']}", headers=town.headers(head)).json
    assert REASON in shown["instructions"] and person.upper() in shown["instructions"]
    row = next(r for r in pages_as(town, head).get("/agreements?tier=2").get_data(as_text=True).split("<tr")[1:]
               if f"{person.upper()}<" in r)
    assert "有异议" in row and REASON in row

    town.complete(head, "settle_person", {"settle_note": "已当面沟通，明确分工后同意签订"})
    item = by_ref(register(town))[ref]
    assert (item["status"], item["settle_note"]) == ("pending", "已当面沟通，明确分工后同意签订")
    assert item["settled_at"] and item["refusal_reason"] == REASON    # the objection stays on record
    sign_person(town, person)
    item = by_ref(register(town))[ref]
    assert (item["status"], item["signed_by"]) == ("awaiting_countersign", person)   # the head countersigns next
    documents = town.client.get(f"/api/v1/agreements/{item['id']}/documents", headers=town.headers(head)).json
    assert [d["version"] for d in documents["documents"]] == [1]      # only the confirmation is a document


def test_someone_who_leaves_while_their_refusal_is_settled_has_the_signing_withdrawn(scenario):
    town = scenario
    launch(town)
    sign_unit(town, "zx")
    refuse_person(town, "ht31", REASON)
    assert "settle_person" in town.names("pzx")
    with town.engine.db.transaction() as session:
        leaver = session.scalar(select(User).where(User.username == "ht31"))
        revoke(session, "admin", leaver.id, "head_teacher", "zx-3-1", town.clock())
    town.at("2025-09-02", 2)
    assert daily_check(town.engine, open_day=None).withdrawn == [f"{YEAR}/zx/ht31"]
    assert "settle_person" not in town.names("pzx")
    with town.engine.db.read() as session:
        settle = session.scalar(select(HumanTask).where(HumanTask.element_id == "settle_person"))
        assert settle.status == "cancelled"
    item = by_ref(register(town))[f"{YEAR}/zx/ht31"]
    assert item["status"] == "withdrawn" and "不再担任" in item["withdrawn_reason"]
    assert daily_check(town.engine, open_day=None).summary() is None


def test_the_export_shows_a_second_refusal_as_it_stands_not_the_earlier_rounds(scenario):
    from io import BytesIO

    from openpyxl import load_workbook
    town = scenario
    launch(town)
    sign_unit(town, "zx")
    refuse_person(town, "ht31", REASON)
    town.complete("pzx", "settle_person", {"settle_note": "已沟通，第一次异议处理完毕"})
    refuse_person(town, "ht31", "仍不同意分工")

    def row_of(user="pzx"):
        export = town.client.get("/api/v1/agreements/export.xlsx", headers=town.headers(user), query_string={"tier": 2})
        rows = list(load_workbook(BytesIO(export.data)).active.iter_rows(values_only=True))
        columns = rows[0]
        return next(dict(zip(columns, r)) for r in rows[1:] if r[columns.index("签订人")] == "HT31")
    row = row_of()
    assert row["状态"] == "有异议" and row["异议理由"] == "仍不同意分工"
    assert row["确认人"] is None and row["确认时间"] is None        # she refused: nobody confirmed
    assert row["异议处理"] == "待处理"                              # not the first round's settlement
    html = pages_as(town, "pzx").get("/agreements?tier=2").get_data(as_text=True)
    assert "第一次异议处理完毕" not in html
    town.complete("pzx", "settle_person", {"settle_note": "第二次沟通后同意"})
    sign_person(town, "ht31")
    row = row_of()
    assert (row["确认人"], row["异议处理"], row["异议理由"]) == ("HT31", "第二次沟通后同意", "仍不同意分工")
