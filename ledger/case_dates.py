"""Dates a case's forms are bounded by that no single form holds (``$name`` bounds; the
engine's ``form_variables`` hook, ``engine.runtime.casevariables``).

A legal paper may not be dated before a step it records (issue 10 §6; the fresh-user review:
a report "sent" before the head teacher filed it, a notice dated before a visit it lists):

* ``report_filed_on``: the day the head teacher last filed the dropout report
  (``dropout_report`` completed, local date);
* ``last_attempt_on``: the latest day of a recorded persuasion attempt (``ledger.attempts``:
  call, visit, village check, joint persuasion, legal education);
* ``report_received_on``: the town's receipt date of the report (``receive_report``).

Labels for the messages: ``ledger.form_messages.CASE_DATES``.
"""
from __future__ import annotations

from datetime import datetime

from engine.clock import local_zone

from . import attempts


def case_dates(steps: list[dict]) -> dict:
    """``{name: ISO date}`` from the instance's completed steps (``[{seq, element_id, at,
    submitted}]``, audit order); a name is missing while its step has not happened."""
    zone, found = local_zone(), {}
    filed = [s for s in steps if s["element_id"] == "dropout_report"]
    if filed and isinstance(filed[-1]["at"], datetime):
        found["report_filed_on"] = filed[-1]["at"].astimezone(zone).date().isoformat()
    tried = [a.on for a in attempts.from_steps(steps, zone) if a.on]
    if tried:
        found["last_attempt_on"] = max(tried)
    received = [s for s in steps if s["element_id"] == "receive_report"]
    if received:
        on = received[-1]["submitted"].get("receipt_on")
        at = received[-1]["at"]
        found["report_received_on"] = on if isinstance(on, str) else \
            at.astimezone(zone).date().isoformat() if isinstance(at, datetime) else None
    return {k: v for k, v in found.items() if v}
