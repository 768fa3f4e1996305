"""The password rule (``ledger.passwords``): length, blanks, the username, common passwords."""
from __future__ import annotations

import pytest

from ledger import passwords


@pytest.mark.parametrize("password, message", [
    ("12345678", passwords.TOO_COMMON), ("password1", passwords.TOO_COMMON), ("woaini1314", passwords.TOO_COMMON),
    ("5201314520", passwords.TOO_COMMON), ("aaaaaaaaaaaa", passwords.TOO_COMMON), ("baoxue2025", passwords.TOO_COMMON),
    ("        ", passwords.BLANK), ("\t\n \u3000    ", passwords.BLANK), ("1234567", passwords.TOO_SHORT),
    ("x" * 129, passwords.TOO_LONG), (None, passwords.TOO_SHORT), ("wang.li-01", passwords.SAME_AS_USERNAME),
    ("ＷＡＮＧ.ＬＩ-01", passwords.SAME_AS_USERNAME),   # full width is the same after NFKC
    ("wangli2015", passwords.TOO_COMMON),                  # the display name (in pinyin) and a year
])
def test_weak_passwords_are_refused_with_the_reason(password, message):
    assert passwords.problem(password, "wang.li-01", "wangli") == message


@pytest.mark.parametrize("password", ["pw-for-tests", "Wang-laoshi-2025", "jiaotan river 7 bridges",
                                      "蛟潭村小学三年级的春天", "x7#Lq9!mZ2" + "k" * 118])
def test_passphrases_and_long_passwords_are_accepted(password):
    assert passwords.problem(password, "wang.li-01", "王丽") is None
