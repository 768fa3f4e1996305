"""The issuing office's local settings for the 限期返校通知书 (README "Local settings").

Read from the environment on each call (cheap; a test may change them):

* ``BAOXUE_NOTICE_CONTACT`` / ``BAOXUE_NOTICE_PHONE``: the contact person and phone printed
  on the notice (issue 10 §6); blank lines to fill in by hand when unset.
* ``BAOXUE_NOTICE_REVIEW_BODY`` (default 县人民政府): where the guardian may apply for
  administrative review within 60 days (行政复议法); a suit goes to the people's court within
  6 months (行政诉讼法). DOMAIN-REFERENCE §3.4: add the rights when the county treats the
  order as a reviewable act; the notice always states them (the safer reading).
* ``BAOXUE_NOTICE_COURT_ENFORCEMENT`` (``0`` default, or ``1``): whether the notice says the
  court may be asked to enforce it; a county decision (DOMAIN-REFERENCE §5.2), off by default.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class NoticeSettings:
    contact: str = ""
    phone: str = ""
    review_body: str = "县人民政府"
    court_enforcement: bool = False


def notice_settings() -> NoticeSettings:
    """The settings now. Raises ValueError naming the variable when one is malformed."""
    flag = os.environ.get("BAOXUE_NOTICE_COURT_ENFORCEMENT", "").strip() or "0"
    if flag not in ("0", "1"):
        raise ValueError(f"BAOXUE_NOTICE_COURT_ENFORCEMENT must be 0 or 1, not {flag!r}")
    texts = {name: os.environ.get(f"BAOXUE_NOTICE_{name.upper()}", "").strip()[:100]
             for name in ("contact", "phone", "review_body")}
    return NoticeSettings(contact=texts["contact"], phone=texts["phone"],
                          review_body=texts["review_body"] or NoticeSettings.review_body,
                          court_enforcement=flag == "1")
