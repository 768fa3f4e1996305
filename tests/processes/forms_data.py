"""Valid answers for each persuasion form (processes/persuasion.bpmn), keyed by task element id."""
from __future__ import annotations

CALL = {"call_on": "2025-09-29", "call_time": "16:30", "call_participants": "李老师（班主任）", "call_method": "phone",
        "call_reached": True, "call_met": "父亲", "call_attitude": "hesitant", "cause": "weariness",
        "call_result": "孩子不想上学，父亲答应劝说", "call_promised_return": "2025-09-30", "call_next_step": "明天核实是否到校"}
UNREACHED = {**{k: v for k, v in CALL.items() if k not in ("call_met", "call_promised_return")},
             "call_reached": False, "call_attitude": "not_met", "cause": "unknown", "call_result": "无人接听",
             "call_next_step": "下一个教学日再打"}
VISIT = {"visit_on": "2025-10-09", "visit_time": "17:00", "visit_participants": "李老师（班主任）、王主任（德育处）",
         "visit_method": "home_visit", "visit_met": "父亲、母亲", "told_art5": True, "told_art58": True,
         "visit_attitude": "hesitant", "cause": "weariness", "visit_outcome": "still_refusing",
         "visit_result": "学生厌学，监护人犹豫", "visit_next_step": "请村委会协助入户"}
COSIGN = {"cosign_on": "2025-10-09", "cosign_by": "王主任（德育处）", "cosign_agreed": True}
VILLAGE = {"village_on": "2025-10-10", "village_time": "10:00", "village_participants": "张书记（村书记）、赵某（网格员）",
           "village_method": "door_check", "village_met": "父亲", "village_attitude": "hesitant",
           "cause": "weariness", "cause_detail": "厌学，沉迷手机", "village_result": "监护人同意配合",
           "plan_measures": ["counselling", "buddy_teacher"], "plan_responsible": "村书记、班主任",
           "plan_next_check_on": "2026-01-20", "family_dibao": False, "village_next_step": "每周上门一次"}
REVIEW = {"review_on": "2025-10-20", "review_finding": "on_leave", "review_note": "家长说孩子住院"}
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
