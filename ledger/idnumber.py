"""Resident ID numbers (公民身份号码, GB 11643-1999): structure and check digit.

Shape: 6-digit region code + 8-digit birth date (YYYYMMDD) + 3-digit sequence (odd for
men, even for women) + 1 check character (0-9 or X), computed as ISO 7064 MOD 11-2 over
the first 17 digits. Used to validate entered numbers and to generate demo data.
"""
from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"   # index = weighted sum mod 11
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def check_digit(first17: str) -> str:
    """The 18th character for 17 digits. Raises ValueError if ``first17`` is not 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


def make(region: str, birth: date, sequence: int) -> str:
    """A well-formed number: ``region`` 6 digits, ``sequence`` 0-999 (odd = male)."""
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_digit(first17)


def birth_date(number: str) -> date | None:
    """The birth date inside a number, or None if it is not a real date."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def is_valid(number: str | None) -> bool:
    """18 characters, a real birth date, and the right check character (lower-case x is wrong)."""
    if not number or not _SHAPE.match(number):
        return False
    return birth_date(number) is not None and check_digit(number[:17]) == number[17]


def is_male(number: str) -> bool:
    return int(number[16]) % 2 == 1
