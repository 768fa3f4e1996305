"""A personal signing is listed in its signer's inbox only (issue 12 review): a colleague
holding the same role in the same class or village saw it, claimed by the signer, and got a
403 when trying it. And a leaver's signing is withdrawn when the role is taken away, not left
released in a colleague's inbox until the worker's hourly check."""
from __future__ import annotations

from sqlalchemy import select

from engine.persistence.models import HumanTask
from ledger.accounts import create_user
from ledger.models import User
from tests.api.town import PASSWORD

from .agreements_case import YEAR, by_ref, launch, own_signing, register, sign_person, sign_unit


def _colleague(town, username="ht33", unit="zx-3-2"):
    """A second head teacher of ht32's class."""
    with town.engine.db.transaction() as session:
        create_user(session, username, username.upper(), PASSWORD, now=town.clock(), roles=[("head_teacher", unit)])


def _user_id(town, username):
    with town.engine.db.read() as session:
        return session.scalar(select(User.id).where(User.username == username))


def test_a_colleagues_signing_is_not_in_my_inbox_even_when_released(scenario):
    town = scenario
    _colleague(town)                              # holds head_teacher@zx-3-2 before tier 2 starts
    launch(town)
    sign_unit(town, "zx")
    theirs = own_signing(town, "ht32")
    mine = own_signing(town, "ht33")
    assert [t["task_id"] for t in town.inbox("ht33") if t["name"] == "sign_personal"] == [mine["task_id"]]
    # Released by a supervisor, it is still ht32's alone: not listed for ht33.
    assert town.client.post(f"/api/v1/tasks/{theirs['task_id']}/unclaim", headers=town.headers("pzx")).status_code == 200
    assert theirs["task_id"] not in {t["task_id"] for t in town.inbox("ht33")}
    assert theirs["task_id"] in {t["task_id"] for t in town.inbox("ht32")}
    town.client.post(f"/api/v1/tasks/{theirs['task_id']}/claim", headers=town.headers("ht32"))
    sign_person(town, "ht32")


def test_a_leavers_signing_is_withdrawn_when_the_role_is_taken_away(scenario):
    town = scenario
    _colleague(town)
    launch(town)
    sign_unit(town, "zx")
    theirs = own_signing(town, "ht32")
    response = town.client.delete(f"/api/v1/users/{_user_id(town, 'ht32')}/assignments", headers=town.headers("admin"),
                                  json={"role": "head_teacher", "org_unit": "zx-3-2"})
    assert response.status_code == 200, response.json
    # At once, no hourly check in between: withdrawn, with the reason, and in no one's inbox.
    item = by_ref(register(town))[f"{YEAR}/zx/ht32"]
    assert item["status"] == "withdrawn" and "不再担任" in item["withdrawn_reason"]
    with town.engine.db.read() as session:
        assert session.get(HumanTask, theirs["task_id"]).status == "cancelled"
    assert theirs["task_id"] not in {t["task_id"] for t in town.inbox("ht33")}
    assert theirs["task_id"] not in {t["task_id"] for t in town.inbox("pzx")}


def test_disabling_an_account_withdraws_its_signing_at_once(scenario):
    town = scenario
    launch(town)
    sign_unit(town, "v-jt")
    own_signing(town, "gwjt")
    response = town.client.patch(f"/api/v1/users/{_user_id(town, 'gwjt')}", headers=town.headers("admin"),
                                 json={"active": False})
    assert response.status_code == 200, response.json
    assert by_ref(register(town))[f"{YEAR}/v-jt/gwjt"]["status"] == "withdrawn"
