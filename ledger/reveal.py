"""Revealing a child's full personal values, with a reason (issue 10 §7; docs/privacy.md
"Revealing a full value").

Pages and REST answers show a child masked (``ledger.privacy``). Whoever needs a full value
(the registrar checking a registry entry, a principal filling a paper by hand) asks for it
with the fields wanted and a reason in their own words; the reason is written to the access
log (action ``reveal``, detail ``{fields, reason, via}``) in the same transaction that reads
the values. Who may: the child is in the person's scope (``access.child_scope``) and they
hold one of ``REVEAL_ROLES``: the roles that fill or check the child's papers.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine.errors import Forbidden, InvalidInput

from . import access
from .models import Child

REVEALABLE = {"id_number": "身份证号", "birth_date": "出生日期", "name": "姓名"}
REVEAL_ROLES = ("head_teacher", "principal", "registrar", *access.TOWN_SUPERVISORS)
MIN_REASON, MAX_REASON = 4, 200


def can_reveal(principal) -> bool:
    """Does this person hold a role that may ask for full values (``REVEAL_ROLES``)?"""
    return any(principal.holds(role) for role in REVEAL_ROLES)


def checked_request(fields, reason) -> tuple[list[str], str]:
    """``(fields, reason)`` cleaned, or InvalidInput (422) with Chinese reasons per field:
    ``fields`` a non-empty list of ``REVEALABLE`` keys, ``reason`` 4–200 characters."""
    errors = {}
    fields = [fields] if isinstance(fields, str) else fields
    if not isinstance(fields, (list, tuple)) or not fields or any(f not in REVEALABLE for f in fields):
        errors["fields"] = "请选择要查看的项目（" + "、".join(REVEALABLE.values()) + "）"
    reason = reason.strip() if isinstance(reason, str) else ""
    if len(reason) < MIN_REASON:
        errors["reason"] = f"请填写查看完整信息的理由（至少 {MIN_REASON} 个字），理由将记入访问日志"
    elif len(reason) > MAX_REASON:
        errors["reason"] = f"理由不能超过 {MAX_REASON} 字"
    if errors:
        raise InvalidInput("a reveal needs fields and a reason", errors=errors)
    return list(dict.fromkeys(fields)), reason


def reveal_child(session: Session, principal, child_id: int, fields, reason, now: datetime,
                 via: str) -> dict:
    """The full values ``{field: value}`` (``birth_date`` ISO) of a child the person may see.

    Errors: InvalidInput (422, nothing logged) for bad ``fields``/``reason``; NotFound-like
    None is the caller's business (a child outside the scope returns ``None``); Forbidden
    (403) for a role that may not reveal. Writes one access-log row ``reveal`` on
    ``child:<id>`` with ``{fields, reason, via}`` (``via``: ``page`` or ``api``)."""
    fields, reason = checked_request(fields, reason)
    child = session.get(Child, child_id) if 0 < child_id <= 2**31 - 1 else None
    if child is None or not access.child_scope(session, principal).allows(child):
        return None
    if not can_reveal(principal):
        raise Forbidden("只有班主任、校长、学籍管理员和控辍保学专班可以查看完整信息")
    values = {"id_number": child.id_number, "name": child.name,
              "birth_date": child.birth_date.isoformat() if child.birth_date else None}
    access.log_access(session, principal.username, "reveal", f"child:{child_id}",
                      {"fields": fields, "reason": reason, "via": via}, now)
    return {f: values[f] for f in fields}
