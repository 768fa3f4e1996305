"""Schooling statuses (就学状态), case outcomes (结案结果) and how a case moves a child's status.

The one list of each that the ledgers, figures, pages and the other process slices read
(README "Case outcomes and the child's status"). Codes are English glossary names; the UI
shows the Chinese labels.

``STATUSES``: the child's 就学状态, DOMAIN-REFERENCE §4 (group A in school, B on the
register but away, C risk, D not counted / ended). ``Child.enrolment_status`` holds the code.

``OUTCOMES``: how a persuasion case ended. The stage matters (issue 10 §1): a child back
before the dropout report (报告单) was filed was never a dropout (``returned_before_report``,
no registry restoration, no strike-off); after the report it is ``returned_after_report``;
after the return-by-deadline notice was served, ``returned_after_notice``. A lawful reason
(issue 10 §2: disability, illness, studying elsewhere, moving away, going abroad, death) closes
the case without the report or the notice, with the placement (``home_teaching``,
``inclusive_class``, ``special_school``), ``returned_after_leave``, ``suspended``,
``transferred``, ``moved_away``, ``emigrated`` or ``deceased`` (processes/lawful_exit.bpmn).
None of these counts as 劝返 (``returned``): the child was not a dropout.

``CASE_EVENTS``: what a case tells the ledger (the ``case_event`` message its diagram
throws, ``ledger.child_status``), and the status each event gives the child:

* ``report_filed`` → 疑似辍学 (the principal sent the 报告单 to the town);
* ``notice_expired`` → 辍学 (the deadline of the 限期返校通知书 passed, child still out);
* ``returned`` → 在校 (back after the report: the registry is restored next; or back from a
  medical leave before the report);
* ``leave_started`` → 长期病假 (a medical leave of the lawful exit, processes/lawful_exit.bpmn);
  ``leave_ended`` → 在校 (the leave is over and the child not back: persuasion goes on);
* ``closed`` (with an outcome) → the outcome's status, if it has one.

``next_status(current, event, outcome)`` applies these rules; ``STATUS_EVENTS`` say from
which statuses an event may move a child (a status set by another procedure, e.g. 死亡, is
never overwritten by a late case event: the change is refused and logged, not applied).
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CASE_EVENTS", "NOT_EXPECTED_AT_SCHOOL", "OUTCOMES", "STATUSES", "Outcome", "Status",
           "expected_at_school", "next_status", "outcome_label", "status_label"]


@dataclass(frozen=True)
class Status:
    code: str
    label: str            # 中文, as the ledgers print it
    group: str            # A 在校 | B 在籍暂离 | C 风险 | D 不计入/终止 (DOMAIN-REFERENCE §4)
    out_of_school: bool   # counts in the dropout / out-of-school figures


# Statuses of a child NOT expected in class (issue 10 review §1): placed elsewhere (外地就读,
# 特教学校, 送教上门), away on the register by an approved procedure (休学, 延缓入学), or gone
# from compulsory schooling here (group D). Their absence is no absence: the daily roll does not
# list them for marking and attendance refuses a record for them, so no persuasion case can
# start for a 死亡 or 转出 child. 长期病假 stays on the roll: its return comes through attendance.
NOT_EXPECTED_AT_SCHOOL = frozenset({
    "studying_elsewhere", "special_school", "home_teaching", "suspended", "deferred", "exempt_health",
    "completed", "emigrated", "deceased", "moved_away", "transferred"})


def expected_at_school(status: str | None) -> bool:
    """Whether a child of this 就学状态 is on the daily attendance roll of the school."""
    return status not in NOT_EXPECTED_AT_SCHOOL


STATUSES: dict[str, Status] = {s.code: s for s in (
    Status("enrolled", "在校", "A", False),
    Status("studying_elsewhere", "外地就读", "A", False),
    Status("inclusive_class", "随班就读", "A", False),
    Status("special_school", "特教学校就读", "A", False),
    Status("home_teaching", "送教上门", "A", False),
    Status("rehabilitation", "康复机构就读", "A", False),
    Status("suspended", "休学", "B", False),
    Status("deferred", "延缓入学", "B", False),
    Status("sick_leave", "长期病假", "B", False),
    Status("suspected_dropout", "疑似辍学", "C", False),
    Status("dropped_out", "辍学", "C", True),
    Status("not_enrolled", "失学（未入学）", "C", True),
    Status("exempt_health", "因身体原因不具备学习条件", "D", False),
    Status("completed", "已完成义务教育", "D", False),
    Status("emigrated", "出国（境）", "D", False),
    Status("deceased", "死亡", "D", False),
    Status("moved_away", "户籍迁出（已移交）", "D", False),
    Status("transferred", "转出", "D", False),
    Status("whereabouts_unknown", "下落不明（待核）", "C", False),
)}


@dataclass(frozen=True)
class Outcome:
    code: str
    label: str                 # 中文
    status: str | None         # the child's status on closure; None = unchanged
    returned: bool             # counts as 劝返 (brought back) in the return rate


OUTCOMES: dict[str, Outcome] = {o.code: o for o in (
    Outcome("returned_before_report", "劝返成功（未辍学）", "enrolled", False),
    Outcome("returned_after_report", "劝返复学（报告单报送后）", "enrolled", True),
    Outcome("returned_after_notice", "劝返复学（返校期限届满后）", "enrolled", True),
    Outcome("tendency_cleared", "辍学倾向解除", None, False),
    # Lawful exits (issue 10 §2, processes/lawful_exit.bpmn): the case leaves the legal path.
    Outcome("home_teaching", "转送教上门", "home_teaching", False),
    Outcome("inclusive_class", "残疾儿童随班就读", "inclusive_class", False),
    Outcome("special_school", "转特教学校就读", "special_school", False),
    Outcome("returned_after_leave", "病假期满返校", "enrolled", False),
    Outcome("suspended", "休学", "suspended", False),
    Outcome("transferred", "在外地就读（已核实转出）", "transferred", False),
    Outcome("moved_away", "户籍迁出（已移交迁入地）", "moved_away", False),
    Outcome("emigrated", "出国（境）", "emigrated", False),
    Outcome("deceased", "死亡", "deceased", False),
    Outcome("rehabilitation", "转康复机构（康教结合）", "rehabilitation", False),
    Outcome("exempt_health", "经专家委员会认定不具备学习条件", "exempt_health", False),
)}
# 移交县级程序 (a referral to the county's order, penalty, lawsuit or enforcement) is a stage of
# an open case, not an outcome: the town's duty ends only when the child is back or a lawful
# cause holds (Compulsory Education Law art. 58; processes/persuasion.bpmn county_procedure).

# Which statuses each event may move a child from: the case's own stages (A → C → A), never
# over a status another procedure set (休学, 转出, 死亡 ...).
# 长期病假 is one of them: only a case's medical leave sets it, and the case's own return,
# closure or the leave's end moves the child out of it again.
_CASE_STAGES = {"enrolled", "suspected_dropout", "dropped_out", "whereabouts_unknown", "sick_leave"}
STATUS_EVENTS: dict[str, tuple[str | None, frozenset]] = {
    "leave_started": ("sick_leave", frozenset({"enrolled", "suspected_dropout", "whereabouts_unknown"})),
    "leave_ended": ("enrolled", frozenset({"sick_leave"})),
    "report_filed": ("suspected_dropout", frozenset({"enrolled", "whereabouts_unknown"})),
    "notice_expired": ("dropped_out", frozenset({"enrolled", "suspected_dropout", "whereabouts_unknown"})),
    "returned": ("enrolled", frozenset(_CASE_STAGES)),
    "closed": (None, frozenset(_CASE_STAGES)),
}
CASE_EVENTS = {"report_filed": "报告单已报送", "notice_expired": "返校期限届满", "returned": "学生返校",
               "leave_started": "病假开始", "leave_ended": "病假结束未返校", "closed": "结案"}


class RuleError(ValueError):
    """An event or outcome the rules do not know, or a move they do not allow."""


def next_status(current: str, event: str, outcome: str | None = None) -> str | None:
    """The child's status after ``event`` (a CASE_EVENTS code; ``closed`` needs an OUTCOMES
    code), or None when the status stays as it is. Raises RuleError for an unknown event
    or outcome, or a move from a status the event may not change (``STATUS_EVENTS``)."""
    if event not in STATUS_EVENTS:
        raise RuleError(f"unknown case event {event!r}")
    target, allowed_from = STATUS_EVENTS[event]
    if event == "closed":
        if outcome not in OUTCOMES:
            raise RuleError(f"unknown case outcome {outcome!r}")
        target = OUTCOMES[outcome].status
    if target is None or target == current:
        return None
    if current not in allowed_from:
        raise RuleError(f"{event} cannot change status {current!r} (set by another procedure)")
    return target


def status_label(code: str | None) -> str:
    return STATUSES[code].label if code in STATUSES else (code or "—")


def outcome_label(code: str | None) -> str:
    return OUTCOMES[code].label if code in OUTCOMES else (code or "—")
