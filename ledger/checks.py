"""The domain's checks for ``baoxue check`` (engine.consistency): what must never happen in
dropout control, read-only.

* ``absence_without_case``: a child whose latest reported school day is an unexcused absence
  and whom no persuasion case knows (no open case, no hand-off pending, no case closed after
  the report): a lost absence (DOMAIN.md: a day-1 absence starts the school's persuasion).
* ``undelivered_outbox``: a thrown or sent message, or an attendance event, still pending a
  minute after it was written: a dispatcher is down, or a case is busy, in error or suspended (it waits for resume) that long.
* ``case_event_unapplied``: what a case told the ledger (``case_event``: the child's status,
  the outcome) not applied a minute later (``ledger.child_status``): the worker is down, or the
  message names no known child.
* ``agreement_event_unapplied``: what an agreement process told the register
  (``agreement_event``, ``ledger.agreement_register``) not applied a minute later.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Iterable

from engine.consistency import Check, Finding

from . import agreement_register, case_handoff, child_status

STALE = timedelta(minutes=1)


def absence_without_case(engine) -> Iterable[Finding]:
    with engine.db.snapshot() as session:
        children = case_handoff.absent_without_case(session)
    for child_id in children:
        yield Finding("absence_without_case", "latest school day absent without reason, but no persuasion "
                      "case knows it (re-send the day or run the worker)", subject=f"child {child_id}")


def undelivered_outbox(engine) -> Iterable[Finding]:
    with engine.db.snapshot() as session:
        handoffs = case_handoff.undelivered(session, STALE)
    messages = engine.messages.undelivered(STALE)
    for row in handoffs:
        yield Finding("undelivered_outbox", f"attendance event {row.kind} of {row.day} pending since "
                      f"{row.created_at:%Y-%m-%d %H:%M} UTC after {row.attempts} attempt(s): {row.last_error or '-'}",
                      subject=f"child {row.child_id}")
    for row in messages:
        yield Finding("undelivered_outbox", f"message {row.name} pending after {row.attempts} attempt(s): "
                      f"{row.last_error or '-'}", subject=f"message {row.id}")


def case_event_unapplied(engine) -> Iterable[Finding]:
    with engine.db.snapshot() as session:
        rows = child_status.unapplied(session, STALE)
    for row in rows:
        yield Finding("case_event_unapplied", f"case event {row.payload} of {row.sender} not applied to the "
                      "child's status (run the worker)", subject=f"message {row.id}")


def agreement_event_unapplied(engine) -> Iterable[Finding]:
    with engine.db.snapshot() as session:
        rows = agreement_register.unapplied(session, STALE)
    for row in rows:
        yield Finding("agreement_event_unapplied", f"agreement event {row.payload} of {row.sender} not applied "
                      "to the register (run the worker)", subject=f"message {row.id}")


DOMAIN_CHECKS = [Check("absence_without_case", absence_without_case),
                 Check("undelivered_outbox", undelivered_outbox),
                 Check("case_event_unapplied", case_event_unapplied),
                 Check("agreement_event_unapplied", agreement_event_unapplied)]
