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
LEGAL = {"legal_on": "2025-10-16", "legal_time": "09:30", "legal_participants": "刘所长（司法所）、张书记（村书记）",
         "legal_method": "summons", "legal_met": "父亲", "legal_content": "讲解义务教育法第五条、第五十八条",
         "legal_attitude": "hesitant", "legal_result": "监护人表示考虑", "legal_next_step": "专班研判"}
DECIDE = {"decision": "continue", "decision_measures": "镇村校联合入户"}
JOINT = {"joint_on": "2025-10-16", "joint_time": "15:00", "joint_participants": "陈副镇长、张书记（村书记）、李老师（班主任）",
         "joint_method": "joint", "joint_met": "父亲、母亲", "joint_attitude": "hesitant", "joint_result": "监护人同意考虑",
         "joint_next_step": "一周后再入户"}
REFER = {"referral_on": "2025-10-16", "referral_stage": "penalty"}
COUNTY = {"county_on": "2025-10-20", "county_stage": "order", "county_document_no": "县教责〔2025〕3号",
          "county_served_on": "2025-10-20", "county_result": "return_ordered", "county_return_by": "2025-10-24",
          "county_notes": "县教育局书面责令监护人限期送子女返校"}
# processes/support_measures.bpmn
ACK = {"ack_on": "2025-10-13", "ack_by": "陈校长", "ack_teacher": "李老师", "ack_school_measures": "结对帮扶、每周学业辅导"}
STUDENT_AID = {"student_aid_items": ["two_exempt_one_subsidy", "nutrition_meal"], "student_aid_on": "2025-10-13",
               "student_aid_by": "周老师（学生资助专干）", "student_aid_result": "已纳入本学期营养餐和两免一补名单，已电话告知监护人"}
AID = {"aid_items": ["dibao"], "aid_decided_on": "2025-10-13", "aid_by": "民政办刘某", "aid_result": "已受理低保申请"}
COUNSEL = {"counsel_on": "2025-10-13", "counsel_time": "10:00", "counsel_by": "吴老师", "counsel_method": "home",
           "counsel_met": "学生本人、母亲", "counsel_finding": "学习挫败感强，沉迷手机", "counsel_plan": "每周上门辅导一次",
           "counsel_referred": False}
LABOUR = {"labour_on": "2025-10-11", "labour_time": "09:00", "labour_by": "黄某（劳动保障监察联络员）",
          "labour_to": "县人社局劳动保障监察大队 林某", "labour_ref_no": "劳监移〔2025〕12号", "labour_result": "已立案调查"}
POLICE = {"police_on": "2025-10-10", "police_time": "17:00", "police_by": "马某（派出所联络民警）",
          "police_to": "蛟潭派出所 值班民警", "police_ref_no": "接报2025101001", "police_result": "已受案",
          "police_also_told": ["women_federation"]}
REGISTRY = {"registry_action": "restore", "done_on": "2025-09-30", "confirmed_in_system": True}
STRIKE = {"strike_confirmed": True, "struck_off_on": "2025-09-30", "strike_reviewer": "民生办李主任"}
WEEK = {"week_checked_on": "2025-10-08", "week_attending": True}
OVERSEE = {"supervised_on": "2025-09-30", "note": "已督促"}
