"""Responsibility agreements (issue 12): the yearly three-tier signing campaign, through the
REST API on SQLite and PostgreSQL (the campaign and its dates: tests.processes.agreements_case)."""
from __future__ import annotations

from sqlalchemy import select

from engine.persistence.models import HumanTask
from ledger.accounts import create_user
from ledger.agreement_check import after_step, daily_check
from ledger.agreement_models import AgreementCampaign, AgreementDocument
from ledger.agreement_texts import sha256
from ledger.models import User
from ledger.users import grant, revoke
from tests.api.town import PASSWORD

from .agreements_case import (STAFF, UNITS, YEAR, by_ref, countersign_person, fire, grid_workers, launch, own_signing,
                              register, sign_person, sign_unit)


def test_everyone_signs_in_reverse_order_and_results_map_to_their_parties(scenario):
    town = scenario
    campaign = launch(town)
    for unit in reversed(list(UNITS)):          # v-fg, v-jt, fg, zx: the reverse of the units' order
        sign_unit(town, unit)
        for username in reversed(STAFF[unit]):  # ht32 before ht31
            sign_person(town, username)
            countersign_person(town, username)  # the unit's head countersigns (review M11)
    data = register(town)
    assert data["counts"]["signed"] == data["counts"]["total"] == 9, data["counts"]
    variables = town.data(campaign["instance_id"])
    units = [unit["code"] for unit in variables["units"]]
    assert [result["unit"] for result in variables["unit_results"]] == units
    for unit, result in zip(variables["units"], variables["unit_results"]):
        assert [r["username"] for r in result["staff"]] == sorted(STAFF[unit["code"]])
        assert {r["status"] for r in result["staff"]} == {"signed"}
    items = by_ref(data)
    zx = items[f"{YEAR}/zx"]
    assert (zx["signed_by"], zx["signer_name"], zx["countersigned_by"]) == ("pzx", "PZX", "leader")
    assert items[f"{YEAR}/zx/ht32"]["signed_by"] == "ht32"
    # The principal sees their school (its agreement and its head teachers'); a head teacher their own.
    assert set(by_ref(register(town, "pzx"))) == {f"{YEAR}/zx", f"{YEAR}/zx/ht31", f"{YEAR}/zx/ht32"}
    assert set(by_ref(register(town, "ht31"))) == {f"{YEAR}/zx/ht31"}
    assert set(by_ref(register(town, "vsjt"))) == {f"{YEAR}/v-jt", f"{YEAR}/v-jt/gwjt"}
    bad = town.client.get("/api/v1/agreements", headers=town.headers("leader"), query_string={"status": "late"})
    assert bad.status_code == 422 and "status" in bad.json["errors"]
    export = town.client.get("/api/v1/agreements/export.xlsx", headers=town.headers("pzx"))
    assert export.status_code == 200 and export.data[:2] == b"PK"


def test_signed_documents_are_kept_and_their_hash_is_in_the_audit_chain(scenario):
    town = scenario
    campaign = launch(town)
    sign_unit(town, "zx")
    sign_person(town, "ht31")
    zx = by_ref(register(town))[f"{YEAR}/zx"]
    listing = town.client.get(f"/api/v1/agreements/{zx['id']}/documents", headers=town.headers("pzx")).json
    assert [d["version"] for d in listing["documents"]] == [1, 2]   # confirmed, then countersigned
    final = town.client.get(f"/api/v1/agreements/documents/{listing['documents'][-1]['id']}",
                            headers=town.headers("pzx")).json
    assert "甲方：蛟潭镇人民政府" in final["text"] and "乙方：蛟潭中心学校" in final["text"]
    assert "辍学率 0%" in final["text"] and "劝返率 100%" in final["text"]
    assert "PZX（账号 pzx）" in final["text"] and "LEADER（账号 leader）" in final["text"]
    assert final["sha256"] == sha256(final["text"])
    stored = {e.data["sha256"]: e for e in town.audit(campaign["instance_id"], "agreement_document_stored")}
    assert set(stored) == {d["sha256"] for d in town.client.get(
        f"/api/v1/agreements/{zx['id']}/documents", headers=town.headers("pzx")).json["documents"]} | {
        d.sha256 for d in _documents(town, f"{YEAR}/zx/ht31")}
    assert stored[final["sha256"]].actor == "leader"
    assert town.history_verified(campaign["instance_id"])
    with town.engine.db.read() as session:   # the stored text is the text whose hash was audited
        texts = {d.sha256: d.text for d in session.scalars(select(AgreementDocument))}
    assert all(sha256(text) == digest for digest, text in texts.items())
    docx = town.client.get(f"/api/v1/agreements/documents/{final['id']}.docx", headers=town.headers("pzx"))
    assert docx.status_code == 200 and docx.data[:2] == b"PK"
    outsider = town.client.get(f"/api/v1/agreements/documents/{final['id']}", headers=town.headers("pfg"))
    assert outsider.status_code == 404


def _documents(town, ref):
    item = by_ref(register(town))[ref]
    with town.engine.db.read() as session:
        rows = list(session.scalars(select(AgreementDocument).where(AgreementDocument.agreement_id == item["id"])))
        session.expunge_all()
        return rows


def test_a_unit_refuses_the_leader_settles_and_the_unit_signs(scenario):
    town = scenario
    launch(town)
    town.complete("vsjt", "sign_unit", {"decision": "refuse", "signer_name": "VSJT",
                                         "refusal_reason": "劝返率目标需结合外出务工家庭实际"})
    item = by_ref(register(town))[f"{YEAR}/v-jt"]
    assert (item["status"], item["refusal_reason"]) == ("refused", "劝返率目标需结合外出务工家庭实际")
    assert "sign_unit" not in town.names("vsjt")
    town.complete("leader", "settle_refusal", {"settle_note": "已与村书记沟通，目标不变，加强帮扶"})
    assert by_ref(register(town))[f"{YEAR}/v-jt"]["status"] == "pending"
    sign_unit(town, "v-jt")
    item = by_ref(register(town))[f"{YEAR}/v-jt"]
    assert item["status"] == "signed" and item["countersigned_by"] == "leader"
    assert town.names("gwjt") == ["sign_personal"]


def test_reminders_then_overdue_signings_escalate(scenario):
    town = scenario
    launch(town)
    sign_unit(town, "fg")                       # ht11 now has a signing due 2025-09-19
    fire(town, "2025-09-16", 10)                # the reminder: 3 working days before
    items = by_ref(register(town))
    assert items[f"{YEAR}/zx"]["reminded_at"] and items[f"{YEAR}/fg/ht11"]["reminded_at"]
    assert items[f"{YEAR}/zx"]["status"] == "pending"
    assert "escalate_unit" not in town.names("leader")
    fire(town, "2025-09-22", 9)                 # past the deadline
    items = by_ref(register(town))
    assert items[f"{YEAR}/zx"]["status"] == "overdue" and items[f"{YEAR}/fg/ht11"]["status"] == "overdue"
    assert register(town, status="overdue")["counts"]["overdue"] == 4   # zx, v-jt, v-fg, ht11
    assert town.names("leader").count("escalate_unit") == 3           # tier 1: the leader
    assert town.names("pfg") == ["escalate_person"]                    # tier 2: the unit's head
    town.complete_first("leader", "escalate_unit", {"supervised_on": "2025-09-22", "note": "已电话督促"})
    # A late signature settles what the escalation was about: its open escalation is cancelled
    # (the head is not left to chase someone who signed), and the campaign does not wait for it.
    sign_person(town, "ht11")
    assert by_ref(register(town))[f"{YEAR}/fg/ht11"]["status"] == "awaiting_countersign"
    assert town.names("pfg") == ["countersign_person"]                 # no escalation left: the countersign
    for unit in ("zx", "v-jt", "v-fg"):
        sign_unit(town, unit)
    assert "escalate_unit" not in town.names("leader")
    for unit in ("zx", "v-jt", "v-fg"):
        for username in STAFF[unit]:
            sign_person(town, username)
            countersign_person(town, username)
    countersign_person(town, "ht11")
    assert register(town)["campaign"]["status"] == "signed"


def test_a_head_teacher_added_mid_campaign_gets_a_signing_and_one_who_leaves_has_it_withdrawn(scenario):
    town = scenario
    launch(town)
    sign_unit(town, "zx")
    assert town.names("ht31") == ["sign_personal"]
    with town.engine.db.transaction() as session:
        newcomer = create_user(session, "ht33", "HT33", PASSWORD, now=town.clock(), roles=[])
        session.flush()
        grant(session, "admin", newcomer.id, "head_teacher", "zx-3-2", town.clock())
        leaver = session.scalar(select(User).where(User.username == "ht31"))
        revoke(session, "admin", leaver.id, "head_teacher", "zx-3-1", town.clock())
    town.at("2025-09-02", 2)
    result = daily_check(town.engine, open_day=None)
    assert result.started == [f"{YEAR}/zx/ht33"] and result.withdrawn == [f"{YEAR}/zx/ht31"]
    items = by_ref(register(town))
    assert items[f"{YEAR}/zx/ht33"]["status"] == "pending" and items[f"{YEAR}/zx/ht33"]["late"]
    assert items[f"{YEAR}/zx/ht31"]["status"] == "withdrawn"
    assert "不再担任" in items[f"{YEAR}/zx/ht31"]["withdrawn_reason"]
    with town.engine.db.read() as session:
        ht31_task = session.scalar(select(HumanTask).where(HumanTask.element_id == "sign_personal",
                                                           HumanTask.org_unit == "zx-3-1"))
        assert ht31_task.status == "cancelled"
    theirs = own_signing(town, "ht32")   # the co-head teacher's: not in ht33's inbox (test_agreement_inbox.py)
    assert theirs["task_id"] not in {t["task_id"] for t in town.inbox("ht33")}
    refused = town.client.post(f"/api/v1/tasks/{theirs['task_id']}/complete", headers=town.headers("ht33"),
                               json={"data": {"decision": "accept", "signer_name": "HT33"}})
    assert refused.status_code == 403
    released = town.client.post(f"/api/v1/tasks/{theirs['task_id']}/unclaim", headers=town.headers("pzx"))
    assert released.status_code == 200, released.json          # a supervisor may release it ...
    taken = town.client.post(f"/api/v1/tasks/{theirs['task_id']}/claim", headers=town.headers("ht33"))
    assert taken.status_code == 403 and "ht32" in taken.json["message"]   # ... but only ht32 may sign it
    assert town.client.post(f"/api/v1/tasks/{theirs['task_id']}/claim", headers=town.headers("ht32")).status_code == 200
    sign_person(town, "ht33")
    assert by_ref(register(town))[f"{YEAR}/zx/ht33"]["status"] == "awaiting_countersign"
    assert daily_check(town.engine, open_day=None).summary() is None   # nothing more to do


def test_a_second_campaign_for_the_year_is_refused_and_the_year_opens_itself(scenario):
    town = scenario
    town.at("2025-09-01", 9)
    result = daily_check(town.engine)            # the autumn term has begun: the office gets the review
    assert result.opened == YEAR
    assert town.names("livelihood") == ["review_campaign"]
    response = town.client.post("/api/v1/agreements/campaigns", headers=town.headers("deputy"),
                                json={"school_year": YEAR})
    assert response.status_code == 409, response.json
    assert daily_check(town.engine).opened is None
    bad = town.client.post("/api/v1/agreements/campaigns", headers=town.headers("deputy"),
                           json={"school_year": "2025-2027"})
    assert bad.status_code == 422 and "school_year" in bad.json["errors"]
    for year, deadline in (("2030-2031", None), ("2024-2025", None), ("2026-2027", "2099-06-30")):
        far = town.client.post("/api/v1/agreements/campaigns", headers=town.headers("deputy"),
                               json={"school_year": year, **({"deadline": deadline} if deadline else {})})
        assert far.status_code == 422, far.json
        assert list(far.json["errors"]) == (["deadline"] if deadline else ["school_year"])
    with town.engine.db.read() as session:       # refused: nothing kept
        assert session.scalars(select(AgreementCampaign.school_year)).all() == [YEAR]
    forbidden = town.client.post("/api/v1/agreements/campaigns", headers=town.headers("pzx"),
                                 json={"school_year": "2026-2027"})
    assert forbidden.status_code == 403


def test_year_end_assessment_per_unit_is_recorded(scenario):
    town = scenario
    launch(town)
    for unit in UNITS:
        sign_unit(town, unit)
        for username in STAFF[unit]:
            sign_person(town, username)
            countersign_person(town, username)
    fire(town, "2026-07-15", 10)
    assert town.names("livelihood") == ["assess_unit"] * 4
    for _ in UNITS:
        town.complete_first("livelihood", "assess_unit", {"assessment_result": "met", "assessment_notes": "零辍学"})
    data = register(town, tier=1)
    assert {item["assessment_name"] for item in data["items"]} == {"达标"}
    assert data["campaign"]["status"] == "closed"


def test_baoxue_check_reports_what_the_register_has_not_applied(scenario):
    from ledger.checks import agreement_event_unapplied
    town = scenario
    launch(town)
    assert list(agreement_event_unapplied(town.engine)) == []
    task = town.task("pzx", "sign_unit")      # completed behind the register's back: nothing applies it
    town.engine.runtime.complete_task(task["task_id"], {"decision": "accept", "signer_name": "张校长"}, actor="pzx")
    [finding] = agreement_event_unapplied(town.engine)
    assert finding.check == "agreement_event_unapplied" and "signed" in finding.message
    after_step(town.engine)
    assert list(agreement_event_unapplied(town.engine)) == []
    assert by_ref(register(town))[f"{YEAR}/zx"]["signed_by"] == "pzx"


def test_a_unit_without_staff_completes_its_tier_and_a_later_grid_worker_is_picked_up(scenario):
    town = scenario
    launch(town, with_grid_workers=False)       # no grid worker anywhere yet
    sign_unit(town, "v-jt")
    assert not [ref for ref in by_ref(register(town)) if ref.startswith(f"{YEAR}/v-jt/")]
    grid_workers(town)
    town.at("2025-09-15", 2)
    result = daily_check(town.engine, open_day=None)
    assert result.started == [f"{YEAR}/v-jt/gwjt"]            # v-fg has not signed: its tier 2 is still to come
    item = by_ref(register(town))[f"{YEAR}/v-jt/gwjt"]
    # 10 working days on, past the campaign's deadline: Sunday 28 September 2025 is a working day (调休).
    assert item["late"] and item["due_at"][:10] == "2025-09-28"
    sign_person(town, "gwjt")
    assert by_ref(register(town))[f"{YEAR}/v-jt/gwjt"]["status"] == "awaiting_countersign"
