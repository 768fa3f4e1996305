"""The child register as the one truth: every change of a child's fields goes through here.

``change_child`` checks each new value (``ledger.register_fields``: the ID number's check digit
and the birth date inside it, known codes and flags, real org units, sane dates, lengths),
applies them all or none, and writes one ``ChildChange`` row per field that changed (who,
when, old → new, why). A case's status event (``ledger.child_status``) records its move with
``record_system_change`` (actor ``system``, the case as the reason). ``history`` reads them
back; ``record`` is the masked view of a child that the pages and the REST answers share.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Forbidden, InvalidInput, NotFound

from . import idnumber
from .case_outcomes import STATUSES
from .directory import unit_names
from .models import Child, ChildChange, OrgUnit
from .register_fields import FIELDS, GROUPS, shown

SYSTEM = "system"
MIN_REASON, MAX_REASON = 2, 200
_PHONE = re.compile(r"^[0-9+\-]{7,20}$")
_REGISTRY = re.compile(r"^[GLgl]?[0-9A-Za-z]{6,31}$")
OLDEST_AGE = 25   # a birth date further back is a typing error (the register is for 6–15)

__all__ = ["SYSTEM", "change_child", "display_groups", "history", "history_view", "record", "record_system_change", "stored"]


def stored(name: str, value) -> str | None:
    """A column value as the history stores it: text, ISO dates, None for empty."""
    if value is None or value == "":
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def change_child(session: Session, child_id: int, changes, reason, actor: str, now: datetime, *,
                 allowed: frozenset[str] | None = None, instance_id: int | None = None) -> list[ChildChange]:
    """Change fields of child ``child_id`` and keep the history.

    ``changes``: ``{field: new value}`` with fields of ``register_fields.FIELDS``; a date as
    ``YYYY-MM-DD`` (or a ``date``), flags as a list of codes (or a comma string), ``None`` or
    ``""`` clears an optional field. ``reason`` 2–200 characters. ``allowed``: the fields this
    actor may change (``access.register_fields_for``; None = any). ``now``: aware UTC.

    Returns the ``ChildChange`` rows written (none when nothing differs). Raises NotFound
    (no such child), Forbidden (403, ``errors`` naming each field the actor may not change),
    InvalidInput (422, ``errors`` {field: Chinese reason}). On any refusal nothing is changed
    (the checks run before the first assignment)."""
    # Locked (PostgreSQL) so two people's changes of one child are kept one after the other.
    child = session.get(Child, child_id, with_for_update=True, populate_existing=True) \
        if isinstance(child_id, int) and 0 < child_id <= 2**31 - 1 else None
    if child is None:
        raise NotFound(f"child {child_id} not found")
    errors: dict[str, str] = {}
    reason = reason.strip() if isinstance(reason, str) else ""
    if len(reason) < MIN_REASON:
        errors["reason"] = f"请填写修改原因（至少 {MIN_REASON} 个字）"
    elif len(reason) > MAX_REASON:
        errors["reason"] = f"修改原因不能超过 {MAX_REASON} 字"
    if not isinstance(changes, dict) or not changes:
        errors["changes"] = "请填写要修改的项目"
        raise InvalidInput("nothing to change", errors=errors)
    unknown = [name for name in changes if name not in FIELDS]
    for name in unknown:
        errors[f"changes.{name}"[:64]] = "登记表没有此项，不能修改"
    if allowed is not None:
        refused = {f"changes.{n}": f"您无权修改“{FIELDS[n].label}”" for n in changes if n in FIELDS and n not in allowed}
        if refused and not unknown:
            raise Forbidden("you may not change these fields", errors=refused)
    values = {}
    for name, raw in changes.items():
        if name in FIELDS:
            try:
                values[name] = _clean(session, name, raw, now)
            except ValueError as exc:
                errors[f"changes.{name}"] = str(exc)
    if not errors:
        errors.update(_agreement(session, child, values))
    if errors:
        raise InvalidInput("the change is invalid", errors=errors)
    rows = []
    for name, value in values.items():
        before, after = stored(name, getattr(child, name)), stored(name, value)
        if before == after:
            continue
        setattr(child, name, value if value is not None or name not in ("special_groups", "risk_factors") else "")
        rows.append(ChildChange(child_id=child.id, at=now, actor=actor, field=name, old_value=before,
                                new_value=after, reason=reason, instance_id=instance_id))
    if rows:
        child.updated_at = now
        session.add_all(rows)
        session.flush()
    return rows


def record_system_change(session: Session, child: Child, name: str, before, after, reason: str,
                         now: datetime, instance_id: int | None) -> None:
    """Keep the history of a change the system made (a case's status event): actor
    ``system``, the case and event as the reason. The caller has set the value already."""
    if stored(name, before) == stored(name, after):
        return
    child.updated_at = now
    session.add(ChildChange(child_id=child.id, at=now, actor=SYSTEM, field=name, old_value=stored(name, before),
                            new_value=stored(name, after), reason=reason[:MAX_REASON], instance_id=instance_id))


def history(session: Session, child_id: int) -> list[ChildChange]:
    """The child's changes, newest first."""
    return list(session.scalars(select(ChildChange).where(ChildChange.child_id == child_id)
                                .order_by(ChildChange.id.desc())))


def history_view(session: Session, child_id: int) -> list[dict]:
    """The child's history as pages and REST answers show it, newest first: ``{at (aware
    UTC), actor, field, field_label, old, new, reason, instance_id}``, old and new masked
    like the record (``register_fields.shown``) and org units by name."""
    rows = history(session, child_id)
    orgs = {v for r in rows if FIELDS.get(r.field) and FIELDS[r.field].kind == "org" for v in (r.old_value, r.new_value) if v}
    names = unit_names(session, orgs)

    def show(name, value):
        if value and FIELDS.get(name) and FIELDS[name].kind == "org":
            return names.get(value, value)
        return shown(name, value)
    return [{"at": r.at, "actor": r.actor, "field": r.field,
             "field_label": FIELDS[r.field].label if r.field in FIELDS else r.field,
             "old": show(r.field, r.old_value), "new": show(r.field, r.new_value),
             "reason": r.reason, "instance_id": r.instance_id} for r in rows]


def record(child: Child, names: dict[str, str], today: date) -> dict:
    """The child as every page and REST answer shows it: each register field masked
    (``register_fields.shown``), org units by name, the age instead of the birth date, the
    就学状态 code with its label, group and whether it counts as out of school (§4)."""
    born = child.birth_date
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day)) if born else None
    status = STATUSES.get(child.enrolment_status)
    out = {"id": child.id, "age": age}
    for name, spec in FIELDS.items():
        value = stored(name, getattr(child, name))
        if spec.kind == "org":
            out[name] = value
            out[name[:-5] + "_name"] = names.get(value) if value else None
        elif spec.kind == "flags":
            out[name] = [v for v in (value or "").split(",") if v]
        else:
            out[name] = shown(name, value) if spec.mask is not None else value
    out["status"] = {"code": child.enrolment_status, "label": status.label if status else child.enrolment_status,
                     "group": status.group if status else None,
                     "out_of_school": bool(status and status.out_of_school)}
    out["updated_at"] = child.updated_at.isoformat() if child.updated_at else None
    return out


def display_groups(child: Child, names: dict[str, str]) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The register's fields for a page, by group: ``[(group label, [(field, label, shown
    text)])]``, masked as ``record`` and with codes as their Chinese labels."""
    out = []
    for group, group_label in GROUPS.items():
        rows = []
        for name, spec in FIELDS.items():
            if spec.group != group:
                continue
            value = stored(name, getattr(child, name))
            rows.append((name, spec.label, names.get(value, value) if spec.kind == "org" and value else shown(name, value)))
        out.append((group_label, rows))
    return out


# ------------------------------------------------------------------ checks

def _clean(session: Session, name: str, raw, now: datetime):
    """The value to store for ``raw``, or ValueError with the Chinese reason."""
    spec = FIELDS[name]
    if raw is None or (isinstance(raw, str) and not raw.strip()) or (isinstance(raw, list) and not raw):
        if spec.required:
            raise ValueError(f"{spec.label}不能为空")
        return "" if spec.kind == "flags" else None
    if spec.kind == "flags":
        items = raw.split(",") if isinstance(raw, str) else raw
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ValueError(f"{spec.label}应为代码列表")
        items = [i.strip() for i in items if i.strip()]
        bad = [i for i in items if i not in spec.choices]
        if bad:
            raise ValueError(f"{spec.label}没有“{bad[0][:20]}”这一项（可选：{'、'.join(spec.choices.values())}）")
        return ",".join(code for code in spec.choices if code in items)
    if spec.kind == "date":
        return _date(spec.label, raw, now)
    if not isinstance(raw, str):
        raise ValueError(f"{spec.label}应为文字")
    value = raw.strip()
    if spec.kind == "choice":
        if value not in spec.choices:
            listed = "、".join(list(spec.choices.values())[:20])
            raise ValueError(f"{spec.label}没有“{value[:20]}”这一项（可选：{listed}）")
        return value
    if spec.kind == "id_number":
        value = value.upper()
        if not idnumber.is_valid(value):
            raise ValueError("身份证号不正确：应为 18 位，含真实的出生日期，最后一位校验码须与前 17 位相符")
        return value
    if spec.kind == "org":
        kind = session.scalar(select(OrgUnit.kind).where(OrgUnit.code == value[:64]))
        if kind != spec.org_kind:
            raise ValueError(f"{spec.label}“{value[:20]}”不存在")
        return value
    if spec.kind == "phone" and not _PHONE.match(value):
        raise ValueError(f"{spec.label}应为 7–20 位数字")
    if spec.kind == "registry" and not _REGISTRY.match(value):
        raise ValueError(f"{spec.label}应为字母 G 或 L 加证件号码")
    if len(value) > spec.max_len:
        raise ValueError(f"{spec.label}不能超过 {spec.max_len} 个字")
    return value


def _date(label: str, raw, now: datetime) -> date:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        value = raw
    else:
        try:
            value = date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else None
        except ValueError:
            value = None
        if value is None:
            raise ValueError(f"{label}应为日期（年-月-日，如 2016-05-01）")
    if value > now.date():
        raise ValueError(f"{label}不能晚于今天")
    if value < date(now.year - OLDEST_AGE, 1, 1):
        raise ValueError(f"{label}早于 {now.year - OLDEST_AGE} 年，请核对")
    return value


def _agreement(session: Session, child: Child, values: dict) -> dict[str, str]:
    """Checks across fields, on the record as it would be after the change."""
    errors = {}
    after = {name: values[name] if name in values else getattr(child, name) for name in FIELDS}
    if {"id_number", "birth_date"} & set(values) and idnumber.is_valid(after["id_number"] or ""):
        if idnumber.birth_date(after["id_number"]) != after["birth_date"]:
            field = "birth_date" if "birth_date" in values else "id_number"
            errors[f"changes.{field}"] = "出生日期与身份证号中的出生日期不一致"
    if {"id_number", "gender"} & set(values) and idnumber.is_valid(after["id_number"] or ""):
        if ("男" if idnumber.is_male(after["id_number"]) else "女") != after["gender"]:
            field = "gender" if "gender" in values else "id_number"
            errors.setdefault(f"changes.{field}", "性别与身份证号（第 17 位）不一致")
    if "id_number" in values and session.scalar(select(Child.id).where(
            Child.id_number == values["id_number"], Child.id != child.id)):
        errors["changes.id_number"] = "该身份证号已登记在另一名儿童名下"
    if {"class_code", "school_code"} & set(values) and after["class_code"]:
        if _school_of(session, after["class_code"]) != after["school_code"]:
            errors["changes.class_code"] = "班级不属于所填的就读学校"
    if "verified_on" in values and after["verified_on"] and after["birth_date"] and after["verified_on"] < after["birth_date"]:
        errors["changes.verified_on"] = "核查日期不能早于出生日期"
    disability = "disability" in (after["special_groups"] or "").split(",")
    details = [n for n in ("disability_type", "disability_grade", "disability_certificate") if after[n]]
    if not disability and details and ({"special_groups", *details} & set(values)):
        errors[f"changes.{details[0]}"] = "未标记“残疾”特殊群体，不能填写残疾类别、等级或证号"
    return errors


def _school_of(session: Session, code: str) -> str | None:
    """The nearest school above an org unit (a class belongs to its school)."""
    seen = set()
    while code and code not in seen:
        seen.add(code)
        kind, parent = session.execute(select(OrgUnit.kind, OrgUnit.parent_code).where(OrgUnit.code == code)).one()
        if kind == "school":
            return code
        code = parent
    return None
