"""Masking of children's personal data (docs/privacy.md "Masking"; DOMAIN.md "Personal data").

One rule per kind of value, used by every page, REST answer, export and printed paper:

* names show the family name and the last character (张*明);
* ID numbers (公民身份号码, GB 11643: region 6 + birth date 8 + sequence 3 + check 1) show
  the 6-digit region code only (``522326************``). Digits 7–14 are the birth date,
  15–17 the sequence (its parity is the gender) and 18 a check digit computed from the rest:
  any of them printed beside a birth date, or known to a neighbour together with the
  household registration place, rebuilds the number or narrows it to a handful. The region
  code says no more than the household registration place every paper states anyway, so a
  masked number may stand beside the birth date, the gender and the hukou place;
* registry numbers (全国学籍号, "G" or "L" + the ID number) keep the letter and mask the rest
  as an ID number;
* phone numbers ``138****5678``.

A full value is shown only when someone asks for it with a reason (``ledger.reveal``),
which is written to the access log.
"""
from __future__ import annotations

ID_VISIBLE = 6   # the region code of household registration (GB/T 2260)


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
    """``522326************`` for an 18-character ID number: the region code, nothing of the
    birth date, sequence or check digit. Shorter values (15-digit old numbers, typing
    errors) keep at most their first 6 characters and never more than a third."""
    number = (number or "").strip()
    if not number:
        return ""
    shown = min(ID_VISIBLE, len(number) // 3)
    return number[:shown] + "*" * (len(number) - shown)


def mask_registry_number(number: str | None) -> str:
    """A registry number (G/L + ID number) as its letter plus ``mask_id`` of the rest."""
    number = (number or "").strip()
    if number[:1].isalpha():
        return number[0] + mask_id(number[1:])
    return mask_id(number)


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else "*" * len(phone)


# How a form field marked ``"x-mask": <kind>`` is shown once recorded (the case history, a
# completed task): a disability certificate number holds the ID number, so it is "id".
MASKS = {"id": mask_id, "phone": mask_phone, "registry": mask_registry_number}
MASK_KEYWORD = "x-mask"     # the form keyword naming one of MASKS
