"""A form field that records who confirms (a signer's name on a responsibility agreement,
issue 12) holds the name of the account that submits, never anyone's name typed at will.

The field's schema says so::

    "signer_name": {"type": "string", "title": "确认人姓名", "x-accountName": true}

``check_account_names`` runs before every completion (``api.taskactions.complete``, the one
path of the pages and the REST API): a value other than the submitting account's display
name is refused with 422 naming the field, nothing stored. The register keeps the account's
own name and username in any case (``ledger.agreement_register``).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput

from .models import User

KEYWORD = "x-accountName"


def account_name_fields(schema: dict | None) -> list[str]:
    """The top-level fields of a form schema marked ``x-accountName: true``."""
    properties = (schema or {}).get("properties") or {}
    return [name for name, prop in properties.items() if isinstance(prop, dict) and prop.get(KEYWORD) is True]


def display_name(session: Session, username: str | None) -> str | None:
    """The account's display name, None for no such account."""
    if not username:
        return None
    return session.scalar(select(User.display_name).where(User.username == username))


def check_account_names(session: Session, username: str, schema: dict | None, data) -> None:
    """Raise InvalidInput ``{field: 中文}`` when a field marked ``x-accountName`` holds a value
    other than ``username``'s display name (surrounding spaces ignored). A missing field is
    left to the schema's ``required``."""
    fields = account_name_fields(schema)
    if not fields or not isinstance(data, dict):
        return
    own = display_name(session, username) or ""
    errors = {field: f"请填写您本人账号的姓名“{own}”：责任书只能由本人确认，不能代他人签名"
              for field in fields if field in data and str(data[field]).strip() != own}
    if errors:
        raise InvalidInput("确认人姓名与登录账号不符", errors=errors)
