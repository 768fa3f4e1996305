"""What pages call each engine message (issue 17: no English or internal names on pages;
review M5 of issue 12): one label for every message a diagram in ``processes/`` names, used
wherever a page shows a message (a case's history, what it waits for, what attendance sent).

``STEP_MESSAGES``: the messages a case's history shows as steps when a process sends them (a
hand-over to another process); the rest are bookkeeping a process tells the ledger
(``case_event``, ``agreement_event``) and stay out of the history.
tests/processes/test_message_labels.py checks that every message in ``processes/*.bpmn`` has
a label here.
"""
from __future__ import annotations

MESSAGE_NAMES = {
    "absence_day": "又一天无故缺课",
    "excused_day": "又一天请假缺课",
    "returned": "学生已返校",
    "home_teaching_referral": "转送教上门",
    "home_teaching_placed": "送教上门安置结果",
    "support_plan": "移交帮扶措施",
    "case_event": "案件进展登记（系统自动）",
    "agreement_event": "责任书进展登记（系统自动）",
    "agreement_parties": "确定签订单位和人员（系统自动答复）",
    "agreement_withdrawn": "人员离岗，签订撤回",
}
STEP_MESSAGES = frozenset({"absence_day", "returned", "home_teaching_referral", "support_plan"})
# Messages the system answers itself, said so where a case waits for one.
AUTOMATIC = {"absence_day": "（由考勤自动送达）", "returned": "（由考勤自动送达）", "excused_day": "（由考勤自动送达）",
             "agreement_parties": "（由系统按当前人员自动答复）",
             "agreement_withdrawn": "（由每日检查在人员离岗时送达）"}


def message_label(name: str | None) -> str:
    """The page's words for a message name; an unknown name reads 未命名的消息, never English."""
    return MESSAGE_NAMES.get(name or "", "未命名的消息")
