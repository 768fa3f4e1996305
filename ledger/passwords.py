"""The password rule: what a new password must be, checked wherever one is set.

Every way to set a password (``ledger.users`` create and update, so ``/api/v1/users``, the
admin pages and ``baoxue users create``; ``accounts.create_user``) runs ``problem``. The rule
follows NIST SP 800-63B §3.1.1.2 (rev. 4; §5.1.1.2 in rev. 3) and OWASP ASVS V2.1: length
and a check against common and guessable passwords, no composition rules.

* normalised with Unicode NFKC before checking and hashing (``normalise``; NIST: normalise
  so the same password typed on another keyboard still matches); spaces are kept;
* 8 to 128 characters (a long passphrase is welcome; the bound only stops absurd input);
* not only white space, not the username;
* not common or guessable: zxcvbn (Dropbox's estimator: frequency lists of leaked
  passwords, keyboard walks, repeats, sequences, dates, l33t) must estimate at least
  10^8 guesses (its score 3), with the username, display name, the system's own words and
  common Chinese passwords its English lists lack (``CHINESE_COMMON``) as extra words.

The demo loader (``ledger.demo``) sets the shared demo password ``baoxue-demo`` without this
check, on purpose and for the demo town only.
"""
from __future__ import annotations

import unicodedata

from zxcvbn import zxcvbn

MIN_LENGTH, MAX_LENGTH = 8, 128
MIN_SCORE = 3   # zxcvbn's score 3: about 10^8 guesses or more
ZXCVBN_MAX = 72
# Frequent in Chinese leaks (CSDN, 天涯, 12306 lists) and not in zxcvbn's own lists: pinyin
# phrases and the "I love you" numbers. A word here counts as guessed at once.
CHINESE_COMMON = (
    "woaini", "woaini1314", "woaini520", "5201314", "1314520", "520520", "woaiwojia", "iloveyou",
    "zhangwei", "wangwei", "liwei", "wangfang", "zhongguo", "beijing", "shanghai", "nihao", "wodemima",
    "mima", "mima123", "aini1314", "qq123456", "dearbook", "xiazhili", "1qaz2wsx", "a123456789",
    "147258369", "159357", "741852963", "31415926", "88888888", "66666666", "11223344", "521521",
)
SYSTEM_WORDS = ("baoxue", "保学", "kongchuobaoxue", "控辍保学", "jiaotan", "蛟潭")

TOO_SHORT = f"密码至少{MIN_LENGTH}位 (at least {MIN_LENGTH} characters)"
TOO_LONG = f"密码不能超过{MAX_LENGTH}位 (at most {MAX_LENGTH} characters)"
BLANK = "密码不能只由空格组成 (not only spaces)"
SAME_AS_USERNAME = "密码不能与用户名相同 (must differ from the username)"
TOO_COMMON = ("密码太常见或太容易猜到（如 12345678、woaini1314、连续或重复的字符、用户名或姓名），"
              "请换一个更长、更不规则的密码，例如几个词组成的短句 (too common or easy to guess)")


def normalise(password: str) -> str:
    """The form a password is checked and hashed in: Unicode NFKC (full-width ``ａ`` is ``a``)."""
    return unicodedata.normalize("NFKC", password)


def problem(password, username: str = "", display_name: str = "") -> str | None:
    """Why ``password`` may not be set (a Chinese message for the ``password`` field), or None.

    ``password`` that is not a string counts as too short. Costs a few milliseconds (zxcvbn),
    so it runs only where a password is set, never on login.
    """
    if not isinstance(password, str):
        return TOO_SHORT
    password = normalise(password)
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    if not password.strip():
        return BLANK
    username = username if isinstance(username, str) else ""
    display_name = display_name if isinstance(display_name, str) else ""
    if username and password.casefold() == normalise(username).casefold():
        return SAME_AS_USERNAME
    hints = [h for h in (username, display_name) if h] + list(SYSTEM_WORDS) + list(CHINESE_COMMON)
    # zxcvbn refuses more than 72 characters (its matching grows fast with length); a
    # password whose first 72 are strong is strong.
    if zxcvbn(password[:ZXCVBN_MAX], user_inputs=hints)["score"] < MIN_SCORE:
        return TOO_COMMON
    return None
