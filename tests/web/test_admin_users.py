"""/admin/users: the administrator's user pages; nobody else may use them (SQLite and PostgreSQL)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from api.auth import SESSION_COOKIE
from ledger.accounts import create_user
from ledger.models import AccessLog, ApiToken, RoleAssignment, User, WebSession

from .conftest import csrf_token, sign_in

NEW = {"username": "ht-new", "display_name": "新老师", "phone": "13800000001", "password": "a-long-secret",
       "password2": "a-long-secret", "role": "head_teacher", "org_unit": "zx-3-2"}
ENGLISH_NOTE = re.compile(r"\((?=[^()]*[A-Za-z])[^()]*\)")


def db(town):
    return town.extensions["baoxue.engine"].db.transaction()


def user_id(town, username):
    with db(town) as session:
        return session.scalar(select(User.id).where(User.username == username))


def snapshot(town):
    """Every row a user-page POST could touch (a session's last-seen time aside)."""
    with db(town) as session:
        rows = {model.__name__: sorted(map(repr, session.execute(select(model.__table__)).all()))
                for model in (User, RoleAssignment, AccessLog, ApiToken)}
        rows["WebSession"] = sorted(map(repr, session.execute(select(WebSession.id_hash, WebSession.revoked)).all()))
    return rows


def post(browser, path, data=None, token_from="/admin/users"):
    return browser.post(path, data={**(data or {}), "csrf_token": csrf_token(browser, token_from)})


def html_of(response) -> str:
    return response.get_data(as_text=True)


def field_error(html: str, name: str) -> str | None:
    """The error shown beside field ``name``, or None."""
    match = re.search(rf'id="field-{name}">(?:(?!id="field-).)*?'
                      rf'<p class="error" id="e-{name}" role="alert">([^<]*)</p>', html, re.S)
    return match.group(1) if match else None


def listed(html: str) -> list[str]:
    return re.findall(r'<td data-label="用户名"><a href="/admin/users/\d+">([^<]+)</a>', html)


def test_admin_lists_and_filters_users_with_chinese_role_labels(town, browser):
    admin = browser("admin")
    html = html_of(admin.get("/admin/users"))
    assert "共 13 人" in html and listed(html)[:3] == ["admin", "deputy", "ht11"]
    assert '<span class="tag">班主任 三年级2班</span>' in html and '<span class="tag">系统管理员 蛟潭镇</span>' in html
    assert '<option value="head_teacher">班主任</option>' in html
    assert '<option value="zx-3-2">蛟潭中心学校 三年级2班</option>' in html
    assert f'<a href="/admin/users/{user_id(town, "ht32")}">ht32</a>' in html
    assert listed(html_of(admin.get("/admin/users?role=head_teacher"))) == ["ht11", "ht31", "ht32"]
    one = html_of(admin.get("/admin/users?role=head_teacher&org_unit=zx-3-2"))
    assert listed(one) == ["ht32"] and '<option value="head_teacher" selected>' in one
    assert listed(html_of(admin.get("/admin/users?org_unit=zx"))) == ["pzx", "regzx"]
    assert listed(html_of(admin.get("/admin/users?q=HT3"))) == ["ht31", "ht32"]
    assert listed(html_of(admin.get("/admin/users?q=leader"))) == ["leader"]   # username or display name
    assert listed(html_of(admin.get("/admin/users?q=%25"))) == []
    assert "没有符合条件的用户" in html_of(admin.get("/admin/users?q=nobody"))
    assert len(listed(html_of(admin.get("/admin/users?role=janitor&org_unit=nowhere")))) == 13   # ignored


def test_more_than_fifty_users_are_paged_keeping_the_filters(town, browser):
    engine = town.extensions["baoxue.engine"]
    with engine.db.transaction() as session:
        for i in range(55):
            create_user(session, f"gw{i:02d}", f"网格员{i:02d}", "pw-for-tests", now=engine.clock(),
                        roles=[("grid_worker", "v-jt")])
    admin = browser("admin")
    first = html_of(admin.get("/admin/users?role=grid_worker"))
    assert "共 55 人" in first and len(listed(first)) == 50 and "第 1 / 2 页" in first
    assert 'href="/admin/users?role=grid_worker&amp;page=2"' in first
    second = html_of(admin.get("/admin/users?role=grid_worker&page=2"))
    assert listed(second) == ["gw50", "gw51", "gw52", "gw53", "gw54"] and "上一页" in second
    assert len(listed(html_of(admin.get("/admin/users")))) == 50


def test_admin_creates_a_user_who_can_sign_in_at_once(town, browser):
    admin = browser("admin")
    form = admin.get("/admin/users/new")
    assert form.status_code == 200 and '<option value="head_teacher">班主任 — 班级</option>' in html_of(form)
    response = post(admin, "/admin/users/new", NEW)
    assert response.status_code == 302, html_of(response)
    new_id = user_id(town, "ht-new")
    assert response.location == f"/admin/users/{new_id}"
    page = html_of(admin.get(response.location))
    assert "已创建用户 ht-new（新老师）" in page and '<span class="tag">班主任 三年级2班</span>' in page
    assert "13800000001" in page and "a-long-secret" not in page
    with db(town) as session:
        log = session.scalars(select(AccessLog).where(AccessLog.subject == f"user:{new_id}")).all()
    assert [row.username for row in log] == ["admin"] and "a-long-secret" not in log[0].detail
    newcomer = town.test_client()
    assert sign_in(newcomer, "ht-new", "a-long-secret").status_code == 302
    assert "班主任 三年级2班" in html_of(newcomer.get("/inbox"))


@pytest.mark.parametrize("change, status, errors", [
    ({"password": "short", "password2": "short"}, 422, {"password": "密码至少8位"}),
    ({"username": "teacher-wang", "password": "Teacher-Wang", "password2": "Teacher-Wang"}, 422,
     {"password": "密码不能与用户名相同"}),
    ({"password2": "another-secret"}, 422, {"password2": "两次输入的密码不一致"}),
    ({"password": "12345678", "password2": "12345678"}, 422,
     {"password": "密码太常见或太容易猜到（如 12345678、woaini1314、连续或重复的字符、用户名或姓名），"
                  "请换一个更长、更不规则的密码，例如几个词组成的短句"}),
    ({"password": " " * 8, "password2": " " * 8}, 422, {"password": "密码不能只由空格组成"}),
    ({"username": "has space", "display_name": " ", "phone": "call me"}, 422,
     {"username": "用户名须为2-120位字母、数字或 _ . -", "display_name": "显示名须为1-120个字符",
      "phone": "电话号码格式不正确"}),
    ({"role": "", "org_unit": ""}, 422, {"role": "请选择角色", "org_unit": "请选择单位"}),
    ({"org_unit": ""}, 422, {"org_unit": "请选择单位"}),
    ({"role": "janitor"}, 422, {"role": "请从列表中选择角色"}),
    ({"org_unit": "zx"}, 422, {"org_unit": "班主任须分配到班级，“蛟潭中心学校”是学校。"}),
    ({"org_unit": "zx-3"}, 422, {"org_unit": "请从列表中选择单位（班主任须分配到班级）"}),   # a grade
    ({"username": "HT31"}, 409, {"username": "用户名已存在"}),   # taken, ignoring case
])
def test_create_errors_are_chinese_beside_their_fields_with_the_values_kept(town, browser, change, status, errors):
    admin = browser("admin")
    before = snapshot(town)
    data = {**NEW, **change}
    response = post(admin, "/admin/users/new", data)
    assert response.status_code == status
    html = html_of(response)
    for name, message in errors.items():
        assert field_error(html, name) == message, (name, html)
    shown = re.findall(r'<p class="error"[^>]*>([^<]*)</p>', html)
    assert len(shown) == len(errors) and not any(ENGLISH_NOTE.search(text) for text in shown)
    assert "未能创建，请按提示修改标红的项目" in html
    for name in ("username", "display_name", "phone"):
        assert f'name="{name}" value="{data[name].strip()}"' in html
    if data["role"] and data["role"] != "janitor":
        assert f'<option value="{data["role"]}" selected>' in html
    if data["org_unit"] and data["org_unit"] != "zx-3":
        assert f'<option value="{data["org_unit"]}" selected>' in html
    # Passwords are never put back into a field (the message may name "12345678" as an example).
    assert f'value="{data["password"]}"' not in html and f'value="{data["password2"]}"' not in html
    assert snapshot(town) == before


def test_admin_edits_the_profile_and_resets_the_password(town, browser):
    admin, teacher = browser("admin"), browser("ht31")
    ht31 = user_id(town, "ht31")
    page = f"/admin/users/{ht31}"
    saved = post(admin, f"{page}/profile", {"display_name": "王老师", "phone": "139 0000 0000"})
    assert saved.status_code == 302 and saved.location == page
    html = html_of(admin.get(page))
    assert "已保存 王老师 的资料" in html and 'name="display_name" value="王老师"' in html and "139 0000 0000" in html
    assert teacher.get("/inbox").status_code == 200   # a profile edit keeps the user's session
    assert "资料没有改动" in html_of(admin.get(post(admin, f"{page}/profile",
                                                       {"display_name": "王老师", "phone": "139 0000 0000"}).location))

    before = snapshot(town)
    bad = post(admin, f"{page}/profile", {"display_name": "", "phone": "phone!"})
    assert bad.status_code == 422
    html = html_of(bad)
    assert field_error(html, "display_name") == "显示名须为1-120个字符"
    assert field_error(html, "phone") == "电话号码格式不正确" and 'name="phone" value="phone!"' in html
    for change in ({"password": "1234", "password2": "1234"}, {"password": "12345678", "password2": "12345678"},
                   {"password": "new-secret-1", "password2": "new-secret-2"}):
        refused = post(admin, f"{page}/password", change)
        assert refused.status_code == 422 and "new-secret" not in html_of(refused)
    assert field_error(html_of(refused), "password2") == "两次输入的密码不一致"
    assert snapshot(town) == before

    reset = post(admin, f"{page}/password", {"password": "new-secret-1", "password2": "new-secret-1"})
    assert reset.status_code == 302
    assert "已重置密码" in html_of(admin.get(page))
    assert teacher.get("/inbox").status_code == 302   # the old session ended
    assert "用户名或密码错误" in html_of(sign_in(town.test_client(), "ht31"))
    assert sign_in(town.test_client(), "ht31", "new-secret-1").status_code == 302


def test_disabling_keeps_the_history_and_ends_the_login_until_enabled(town, browser, home_visit):
    task_id = home_visit()
    teacher = browser("ht31")
    claimed = teacher.post(f"/tasks/{task_id}/claim", data={"csrf_token": csrf_token(teacher, "/inbox")})
    assert claimed.status_code == 302
    admin = browser("admin")
    ht31 = user_id(town, "ht31")
    page = f"/admin/users/{ht31}"
    html = html_of(admin.get(page))
    assert "该用户已认领 <strong>1</strong> 项未办结的任务" in html and "校长" in html and "改派" in html

    before = snapshot(town)
    unconfirmed = post(admin, f"{page}/active", {"active": "0"})
    assert unconfirmed.status_code == 422
    assert field_error(html_of(unconfirmed), "confirm") == "请勾选确认后再停用此账号。"
    assert snapshot(town) == before

    disabled = post(admin, f"{page}/active", {"active": "0", "confirm": "yes"})
    assert disabled.status_code == 302 and disabled.location == page
    html = html_of(admin.get(page))
    assert "已停用账号 ht31" in html and '<span class="status status-off">停用</span>' in html
    assert '<span class="tag">班主任 三年级1班</span>' in html and "启用账号" in html
    assert teacher.get("/inbox").status_code == 302                  # signed out at once
    refused = sign_in(town.test_client(), "ht31")
    assert refused.status_code == 200 and "用户名或密码错误" in html_of(refused)
    row = town.extensions["baoxue.engine"].tasks.get(task_id)
    assert row.status == "open" and row.assignee is None              # released for colleagues
    events = town.extensions["baoxue.engine"].history.events(row.instance_id)
    assert [e.kind for e in events if e.task_id == task_id][-2:] == ["task_claimed", "task_unclaimed"]
    listing = html_of(admin.get("/admin/users?role=head_teacher&org_unit=zx-3-1"))
    assert listed(listing) == ["ht31"] and "停用" in listing

    assert post(admin, f"{page}/active", {"active": "1"}).status_code == 422
    enabled = post(admin, f"{page}/active", {"active": "1", "confirm": "yes"})
    assert enabled.status_code == 302 and "已启用账号 ht31" in html_of(admin.get(page))
    assert sign_in(town.test_client(), "ht31").status_code == 302


def test_admin_grants_and_revokes_roles(town, browser):
    admin, ht32 = browser("admin"), user_id(town, "ht32")
    page = f"/admin/users/{ht32}"
    granted = post(admin, f"{page}/roles", {"role": "moral_education_office", "org_unit": "zx"})
    assert granted.status_code == 302 and granted.location == page
    html = html_of(admin.get(page))
    assert "已授予 德育处 蛟潭中心学校" in html and '<span class="tag">德育处 蛟潭中心学校</span>' in html
    member = browser("ht32")
    assert "德育处 蛟潭中心学校" in html_of(member.get("/inbox"))

    twice = post(admin, f"{page}/roles", {"role": "moral_education_office", "org_unit": "zx"})
    assert "该用户已有此角色：德育处 蛟潭中心学校" in html_of(admin.get(twice.location))
    before = snapshot(town)
    wrong = post(admin, f"{page}/roles", {"role": "grid_worker", "org_unit": "zx-3-2"})
    assert wrong.status_code == 422
    html = html_of(wrong)
    assert field_error(html, "org_unit") == "网格员须分配到村（场、社区），“蛟潭中心学校 三年级2班”是班级。"
    assert '<option value="grid_worker" selected>' in html and '<option value="zx-3-2" selected>' in html
    assert field_error(html_of(post(admin, f"{page}/roles", {"role": "", "org_unit": "v-jt"})), "role") == "请选择角色"
    assert snapshot(town) == before

    revoked = post(admin, f"{page}/roles/revoke", {"role": "head_teacher", "org_unit": "zx-3-2"})
    assert revoked.status_code == 302
    html = html_of(admin.get(page))
    assert "已撤销 班主任 三年级2班" in html and '<span class="tag">班主任 三年级2班</span>' not in html
    again = post(admin, f"{page}/roles/revoke", {"role": "head_teacher", "org_unit": "zx-3-2"})
    assert "该用户没有此角色" in html_of(admin.get(again.location))
    with db(town) as session:
        pairs = session.execute(select(RoleAssignment.role, RoleAssignment.org_unit_code)
                                .where(RoleAssignment.user_id == ht32)).all()
    assert pairs == [("moral_education_office", "zx")]


def test_the_admin_cannot_lock_themselves_out(town, browser):
    admin, me = browser("admin"), user_id(town, "admin")
    page = f"/admin/users/{me}"
    html = html_of(admin.get(page))
    assert "不能停用自己的账号" in html and f'action="{page}/active"' not in html
    assert "不能撤销自己的系统管理员角色" in html and f'action="{page}/roles/revoke"' not in html
    before = snapshot(town)
    forced = post(admin, f"{page}/active", {"active": "0", "confirm": "yes"})
    assert "不能停用自己的账号" in html_of(admin.get(forced.location))
    forced = post(admin, f"{page}/roles/revoke", {"role": "admin", "org_unit": "town"})
    assert "不能撤销自己的系统管理员角色" in html_of(admin.get(forced.location))
    assert snapshot(town) == before


def test_an_unknown_user_is_a_chinese_404(town, browser):
    admin = browser("admin")
    assert "用户不存在" in html_of(admin.get("/admin/users/9999"))
    assert admin.get("/admin/users/9999").status_code == 404
    assert post(admin, "/admin/users/9999/roles", {"role": "principal", "org_unit": "zx"}).status_code == 404


def admin_posts(town):
    ht31 = user_id(town, "ht31")
    return [("/admin/users/new", NEW),
            (f"/admin/users/{ht31}/profile", {"display_name": "改名"}),
            (f"/admin/users/{ht31}/password", {"password": "new-secret-1", "password2": "new-secret-1"}),
            (f"/admin/users/{ht31}/active", {"active": "0", "confirm": "yes"}),
            (f"/admin/users/{ht31}/roles", {"role": "admin", "org_unit": "town"}),
            (f"/admin/users/{ht31}/roles/revoke", {"role": "head_teacher", "org_unit": "zx-3-1"})]


@pytest.mark.parametrize("username", ["ht31", "pzx", "leader"])
def test_anyone_but_an_admin_is_refused_every_admin_url_and_nothing_changes(town, browser, username):
    person = browser(username)
    ht31 = user_id(town, "ht31")
    assert "用户管理" not in html_of(person.get("/inbox"))
    before = snapshot(town)
    for path in ("/admin/users", "/admin/users?role=admin", "/admin/users/new", f"/admin/users/{ht31}",
                 "/admin/users/9999"):
        response = person.get(path)
        assert response.status_code == 403 and "用户管理仅限系统管理员使用" in html_of(response), path
    for path, data in admin_posts(town):
        response = post(person, path, data, token_from="/inbox")
        assert response.status_code == 403 and "用户管理仅限系统管理员使用" in html_of(response), path
    assert snapshot(town) == before
    assert person.get("/inbox").status_code == 200
    assert '<a class="who-link" href="/admin/users">用户管理</a>' in html_of(browser("admin").get("/inbox"))


def test_a_stranger_is_sent_to_login(town, client):
    response = client.get("/admin/users?role=principal")
    assert response.status_code == 302 and response.location == "/login?next=/admin/users%3Frole%3Dprincipal"
    before = snapshot(town)
    for path, data in admin_posts(town):
        assert client.post(path, data={**data, "csrf_token": csrf_token(client)}).status_code == 302
    assert snapshot(town) == before


def test_posts_without_a_valid_csrf_token_are_refused_and_change_nothing(town, browser):
    admin = browser("admin")
    before = snapshot(town)
    for path, data in admin_posts(town):
        for token in ({}, {"csrf_token": "forged"}):
            response = admin.post(path, data={**data, **token})
            assert response.status_code == 400 and "页面已过期" in html_of(response), path
    assert snapshot(town) == before
    assert admin.get_cookie(SESSION_COOKIE) is not None and admin.get("/admin/users").status_code == 200


def test_revoking_the_role_of_a_claimed_task_releases_it_and_says_so(town, browser, home_visit):
    task_id = home_visit()
    teacher = browser("ht31")
    assert teacher.post(f"/tasks/{task_id}/claim", data={"csrf_token": csrf_token(teacher, "/inbox")}).status_code == 302
    admin, page = browser("admin"), f"/admin/users/{user_id(town, 'ht31')}"
    revoked = post(admin, f"{page}/roles/revoke", {"role": "head_teacher", "org_unit": "zx-3-1"})
    assert revoked.status_code == 302
    assert "已撤销 班主任 三年级1班。其认领的 1 项待办已退回该岗位的其他人员。" in html_of(admin.get(page))
    assert town.extensions["baoxue.engine"].tasks.get(task_id).assignee is None
    assert teacher.get(f"/tasks/{task_id}").status_code == 404        # no access left through the task
