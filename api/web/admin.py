"""``/admin/users``: the system administrator manages accounts and their (role, org unit) grants.

The pages run the use cases of ``ledger.users`` (as ``/api/v1/users`` does), so the rules are
the same: the validation, the kinds of org unit each role may sit at, no self-lock-out, and
disabling keeps the account's history, roles and tasks while ending its sessions and tokens.

* every URL here is for administrators only: a stranger is sent to /login, anyone else gets
  the Chinese 403 page, before a form is read (CSRF is checked before that, app-wide);
* every POST redirects with a Chinese flash message when it is done; a form with mistakes
  comes back (422) with the Chinese message beside each field and the values kept
  (passwords excepted); a refusal by the rules (409, 404 for a grant no longer held) is a
  flash message on the user's page.
"""
from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request
from sqlalchemy import select

from engine.errors import Conflict, InvalidInput, NotFound
from ledger import users
from ledger.agreement_check import withdraw_leavers
from ledger.directory import role_name
from ledger.models import OrgUnit
from ledger.roles import ROLES, SYSTEM_ADMIN

from ..auth import current_principal
from .common import admins_only, engine, error_page, page_number, page_url

bp = Blueprint("admin", __name__, url_prefix="/admin")

PER_PAGE = 50
ADMINS_ONLY = "用户管理仅限系统管理员使用。"
NO_USER = "用户不存在。"
KIND_NAMES = {"town": "镇", "school": "学校", "class": "班级", "village": "村（场、社区）"}
KIND_ORDER = ("town", "school", "class", "village")
ROLE_CODES = [role.code for role in ROLES] + [SYSTEM_ADMIN]
FIELD_LABELS = {"username": "用户名", "display_name": "姓名", "phone": "电话", "password": "密码",
                "role": "角色", "org_unit": "单位"}
_ENGLISH_NOTE = re.compile(r"\s*\((?=[^()]*[A-Za-z])[^()]*\)\s*$")
_HAN = re.compile(r"[\u4e00-\u9fff]")


bp.before_request(admins_only(ADMINS_ONLY))


# ------------------------------------------------------------------ list

@bp.get("/users")
def user_list():
    units = _units()
    role = request.args.get("role", "")
    role = role if role in ROLE_CODES else ""
    org_unit = request.args.get("org_unit", "")
    org_unit = org_unit if org_unit in units else ""
    q = request.args.get("q", "").strip()[:64]
    page = page_number(request.args.get("page"))
    with engine().db.read() as session:
        found = users.list_users(session, role=role or None, org_unit=org_unit or None, q=q or None)
    total = len(found)
    pages = max(1, -(-total // PER_PAGE))
    page = min(page, pages)
    filters = {k: v for k, v in (("role", role), ("org_unit", org_unit), ("q", q)) if v}
    return render_template(
        "admin_users.html", items=found[(page - 1) * PER_PAGE:page * PER_PAGE], total=total,
        page=page, pages=pages, role=role, org_unit=org_unit, q=q, filtered=bool(filters),
        role_choices=_role_choices(), unit_groups=_unit_groups(units),
        prev_url=page_url("/admin/users", filters, page - 1) if page > 1 else None,
        next_url=page_url("/admin/users", filters, page + 1) if page < pages else None)


# ------------------------------------------------------------------ create

@bp.get("/users/new")
def new_user():
    return _render_new({}, {})


@bp.post("/users/new")
def create_user():
    form = request.form
    values = {key: form.get(key, "").strip() for key in ("username", "display_name", "phone", "role", "org_unit")}
    password, again = form.get("password", ""), form.get("password2", "")
    mismatch = {"password2": "两次输入的密码不一致"} if password != again else {}

    def create(session, actor, now):
        return users.create_account(
            session, actor, username=values["username"], display_name=values["display_name"],
            phone=values["phone"] or None, password=password, now=now,
            roles=[{"role": values["role"] or None, "org_unit": values["org_unit"] or None}])
    try:   # with mismatched passwords the rest is still checked (and rolled back): all errors at once
        created = _in_transaction(create, dry=bool(mismatch))
    except (InvalidInput, Conflict) as exc:
        errors = {**_field_errors(exc.errors, values), **mismatch}
        if not values["org_unit"]:
            errors.setdefault("org_unit", "请选择单位")
        return _render_new(values, errors, status=409 if isinstance(exc, Conflict) else 422)
    if mismatch:
        return _render_new(values, mismatch, status=422)
    flash(f"已创建用户 {created['username']}（{created['display_name']}），可以用设定的密码登录。", "success")
    return redirect(f"/admin/users/{created['id']}")


def _render_new(values: dict, errors: dict, status: int = 200):
    units = _units()
    body = render_template("admin_user_new.html", values=values, errors=errors,
                           role_choices=_role_choices(with_kind=True), unit_groups=_unit_groups(units))
    return body, status


# ------------------------------------------------------------------ one user

@bp.get("/users/<int:user_id>")
def user_detail(user_id):
    return _render_user(user_id)


@bp.post("/users/<int:user_id>/profile")
def update_profile(user_id):
    user = _get(user_id)
    if user is None:
        return error_page(404, NO_USER, "用户不存在")
    values = {"display_name": request.form.get("display_name", "").strip(),
              "phone": request.form.get("phone", "").strip()}
    changes = {key: value for key, value in values.items() if value != (user[key] or "")}
    if not changes:
        flash("资料没有改动。", "info")
        return redirect(f"/admin/users/{user_id}")
    try:
        _run(users.update_account, user_id, changes)
    except InvalidInput as exc:
        return _render_user(user_id, values=values, errors=_field_errors(exc.errors, values), status=422)
    flash(f"已保存 {values['display_name']} 的资料。", "success")
    return redirect(f"/admin/users/{user_id}")


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id):
    if _get(user_id) is None:
        return error_page(404, NO_USER, "用户不存在")
    password, again = request.form.get("password", ""), request.form.get("password2", "")
    errors = {"password2": "两次输入的密码不一致"} if password != again else {}
    try:
        _run(users.update_account, user_id, {"password": password}, dry=bool(errors))
    except InvalidInput as exc:
        errors = {**_field_errors(exc.errors, {}), **errors}
    if errors:
        return _render_user(user_id, errors=errors, status=422)
    flash("已重置密码。该用户原有的登录和接口令牌已全部失效，需用新密码重新登录。", "success")
    return redirect(f"/admin/users/{user_id}")


@bp.post("/users/<int:user_id>/active")
def set_active(user_id):
    user = _get(user_id)
    if user is None:
        return error_page(404, NO_USER, "用户不存在")
    active = request.form.get("active") == "1"
    if request.form.get("confirm") != "yes":
        what = "启用" if active else "停用"
        return _render_user(user_id, errors={"confirm": f"请勾选确认后再{what}此账号。"}, status=422)
    if active == user["active"]:
        flash("该账号已是" + ("启用" if active else "停用") + "状态。", "info")
        return redirect(f"/admin/users/{user_id}")
    try:
        _run(users.update_account, user_id, {"active": active})
    except Conflict:
        flash("不能停用自己的账号。", "error")
        return redirect(f"/admin/users/{user_id}")
    if not active:
        withdraw_leavers(engine())
    if active:
        flash(f"已启用账号 {user['username']}，该用户可以重新登录。", "success")
    else:
        flash(f"已停用账号 {user['username']}：其登录和接口令牌已失效，不能再登录；"
              "历史记录、角色和已认领的任务均保留。", "success")
    return redirect(f"/admin/users/{user_id}")


@bp.post("/users/<int:user_id>/roles")
def grant_role(user_id):
    if _get(user_id) is None:
        return error_page(404, NO_USER, "用户不存在")
    values = {"role": request.form.get("role", "").strip(), "org_unit": request.form.get("org_unit", "").strip()}
    try:
        _run(users.grant, user_id, values["role"] or None, values["org_unit"] or None)
    except InvalidInput as exc:
        errors = _field_errors(exc.errors, values)
        if not values["org_unit"]:
            errors.setdefault("org_unit", "请选择单位")
        return _render_user(user_id, values=values, errors=errors, status=422)
    except Conflict:
        flash(f"该用户已有此角色：{_pair_label(values['role'], values['org_unit'])}。", "error")
        return redirect(f"/admin/users/{user_id}")
    flash(f"已授予 {_pair_label(values['role'], values['org_unit'])}，该用户下次打开页面时生效。", "success")
    return redirect(f"/admin/users/{user_id}")


@bp.post("/users/<int:user_id>/roles/revoke")
def revoke_role(user_id):
    if _get(user_id) is None:
        return error_page(404, NO_USER, "用户不存在")
    role, org_unit = request.form.get("role", ""), request.form.get("org_unit", "")
    label = _pair_label(role, org_unit)
    try:
        outcome = _run(users.revoke, user_id, role, org_unit)
    except NotFound:
        flash(f"该用户没有此角色：{label}（可能已被撤销）。", "error")
    except Conflict:
        flash("不能撤销自己的系统管理员角色。", "error")
    else:
        withdraw_leavers(engine())
        released = outcome["released_tasks"]
        flash(f"已撤销 {label}。" + (f"其认领的 {released} 项待办已退回该岗位的其他人员。" if released else ""),
              "success")
    return redirect(f"/admin/users/{user_id}")


def _render_user(user_id: int, *, values: dict | None = None, errors: dict | None = None, status: int = 200):
    user = _get(user_id)
    if user is None:
        return error_page(404, NO_USER, "用户不存在")
    units = _units()
    values = values or {}
    form = {"display_name": values.get("display_name", user["display_name"]),
            "phone": values.get("phone", user["phone"] or ""),
            "role": values.get("role", ""), "org_unit": values.get("org_unit", "")}
    body = render_template(
        "admin_user.html", user=user, values=form, errors=errors or {},
        is_me=user["username"] == current_principal().username,
        role_choices=_role_choices(with_kind=True), unit_groups=_unit_groups(units))
    return body, status


# ------------------------------------------------------------------ helpers

def _get(user_id: int) -> dict | None:
    try:
        with engine().db.read() as session:
            return users.get_user(session, user_id)
    except NotFound:
        return None


class _DryRun(Exception):
    """Raised inside a transaction to roll back a use case that was run only to validate."""


def _in_transaction(call, *, dry: bool = False):
    """``call(session, actor, now)`` in one transaction as the signed-in administrator; ``dry``
    rolls it back (its validation still raises), so a form with another mistake changes nothing."""
    eng = engine()
    try:
        with eng.db.transaction() as session:
            result = call(session, current_principal().username, eng.clock())
            if dry:
                raise _DryRun
            return result
    except _DryRun:
        return None


def _run(use_case, user_id: int, *args, dry: bool = False):
    """A ``ledger.users`` use case on one user (see ``_in_transaction``)."""
    return _in_transaction(lambda session, actor, now: use_case(session, actor, user_id, *args, now=now), dry=dry)


def _units() -> dict[str, dict]:
    """Every org unit a role can be granted at: {code: {kind, label}} in the directory's order.

    A class is labelled with its school ("蛟潭中心学校 三年级1班"): class names repeat across schools."""
    kinds = {users.unit_kind_for(code) for code in ROLE_CODES}
    with engine().db.read() as session:
        rows = session.execute(select(OrgUnit.code, OrgUnit.name, OrgUnit.kind, OrgUnit.parent_code)
                               .order_by(OrgUnit.sort, OrgUnit.code)).all()
    by_code = {code: (name, kind, parent) for code, name, kind, parent in rows}
    units = {}
    for code, name, kind, parent in rows:
        if kind not in kinds:
            continue
        label = name
        if kind == "class":
            seen = set()
            while parent and parent in by_code and parent not in seen:
                seen.add(parent)
                parent_name, parent_kind, parent = by_code[parent]
                if parent_kind == "school":
                    label = f"{parent_name} {name}"
                    break
        units[code] = {"kind": kind, "label": label, "name": name}
    return units


def _unit_groups(units: dict) -> list[tuple[str, list[tuple[str, str]]]]:
    """The units as select optgroups by kind: [(kind name, [(code, label)])]."""
    groups = []
    for kind in KIND_ORDER:
        options = [(code, unit["label"]) for code, unit in units.items() if unit["kind"] == kind]
        if options:
            groups.append((KIND_NAMES[kind], options))
    return groups


def _role_choices(with_kind: bool = False) -> list[tuple[str, str]]:
    """[(code, 中文名)]; ``with_kind`` adds the kind of unit the role is held at: "班主任 — 班级"."""
    return [(code, f"{role_name(code)} — {KIND_NAMES[users.unit_kind_for(code)]}" if with_kind else role_name(code))
            for code in ROLE_CODES]


def _pair_label(role: str, org_unit: str) -> str:
    """"班主任 三年级2班", as on the list page and in the header."""
    unit = _units().get(org_unit)
    return f"{role_name(role)} {unit['name'] if unit else org_unit}"


def _field_errors(errors, values: dict) -> dict[str, str]:
    """``ledger.users``' {field: "中文 (english)"} as {form field: 中文}.

    ``roles.0.role`` is the create form's ``role``; an empty select says "please choose"; a
    role at the wrong kind of unit names the kind it needs; other messages lose their English
    note, and one that is only English is replaced by a Chinese one for its field."""
    mapped: dict[str, str] = {}
    units = None
    for key, message in (errors or {}).items() if isinstance(errors, dict) else []:
        name = str(key).rsplit(".", 1)[-1] if str(key).startswith("roles.") else str(key)
        if name == "roles":
            name = "role"
        text = _ENGLISH_NOTE.sub("", str(message)).strip()
        if name == "role":
            text = "请选择角色" if not values.get("role") else "请从列表中选择角色"
        elif name == "org_unit":
            units = units if units is not None else _units()
            role, code = values.get("role"), values.get("org_unit")
            kind = users.unit_kind_for(role)
            if not code:
                text = "请选择单位"
            elif code not in units and kind is None:
                text = "请从列表中选择单位"
            elif kind and code in units:
                text = (f"{role_name(role)}须分配到{KIND_NAMES[kind]}，"
                        f"“{units[code]['label']}”是{KIND_NAMES[units[code]['kind']]}。")
            elif kind:
                text = f"请从列表中选择单位（{role_name(role)}须分配到{KIND_NAMES[kind]}）"
        if not _HAN.search(text):
            text = f"{FIELD_LABELS.get(name, '此项')}填写有误"
        mapped[name] = text if name not in mapped else f"{mapped[name]}；{text}"
    return mapped
