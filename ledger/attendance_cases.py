"""A person's dropout-tendency flag starts a persuasion case (DOMAIN.md "Three-tier persuasion").

DOMAIN.md: "a pupil with a dropout tendency, or 1 day absent without reason" → the school's
first persuasion. Absences reach cases through the attendance outbox
(``ledger.case_handoff``); a flag comes from a person who waits for the answer, so
``EngineCaseSink.tendency(child_id, reason=)`` starts the case at once and refuses loudly
(Conflict: an open case exists; NotFound: ``persuasion`` not deployed). Who may flag is the
caller's check (``ledger.access.can_flag_tendency``).
"""
from __future__ import annotations

from engine.errors import Conflict, NotFound, StepFailed

from . import case_handoff
from .case_outcomes import expected_at_school, status_label
from .local_rules import local_rules
from .message_names import MESSAGE_NAMES  # noqa: F401 - what pages call the messages, re-exported
from .models import Child
from .case_handoff import OPEN_STATUSES, PROCESS_KEY, CaseEvent, business_key

__all__ = ["EngineCaseSink", "MESSAGE_NAMES", "OPEN_STATUSES", "PROCESS_KEY", "business_key"]


class EngineCaseSink:
    def __init__(self, engine, actor: str | None = None):
        self.engine, self.actor = engine, actor

    def open_case(self, child_id: int) -> int | None:
        """The id of the child's open persuasion case, if any."""
        with self.engine.db.read() as session:
            return case_handoff.open_case(session, child_id)

    def tendency(self, child_id: int, *, reason: str) -> CaseEvent:
        """Start the child's persuasion case for a dropout tendency (学校初劝: "a pupil with a
        dropout tendency" → the head teacher acts).

        Variables ``{child_id, absence_days: 0, first_absence: None, trigger: "tendency",
        tendency_reason, recent_absences: 0, child_age}`` (age in full years today, from the register) and the local settings (``ledger.local_rules``); returns ``CaseEvent("started", {child_id, instance_id[, status:
        "error"]})``. Raises Conflict (409) when the child already has an open case or the
        register says the child is not expected at school (``ledger.case_outcomes``), NotFound
        (404) when ``persuasion`` is not deployed. ``reason`` is the caller's checked text.
        """
        with self.engine.db.read() as session:
            child = session.get(Child, child_id)
            status = child.enrolment_status if child is not None else None
        if child is not None and not expected_at_school(status):
            # The register says the child is not expected at school (转出, 休学, 死亡 ...).
            raise Conflict(f"该生就学状态为「{status_label(status)}」，不在本校就读，无需标记辍学倾向；"
                           "如已复学，请先由学籍管理员办理复学。")
        existing = self.open_case(child_id)
        if existing is not None:
            raise Conflict(f"已有未结的劝返案件（编号 {existing}），无需重复标记；请在该案件中继续办理。")
        with self.engine.db.read() as session:
            age = case_handoff.child_age(session, child_id, self.engine.clock().astimezone(self.engine.zone).date())
        variables = {"child_id": child_id, "absence_days": 0, "first_absence": None, "trigger": "tendency",
                     "tendency_reason": reason, "recent_absences": 0, "child_age": age,
                     **local_rules().case_variables()}
        try:
            started = self.engine.runtime.start(PROCESS_KEY, variables, business_key=business_key(child_id),
                                                actor=self.actor)
        except Conflict:   # a concurrent flag (a double click) started it a moment ago
            raise Conflict("已有未结的劝返案件，无需重复标记；请在该案件中继续办理。") from None
        except NotFound:
            raise NotFound("劝返流程（persuasion）尚未部署，无法发起案件；请联系系统管理员部署后再标记。"
                           " (process 'persuasion' is not deployed)") from None
        except StepFailed as err:
            return CaseEvent("started", {"child_id": child_id, "instance_id": err.instance_id, "status": "error"})
        return CaseEvent("started", {"child_id": child_id, "instance_id": started.instance_id})
