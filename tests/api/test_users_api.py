"""/api/v1/users: the administrator manages accounts; nobody else may (SQLite and PostgreSQL)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from ledger.accounts import open_web_session, resolve_web_session
from ledger.models import AccessLog, ApiToken, RoleAssignment, User, WebSession

from .town import PASSWORD

NEW = {"username": "ht-new", "display_name": "新老师", "phone": "13800000001", "password": "a-long-secret",
       "roles": [{"role": "head_teacher", "org_unit": "zx-3-1"}]}


def db(app):
    return app.extensions["baoxue.engine"].db.transaction()


def snapshot(app):
    """Every row an account change could touch, to prove a rejected request wrote nothing."""
    with db(app) as session:
        return {model.__name__: sorted(map(repr, session.execute(select(model.__table__)).all()))
                for model in (User, RoleAssignment, AccessLog, ApiToken, WebSession)}


def user_id(app, username):
    with db(app) as session:
        return session.scalar(select(User.id).where(User.username == username))


def login(client, username, password=PASSWORD):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_admin_lists_and_filters_accounts(client, as_user):
    admin = as_user("admin")
    listed = client.get("/api/v1/users", headers=admin).json
    assert listed["total"] == 13 and [u["username"] for u in listed["items"]][:3] == ["admin", "deputy", "ht11"]
    by_role = client.get("/api/v1/users?role=head_teacher", headers=admin).json["items"]
    assert [u["username"] for u in by_role] == ["ht11", "ht31", "ht32"]
    one = client.get("/api/v1/users?role=head_teacher&org_unit=zx-3-2", headers=admin).json["items"]
    assert [u["username"] for u in one] == ["ht32"]
    assert one[0]["roles"] == [{"role": "head_teacher", "role_name": "班主任", "org_unit": "zx-3-2",
                                "org_unit_name": "三年级2班"}]
    assert [u["username"] for u in client.get("/api/v1/users?q=HT3", headers=admin).json["items"]] == ["ht31", "ht32"]
    assert client.get("/api/v1/users?q=%25", headers=admin).json["total"] == 0   # LIKE wildcards are literal
    body = json.dumps(listed)
    assert "password" not in body and "scrypt" not in body


def test_admin_creates_an_account_that_works_at_once(client, as_user, app):
    response = client.post("/api/v1/users", json=NEW, headers=as_user("admin"))
    assert response.status_code == 201, response.json
    created = response.json
    assert created["username"] == "ht-new" and created["active"] is True and created["claimed_open_tasks"] == 0
    assert "password" not in created and "password_hash" not in created
    token = login(client, "ht-new", "a-long-secret")
    assert token.status_code == 201
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json['token']}"}).json
    assert me["display_name"] == "新老师" and me["roles"][0]["role"] == "head_teacher"
    with db(app) as session:
        log = session.scalars(select(AccessLog).where(AccessLog.subject == f"user:{created['id']}")).all()
    assert [(row.username, row.action) for row in log] == [("admin", "change")]
    assert "a-long-secret" not in log[0].detail and "head_teacher@zx-3-1" in log[0].detail


@pytest.mark.parametrize("change, status, field", [
    ({"password": "short"}, 422, "password"),
    ({"password": "ht-new"}, 422, "password"),
    ({"username": "has space"}, 422, "username"),
    ({"display_name": "  "}, 422, "display_name"),
    ({"roles": [{"role": "janitor", "org_unit": "zx"}]}, 422, "roles.0.role"),
    ({"roles": [{"role": "head_teacher", "org_unit": "nowhere"}]}, 422, "roles.0.org_unit"),
    ({"roles": [{"role": "head_teacher", "org_unit": "zx"}]}, 422, "roles.0.org_unit"),   # a school, not a class
    ({"roles": [{"role": "principal"}]}, 422, "roles"),
    ({"password": None}, 422, "password"),
    ({"username": "HT31"}, 409, "username"),   # taken, ignoring case
])
def test_invalid_or_duplicate_account_is_refused_and_changes_nothing(client, as_user, app, change, status, field):
    admin = as_user("admin")
    before = snapshot(app)
    response = client.post("/api/v1/users", json={**NEW, **change}, headers=admin)
    assert response.status_code == status, response.json
    assert field in response.json["errors"], response.json
    assert "a-long-secret" not in response.get_data(as_text=True)
    assert snapshot(app) == before


@pytest.mark.parametrize("password, message", [
    ("12345678", "密码太常见或太容易猜到"), ("        ", "密码不能只由空格组成"), ("\u3000" * 8, "密码不能只由空格组成"),
    ("woaini1314", "密码太常见或太容易猜到"), ("password1", "密码太常见或太容易猜到"),
    ("qwertyuiop", "密码太常见或太容易猜到"), ("新老师新老师新老师", "密码太常见或太容易猜到"),
    ("ht-new123", "密码太常见或太容易猜到"), ("x" * 129, "密码不能超过128位"), ("1234567", "密码至少8位"),
])
def test_weak_passwords_are_refused_in_chinese_on_create_and_on_change(client, as_user, app, password, message):
    """Issue 8 / NIST SP 800-63B: length 8-128, not blank, not common or guessable."""
    admin = as_user("admin")
    before = snapshot(app)
    created = client.post("/api/v1/users", json={**NEW, "password": password}, headers=admin)
    assert created.status_code == 422 and created.json["errors"]["password"].startswith(message), created.json
    ht31 = client.get("/api/v1/users?q=ht31", headers=admin).json["items"][0]["id"]
    changed = client.patch(f"/api/v1/users/{ht31}", json={"password": password}, headers=admin)
    assert changed.status_code == 422 and changed.json["errors"]["password"].startswith(message)
    assert snapshot(app) == before


def test_a_password_is_normalised_so_full_width_typing_signs_in(client, as_user, app):
    admin = as_user("admin")
    full_width = "Ｗａｎｇ－ｌａｏｓｈｉ－２０２５"
    assert client.post("/api/v1/users", json={**NEW, "password": full_width}, headers=admin).status_code == 201
    assert login(client, "ht-new", "Wang-laoshi-2025").status_code == 201
    assert login(client, "ht-new", full_width).status_code == 201


def test_patch_changes_profile_and_a_new_password_ends_old_credentials(client, as_user, app):
    admin, old = as_user("admin"), as_user("ht31")
    ht31 = user_id(app, "ht31")
    response = client.patch(f"/api/v1/users/{ht31}", json={"display_name": "王老师", "phone": "13900000000"},
                            headers=admin)
    assert response.status_code == 200 and response.json["display_name"] == "王老师"
    assert client.get("/api/v1/me", headers=old).status_code == 200   # a profile edit keeps the session
    assert client.patch(f"/api/v1/users/{ht31}", json={"password": "new-secret-1"}, headers=admin).status_code == 200
    assert client.get("/api/v1/me", headers=old).status_code == 401
    assert login(client, "ht31").status_code == 401 and login(client, "ht31", "new-secret-1").status_code == 201
    bad = client.patch(f"/api/v1/users/{ht31}", json={"password": "1234"}, headers=admin)
    assert bad.status_code == 422 and "password" in bad.json["errors"]
    unknown = client.patch(f"/api/v1/users/{ht31}", json={"role": "admin"}, headers=admin)
    assert unknown.status_code == 422 and "role" in unknown.json["errors"]
    assert client.patch("/api/v1/users/9999", json={"active": False}, headers=admin).status_code == 404
    with db(app) as session:
        details = session.scalars(select(AccessLog.detail).where(AccessLog.subject == f"user:{ht31}")).all()
    assert len(details) == 2 and not any("new-secret-1" in d for d in details)


def test_disabled_user_keeps_history_but_loses_sessions_tokens_and_login(client, as_user, app):
    admin, token = as_user("admin"), as_user("ht31")
    ht31 = user_id(app, "ht31")
    engine = app.extensions["baoxue.engine"]
    with engine.db.transaction() as session:
        web = open_web_session(session, session.get(User, ht31), engine.clock())
    response = client.patch(f"/api/v1/users/{ht31}", json={"active": False}, headers=admin)
    assert response.status_code == 200, response.json
    assert response.json["active"] is False and response.json["disabled_at"]
    assert response.json["roles"] == [{"role": "head_teacher", "role_name": "班主任", "org_unit": "zx-3-1",
                                       "org_unit_name": "三年级1班"}]
    assert client.get("/api/v1/me", headers=token).status_code == 401
    assert login(client, "ht31").status_code == 401
    with engine.db.transaction() as session:
        assert resolve_web_session(session, web, engine.clock()) is None
        assert session.scalar(select(func.count()).select_from(ApiToken).where(
            ApiToken.user_id == ht31, ApiToken.revoked_at.is_(None))) == 0
    listed = client.get("/api/v1/users?role=head_teacher&org_unit=zx-3-1", headers=admin).json["items"]
    assert [(u["username"], u["active"]) for u in listed] == [("ht31", False)]
    again = client.patch(f"/api/v1/users/{ht31}", json={"active": True}, headers=admin)
    assert again.json["active"] is True and again.json["disabled_at"] is None
    assert login(client, "ht31").status_code == 201


def test_admin_cannot_lock_themselves_out(client, as_user, app):
    admin, me = as_user("admin"), user_id(app, "admin")
    assert client.patch(f"/api/v1/users/{me}", json={"active": False}, headers=admin).status_code == 409
    revoke = client.delete(f"/api/v1/users/{me}/assignments", json={"role": "admin", "org_unit": "town"},
                           headers=admin)
    assert revoke.status_code == 409
    assert client.get("/api/v1/users", headers=admin).status_code == 200


def test_grant_and_revoke_assignments(client, as_user, app):
    admin, ht32 = as_user("admin"), user_id(app, "ht32")
    path = f"/api/v1/users/{ht32}/assignments"
    granted = client.post(path, json={"role": "moral_education_office", "org_unit": "zx"}, headers=admin)
    assert granted.status_code == 201
    assert {(r["role"], r["org_unit"]) for r in granted.json["roles"]} == {
        ("head_teacher", "zx-3-2"), ("moral_education_office", "zx")}
    roles = client.get("/api/v1/me", headers=as_user("ht32")).json["roles"]
    assert ("moral_education_office", "zx") in {(r["role"], r["org_unit"]) for r in roles}
    twice = client.post(path, json={"role": "moral_education_office", "org_unit": "zx"}, headers=admin)
    assert twice.status_code == 409
    wrong = client.post(path, json={"role": "grid_worker", "org_unit": "zx-3-2"}, headers=admin)
    assert wrong.status_code == 422 and "org_unit" in wrong.json["errors"]
    assert client.post(path, json={"role": "nobody", "org_unit": "zx"}, headers=admin).json["errors"].keys() == {"role"}
    revoked = client.delete(path, json={"role": "head_teacher", "org_unit": "zx-3-2"}, headers=admin)
    assert revoked.status_code == 200 and [r["role"] for r in revoked.json["roles"]] == ["moral_education_office"]
    assert client.delete(path, json={"role": "head_teacher", "org_unit": "zx-3-2"}, headers=admin).status_code == 404
    assert client.post("/api/v1/users/9999/assignments", json={"role": "principal", "org_unit": "zx"},
                       headers=admin).status_code == 404
    with db(app) as session:
        log = session.scalars(select(AccessLog).where(AccessLog.subject == f"user:{ht32}")).all()
    assert [json.loads(row.detail)["op"] for row in log] == ["grant", "revoke"]
    assert {row.username for row in log} == {"admin"}


ENDPOINTS = [("get", "/api/v1/users", None), ("get", "/api/v1/users/1", None), ("post", "/api/v1/users", NEW),
             ("patch", "/api/v1/users/1", {"active": False}),
             ("post", "/api/v1/users/1/assignments", {"role": "admin", "org_unit": "town"}),
             ("delete", "/api/v1/users/1/assignments", {"role": "head_teacher", "org_unit": "zx-3-1"})]


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
def test_only_administrators_may_manage_accounts(client, as_user, app, method, path, body):
    before = snapshot(app)
    for username in ("leader", "pzx", "ht31"):
        response = getattr(client, method)(path, json=body, headers=as_user(username))
        assert response.status_code == 403, (username, response.json)
    assert getattr(client, method)(path, json=body).status_code == 401
    assert getattr(client, method)(path, json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    # a non-admin is refused before the body is read: no validation hints either
    assert getattr(client, method)(path, json={"x": 1}, headers=as_user("ht31")).status_code == 403
    after = snapshot(app)
    after["ApiToken"] = before["ApiToken"] = None   # as_user logs in: its tokens are not changes
    assert after == before


def test_a_username_signs_in_whatever_its_case_as_it_is_unique_whatever_its_case(client, as_user):
    """Creation refuses "HT31" beside "ht31"; signing in as "HT31" is the same person."""
    as_user("admin")
    for typed in ("ht31", "HT31", " Ht31 "):
        response = login(client, typed)
        assert response.status_code == 201, (typed, response.json)
    assert login(client, "HT31", "wrong-one").status_code == 401
