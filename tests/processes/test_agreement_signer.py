"""Who confirms an agreement is the account that submits (issue 12, review H1): a name typed
for someone else is refused with 422 naming the field and nothing is kept; the page offers
the account's own name; the document names the account even when a step bypassed the check.
REST API and pages, SQLite and PostgreSQL."""
from __future__ import annotations

from ledger.agreement_check import after_step
from tests.web.conftest import csrf_token

from .agreements_case import YEAR, by_ref, launch, pages_as, register


def test_a_principal_cannot_confirm_under_another_name(scenario):
    town = scenario
    launch(town)
    errors = town.refused("pzx", "sign_unit", {"decision": "accept", "signer_name": "PFG"})
    assert set(errors) == {"signer_name"} and "PZX" in errors["signer_name"] and "本人" in errors["signer_name"]
    assert by_ref(register(town))[f"{YEAR}/zx"]["status"] == "pending"      # nothing kept
    town.complete("pzx", "sign_unit", {"decision": "accept", "signer_name": " PZX "})
    errors = town.refused("leader", "countersign", {"countersign_decision": "countersign", "countersigner_name": "镇长"})
    assert set(errors) == {"countersigner_name"} and "LEADER" in errors["countersigner_name"]
    assert by_ref(register(town))[f"{YEAR}/zx"]["countersigned_at"] is None


def test_the_page_offers_the_accounts_own_name_and_refuses_another(scenario):
    town = scenario
    launch(town)
    task = town.task("pzx", "sign_unit")
    client = pages_as(town, "pzx")
    page = client.get(f"/tasks/{task['task_id']}").get_data(as_text=True)
    assert 'value="PZX"' in page
    response = client.post(f"/tasks/{task['task_id']}", data={"decision": "accept", "signer_name": "张三",
                                                                "csrf_token": csrf_token(client, f"/tasks/{task['task_id']}")})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "请填写您本人账号的姓名“PZX”" in body
    assert by_ref(register(town))[f"{YEAR}/zx"]["status"] == "pending"


def test_the_document_names_the_confirming_account_whatever_was_typed(scenario):
    town = scenario
    launch(town)
    task = town.task("pzx", "sign_unit")       # a step past the pages' check (a script, an old client)
    town.engine.runtime.complete_task(task["task_id"], {"decision": "accept", "signer_name": "别人"}, actor="pzx")
    after_step(town.engine)
    item = by_ref(register(town))[f"{YEAR}/zx"]
    assert (item["signer_name"], item["signed_by"]) == ("PZX", "pzx")
    doc = town.client.get(f"/api/v1/agreements/{item['id']}/documents", headers=town.headers("leader")).json
    text = town.client.get(f"/api/v1/agreements/documents/{doc['documents'][-1]['id']}",
                           headers=town.headers("leader")).json["text"]
    assert "PZX（账号 pzx）" in text and "别人" not in text
