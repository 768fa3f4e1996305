"""The responsibility agreements' pages (issue 12): the register, its filters and export, the
texts and the kept documents, each scoped; a campaign opened from the page."""
from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook

from api.settings import ROOT
from ledger.agreement_check import after_step
from ledger.agreement_texts import sha256

from .conftest import sign_in
from .pages_helpers import engine_of, html_of, post


@pytest.fixture
def campaign(town, browser):
    """The processes deployed; the office opens 2025-2026 from the page, launches it; the
    principal of 蛟潭中心学校 confirms and the leader countersigns."""
    engine = engine_of(town)
    engine.repository.deploy_paths([ROOT / "processes"], actor="admin")
    with engine.db.transaction() as session:
        from ledger.accounts import create_user
        from tests.api.town import PASSWORD
        create_user(session, "livelihood", "民生办", PASSWORD, now=engine.clock(), roles=[("livelihood_office", "town")])
    office = browser("livelihood")
    year = _this_year(engine)
    response = post(office, "/agreements/campaigns", {"school_year": year}, token_from="/agreements")
    assert response.status_code == 302, html_of(response)
    for username, data in (("livelihood", {"dropout_target": 0, "return_target": 100,
                                            "deadline": (engine.clock() + timedelta(days=30)).date().isoformat(), "launch": True}),
                           ("pzx", {"decision": "accept", "signer_name": "PZX"}),
                           ("leader", {"countersign_decision": "countersign", "countersigner_name": "LEADER"})):
        task = next(t for t in engine.tasks.list(_open())[0] if (t.candidate_role, t.org_unit) == _pair(username))
        engine.runtime.complete_task(task.id, data, actor=username)
        after_step(engine)
    return year


def _this_year(engine):
    from ledger.agreements import school_year_of
    return school_year_of(engine.clock().astimezone(engine.zone).date())


def _open():
    from engine.tasks import TaskQuery
    return TaskQuery(status="open", per_page=100)


def _pair(username):
    return {"livelihood": ("livelihood_office", "town"), "pzx": ("principal", "zx"),
            "leader": ("task_force_leader", "town")}[username]


def test_the_register_page_shows_counts_filters_and_exports(campaign, browser):
    leader = browser("leader")
    page = html_of(leader.get("/agreements"))
    assert "控辍保学目标责任书" in page and "已签订" in page and "待签" in page
    assert "蛟潭中心学校" in page and "HT31" in page
    signed_units = html_of(leader.get("/agreements?status=signed&tier=1")).split("<table")[1]
    assert "蛟潭中心学校" in signed_units and "福港学校" not in signed_units
    bad = leader.get("/agreements?status=nonsense")
    assert bad.status_code == 422 and "状态" in html_of(bad)
    export = leader.get("/agreements/export.xlsx?tier=2")
    rows = list(load_workbook(BytesIO(export.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "学年" and {row[4] for row in rows[1:]} == {"HT31", "HT32"}   # only zx has signed


def test_a_principal_sees_their_school_and_reads_the_signed_document(campaign, browser):
    principal = browser("pzx")
    page = html_of(principal.get("/agreements")).split("<table")[1]
    assert "蛟潭中心学校" in page and "福港学校" not in page and "蛟潭村" not in page
    text = html_of(principal.get(f"/agreements/{campaign}/zx/text"))
    assert "乙方：蛟潭中心学校" in text and "PZX（账号 pzx）" in text and "SHA-256" not in text
    document = principal.get("/agreements/documents/2")
    body = html_of(document)
    assert document.status_code == 200 and "LEADER（账号 leader）" in body
    engine = engine_of(principal.application)
    from ledger.agreement_models import AgreementDocument
    with engine.db.read() as session:
        kept = session.get(AgreementDocument, 2)
        assert kept.sha256 in body and kept.sha256 == sha256(kept.text)
    assert principal.get("/agreements/documents/2.docx").data[:2] == b"PK"
    assert browser("pfg").get("/agreements/documents/2").status_code == 404
    assert browser("pfg").get(f"/agreements/{campaign}/zx/text").status_code == 404
    assert "待签文本" in html_of(browser("ht31").get(f"/agreements/{campaign}/zx/ht31/text"))


def test_a_second_campaign_from_the_page_is_refused_in_chinese(campaign, browser):
    office = browser("livelihood")
    response = post(office, "/agreements/campaigns", {"school_year": campaign}, token_from="/agreements",
                    follow_redirects=True)
    assert "已经发起，不能重复发起" in html_of(response)
    outsider = post(browser("pzx"), "/agreements/campaigns", {"school_year": "2031-2032"}, token_from="/agreements")
    assert outsider.status_code == 403
    texts = html_of(office.get("/agreements/templates"))
    assert "责任书文本" in texts and "【甲方】" in texts and "【辍学率控制目标】" in texts
    assert "{{" not in texts and "party_a" not in texts and "processes/" not in texts
