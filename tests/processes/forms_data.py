"""Valid answers for each persuasion form (processes/persuasion.bpmn), keyed by task element id."""
from __future__ import annotations

CALL = {"call_on": "2025-09-29", "call_time": "16:30", "call_reached": True, "call_answered_by": "父亲",
        "call_reason": "weariness", "call_promised_return": "2025-09-30"}
VISIT = {"visit_on": "2025-10-09", "visit_participants": "班主任、德育处主任", "told_art5": True, "told_art58": True,
         "visit_guardian_attitude": "hesitant", "visit_outcome": "still_refusing", "visit_record": "学生厌学，监护人犹豫"}
VILLAGE = {"cause": "weariness", "cause_detail": "厌学，沉迷手机", "plan_measures": ["counselling", "buddy_teacher"],
           "plan_responsible": "村书记、班主任", "plan_next_check_on": "2026-01-20", "family_dibao": False}
REPORT = {"report_whereabouts": "at_home", "report_reason": "厌学", "report_moral_office_signed": True}
CONFIRM = {"report_decision": "confirm", "report_no": "蛟中报〔2025〕3号", "report_sent_on": "2025-10-11"}
SEND_BACK = {"report_decision": "return", "report_return_reason": "去向写错：该生随父母在外地，请核实后改正"}
RECEIPT = {"receipt_confirmed": True, "receipt_on": "2025-10-11"}
NOTICE = {"notice_no": "蛟府教〔2025〕7号", "notice_signer": "镇长李某", "notice_issued_on": "2025-10-11",
          "notice_served_on": "2025-10-11", "notice_service_method": "in_person", "notice_recipient": "张父",
          "notice_served_at": "蛟潭村3组12号"}
LEGAL = {"legal_on": "2025-10-16", "legal_participants": "司法所所长", "legal_content": "讲解义务教育法",
         "legal_guardian_attitude": "hesitant"}
DECIDE = {"decision": "continue", "decision_measures": "镇村校联合入户"}
JOINT = {"joint_on": "2025-10-16", "joint_method": "joint_visit", "joint_participants": "镇、村、校",
         "joint_result": "监护人同意考虑"}
REFER = {"referral_on": "2025-10-16", "referral_stage": "penalty"}
AID = {"aid_items": ["two_exempt_one_subsidy", "nutrition_meal"], "aid_decided_on": "2025-10-10"}
REGISTRY = {"registry_action": "restore", "done_on": "2025-09-30", "confirmed_in_system": True}
STRIKE = {"strike_confirmed": True, "struck_off_on": "2025-09-30", "strike_reviewer": "民生办李主任"}
WEEK = {"week_checked_on": "2025-10-08", "week_attending": True}
OVERSEE = {"supervised_on": "2025-09-30", "note": "已督促"}
