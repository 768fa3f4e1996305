"""The town's local settings for persuasion (as opposed to the plan's own rules).

The plan (DOMAIN.md "Three-tier persuasion") fixes the day counts of consecutive unexcused
school days: 1 → same-day call, 3 → home visit, 5 → dropout report; notice within 3 working
days, return within 3 of service. What the plan leaves open is a local setting, read from
the environment (README "Local settings"):

* ``BAOXUE_RETURN_WATCH_DAYS`` (default 10 school days = 2 weeks): the watch period of a
  child back before the dropout report (outcome 劝返成功（未辍学）); an unexcused day in it
  reopens the case. Counted from the return day in the child's school's days
  (``returned.watch_until``, ``ledger.case_handoff``).
* ``BAOXUE_INTERMITTENT_DAYS`` / ``BAOXUE_INTERMITTENT_WINDOW`` (default 5 within 20 school
  days): intermittent absence. That many unexcused school days within the last window of
  school days open a case as 辍学倾向, or move an open one to the home visit; while the
  pattern holds, a present day is not a return.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class LocalRules:
    return_watch_days: int = 10        # school days
    intermittent_days: int = 5         # unexcused school days ...
    intermittent_window: int = 20      # ... within this many school days (the reported day included)

    def case_variables(self) -> dict:
        """What a new persuasion case needs of these settings (its start variables)."""
        return {"intermittent_days": self.intermittent_days}


def local_rules() -> LocalRules:
    """The settings now (read on each call: cheap, and a test may change them).
    Raises ValueError naming the variable when one is not a whole number in range, or when
    the intermittent days exceed their window (the rule could never apply). ``api.settings``
    reads them at start-up, so a wrong one stops ``serve``, ``worker`` and the CLI at once."""
    rules = LocalRules(
        return_watch_days=_number("BAOXUE_RETURN_WATCH_DAYS", LocalRules.return_watch_days, 1, 200),
        intermittent_days=_number("BAOXUE_INTERMITTENT_DAYS", LocalRules.intermittent_days, 2, 100),
        intermittent_window=_number("BAOXUE_INTERMITTENT_WINDOW", LocalRules.intermittent_window, 2, 200))
    if rules.intermittent_days > rules.intermittent_window:
        raise ValueError(f"BAOXUE_INTERMITTENT_DAYS ({rules.intermittent_days}) must not exceed "
                         f"BAOXUE_INTERMITTENT_WINDOW ({rules.intermittent_window}): from 2 to the window's days")
    return rules


def _number(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    # isascii: "²" and "٣" are digits to str.isdigit, and int() refuses the first.
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
    return int(raw)
