"""Masking of children's personal data (DOMAIN.md "Personal data"; DOMAIN-REFERENCE privacy).

Names show the family name and the last character (张*明); ID and registry numbers keep
the first 4 and last 4 characters. Unmasked values are only shown with a logged reason.
"""
from __future__ import annotations


def mask_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        return ""
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id(number: str | None) -> str:
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else "*" * len(phone)
