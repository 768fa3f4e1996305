"""The reminder 3 working days before the deadline reaches the signer (issue 12): their open
signing is marked 已催办 in the inbox (page and REST list and detail) and in the register;
a signing already done, or another task, is not. REST API and pages, SQLite and PostgreSQL."""
from __future__ import annotations

from .agreements_case import YEAR, by_ref, fire, launch, own_signing, pages_as, register, sign_person, sign_unit

REMINDED = [("reminded", "已催办")]


def marks(task: dict) -> list[tuple[str, str]]:
    return [(mark["kind"], mark["name"]) for mark in task["marks"]]


def test_the_reminder_marks_each_open_signing_in_its_signers_inbox(scenario):
    town = scenario
    launch(town)
    sign_unit(town, "zx")                        # ht31 and ht32 sign in the campaign's instance
    sign_unit(town, "fg", countersign=False)     # the leader's countersign stays open: not a signing
    sign_person(town, "ht31")                    # done before the reminder: nothing to remind
    assert marks(own_signing(town, "ht32")) == []
    fire(town, "2025-09-16", 10)                 # 09:00, 3 working days before Friday 19 September

    ht32 = own_signing(town, "ht32")
    assert marks(ht32) == REMINDED and ht32["marks"][0]["at"].startswith("2025-09-16")
    detail = town.client.get(f"/api/v1/tasks/{ht32['task_id']}", headers=town.headers("ht32")).json
    assert marks(detail) == REMINDED
    assert marks(town.task("vsjt", "sign_unit")) == REMINDED      # tier 1 alike
    assert marks(town.task("leader", "countersign")) == []
    items = by_ref(register(town))
    assert items[f"{YEAR}/zx/ht32"]["reminded_at"] and not items[f"{YEAR}/zx/ht31"]["reminded_at"]

    pages = pages_as(town, "ht32")
    inbox = pages.get("/inbox").get_data(as_text=True)
    assert "已催办 2025-09-16" in inbox
    assert "已催办 2025-09-16 10:00" in pages.get(f"/tasks/{ht32['task_id']}").get_data(as_text=True)  # as it fired
    row = next(r for r in pages.get("/agreements").get_data(as_text=True).split("<tr")[1:] if "HT32<" in r)
    assert "已催办 2025-09-16" in row

    sign_person(town, "ht32")                    # a reminded signing still signs
    assert by_ref(register(town))[f"{YEAR}/zx/ht32"]["status"] == "awaiting_countersign"
