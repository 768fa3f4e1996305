"""The year-end assessment happens at the school year's end whoever is still outstanding
(issue 12 review: it used to wait for every signature, so one unit that never signed meant no
assessment at all). Signings still open at the year's end stay open and show overdue."""
from __future__ import annotations

from .agreements_case import UNITS, YEAR, by_ref, countersign_person, fire, launch, register, sign_person, sign_unit


def test_the_year_end_review_opens_although_a_unit_never_signed(scenario):
    town = scenario
    launch(town)
    for unit in ("zx", "fg", "v-jt"):            # v-fg never signs; ht32 never signs either
        sign_unit(town, unit)
    for username in ("ht31", "ht11", "gwjt"):
        sign_person(town, username)
        countersign_person(town, username)
    fire(town, "2026-07-16", 10)
    assert town.names("livelihood") == ["assess_unit"] * 4
    tasks = {t["party"]["ref"] if t.get("party") else t["task_id"]: t for t in town.inbox("livelihood")}
    texts = " ".join(town.client.get(f"/api/v1/tasks/{t['task_id']}", headers=town.headers("livelihood"))
                     .json.get("instructions", "") for t in tasks.values())
    assert "本单位与镇政府的责任书**逾期未签**" in texts      # v-fg: shown as outstanding
    assert "班主任责任书 2 份，已确认 1 份、待签 0 份、逾期未签 1 份" in texts   # zx: ht32 outstanding
    # The outstanding signings stay open, overdue, beside the review.
    assert "sign_unit" in town.names("vsfg") and "sign_personal" in town.names("ht32")
    items = by_ref(register(town))
    assert items[f"{YEAR}/v-fg"]["status"] == "overdue" and items[f"{YEAR}/zx/ht32"]["status"] == "overdue"
    for _ in UNITS:
        town.complete_first("livelihood", "assess_unit", {"assessment_result": "not_met", "assessment_notes": "未全部签订"})
    assert register(town)["campaign"]["status"] == "closed"
    # A late signature after the review still lands, and the campaign stays closed.
    sign_unit(town, "v-fg")
    sign_person(town, "gwfg")
    countersign_person(town, "gwfg")
    sign_person(town, "ht32")
    countersign_person(town, "ht32")
    data = register(town)
    assert data["counts"]["signed"] == data["counts"]["total"] and data["campaign"]["status"] == "closed"

