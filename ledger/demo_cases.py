"""Demo cases: open work in every tier of the demo town, made through the real engine.

Started and advanced with ``engine.runtime`` exactly as staff would (never rows written
directly), so inboxes, audit trails and due dates are real. Deterministic:

* dropout-risk checks (``dropout_risk_check``): the first pupil of each class; some are
  advanced to the village and the principal; two returned pupils wait for their registry
  to be restored (``registry_restoration`` started by hand);
* three-tier persuasion (``persuasion``, issues 4 and 10): twelve weeks of attendance replayed
  through ``ledger.attendance.record_day`` (``ledger.demo_attendance``), each scripted
  task completed by a holder of its lane's role in its org unit (``ledger.directory.holders``)
  with answers valid for its form (``forms/*.schema.json``) and dated on the replayed day.
  A case is closed with each outcome of ``ledger.case_outcomes.OUTCOMES``, and one referred
  to the county waits, open, at the county bureau's record (a referral is a stage, not an
  outcome): back before the report (watched two weeks), after the report
  and after the notice's deadline (registry restored, struck off, four weekly checks), a
  tendency cleared by two quiet weeks, back from a medical leave, the lawful exits (issue 10
  §2: a placement by the principal or the county committee in the home-teaching case,
  suspended, transferred, moved away, abroad, deceased); one case is paused on a medical
  leave, another disabled child waits at the principal's placement task; the children's
  pages show their 就学状态 history (疑似辍学, 辍学, back to 在校, 长期病假 ...);
* support measures (``support_measures``, the case's own file, issue 10 §5): the principal
  acknowledges each village plan the day it is made (``FOLLOW_UPS``); student aid, civil aid,
  counselling, a child-labour referral and a mandatory report stay open in their offices' inboxes.

``seed_cases(engine)`` returns ``DemoCases``; ``persuasion`` maps each open task element id
of the cases and their files to how many cases wait on it, ``followup`` counts cases struck
off and in their follow-up weeks; ``lines()`` gives the Chinese summary lines for the CLI.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy import func, select

from engine.persistence.models import HumanTask, ProcessInstance, TimerJob

from .attendance_cases import EngineCaseSink
from .step_effects import after_completion
from .case_handoff import CASE_FILES, PROCESS_KEY, business_key, case_file_key, open_case
from .case_outcomes import outcome_label
from .child_status import outcomes
from .status_models import CaseEventRecord
from .demo_attendance import Step, replay
from .directory import holders
from .models import Child

ASSESS_HIGH = {"guardian_contacted": True, "risk_factors": ["weariness", "family_finances"],
               "risk_level": "high", "notes": "近一周两次无故缺课（演示数据）"}
HOME_CHECK = {"participants": "村干部、网格员、班主任", "cause": "poverty",
              "suggested_measures": ["civil_affairs_aid", "buddy_teacher"], "notes": "演示数据"}
SCHOOL_SHORT = {"zx": "蛟中", "ez": "蛟二中", "fg": "福港校"}
CAUSE_DETAIL = {"weariness": "厌学，沉迷手机游戏，作息颠倒", "poverty": "家庭经济困难，监护人外出务工无人照看",
                "disability": "肢体残疾，行动不便，到校困难", "illness": "肺炎住院治疗（演示数据）",
                "studying_elsewhere": "随父母到外省务工地就读（演示数据）", "moved_away": "随父母户口迁往外县（演示数据）",
                "abroad": "随父母出国定居（演示数据）", "deceased": "因病去世（演示数据）",
                "child_labour": "在县城一家餐馆打工，老板招用（演示数据）",
                "early_marriage": "被家人安排订婚，辍学在家（演示数据）",
                "family": "父母离异，祖母年迈无力管教，孩子在家帮忙（演示数据）"}
MEASURES = {"weariness": ["counselling", "buddy_teacher"],
            "poverty": ["two_exempt_one_subsidy", "nutrition_meal", "dibao", "tutoring"],
            "disability": ["home_teaching"], "child_labour": ["buddy_teacher"], "early_marriage": ["other"],
            "family": ["buddy_teacher", "tutoring"]}
# Completed right after a scripted step, by the holder of its own lane: the school acknowledges
# the village's plan the day it is made (processes/support_measures.bpmn).
FOLLOW_UPS = {"village_check": ("plan_ack",)}
# What the guardian says on the phone and at the visit; the village check finds the cause
# (a lawful one said earlier would leave persuasion there, issue 10 §2).
REASONS = {"weariness": "weariness", "poverty": "family", "disability": "other", "family": "family"}
TENDENCY = "上课注意力不集中，多次提出不想读书，家长反映在家沉迷手机（演示数据）"
# The county expert committee's placement (processes/home_teaching.bpmn): the federation's
# disability type and grade, the registry's action, the institution, the committee's note.
COMMITTEE = {"special_school": ("intellectual", "2", "transferred", "县特殊教育学校（演示）", "中度智力残疾，适宜特教学校就读"),
             "rehabilitation": ("multiple", "1", "kept", "县残疾儿童康复中心（演示）", "多重残疾，先康复训练，康教结合"),
             "exempt_health": ("mental", "1", "marked_exempt", None, "病情严重，经专家委员会认定暂不具备学习条件，每年复核")}
DISABILITY_DIGITS = {"visual": 1, "hearing": 2, "speech": 3, "physical": 4, "intellectual": 5, "mental": 6,
                     "multiple": 7}
# The principal's placement record (lawful_exit.bpmn, home_teaching_placement).
PLANS = {"home_teaching": "每周送教两次，每次两课时，会同镇残联一人一策（演示数据）",
         "inclusive_class": "随班就读，班主任制定个别化教育计划，资源教师每周辅导（演示数据）"}
PROOF = {"moved_away": ("household_transfer", "某县公安局户口迁移证明（演示）", "某省某县"),
         "abroad": ("exit_record", "出入境记录（演示）", "某国"),
         "deceased": ("death_certificate", "死亡医学证明（演示）", "")}


@dataclass
class DemoCases:
    started: int = 0
    at_village: int = 0
    at_principal: int = 0
    examples: list[str] = field(default_factory=list)
    attendance_days: int = 0
    attendance_records: int = 0
    persuasion: Counter = field(default_factory=Counter)   # open task element id -> cases
    followup: int = 0
    excused: int = 0
    closed: Counter = field(default_factory=Counter)        # outcome label -> closed cases
    status_changes: int = 0                                  # rows of the children's status history

    def lines(self) -> list[str]:
        waiting = "、".join(f"{element} {n}" for element, n in sorted(self.persuasion.items()))
        closed = "、".join(f"{label} {n}" for label, n in sorted(self.closed.items())) or "无"
        return [f"考勤回放 (attendance replayed): {self.attendance_days} 个教学日, {self.attendance_records} 条记录",
                f"三级劝返待办 (persuasion tasks): {waiting}; 返校跟踪 {self.followup} 件; "
                f"请假 {self.excused} 人未立案",
                f"已结案 (closed): {closed}; 就学状态变更 {self.status_changes} 条（见儿童页面）"]


def seed_cases(engine) -> DemoCases:
    """Start and advance the demo cases; returns what it made (for the CLI to print)."""
    today = engine.clock().astimezone(engine.zone).date().isoformat()
    with engine.db.read() as session:
        pupils = session.scalars(select(Child).where(Child.class_code.is_not(None)).order_by(Child.id)).all()
    first_per_class: dict[str, Child] = {}
    for child in pupils:
        first_per_class.setdefault(child.class_code, child)
    cases = DemoCases()
    for index, (class_code, child) in enumerate(sorted(first_per_class.items())):
        teacher = f"head_teacher-{class_code}"
        result = engine.runtime.start("dropout_risk_check", {"child_id": child.id}, actor=teacher)
        cases.started += 1
        if index % 3 != 1 or not child.village_code:
            continue
        task_id = result.next_tasks[0]["task_id"]
        step = engine.runtime.complete_task(task_id, {**ASSESS_HIGH, "contacted_on": today}, actor=teacher)
        cases.at_village += 1
        if index % 2 == 0:
            secretary = f"village_secretary-{child.village_code}"
            engine.runtime.complete_task(step.next_tasks[0]["task_id"], {**HOME_CHECK, "visited_on": today},
                                         actor=secretary)
            cases.at_village -= 1
            cases.at_principal += 1
    for child in pupils[-2:]:
        engine.runtime.start("registry_restoration", {"child_id": child.id}, actor=f"registrar-{child.school_code}")
    reserved = {c.id for c in first_per_class.values()} | {c.id for c in pupils[-2:]}
    played = replay(engine, advance, reserved=reserved)
    cases.attendance_days, cases.attendance_records = len(played.days), played.records
    cases.excused = len(played.excused)
    _count_persuasion(engine, cases)
    return cases


def advance(engine, step: Step) -> None:
    """Complete ``step.element_id`` in the child's open case files (the persuasion case, its
    support measures, the child's home-teaching case) as a holder of the task's role in its
    org unit (the person whose inbox shows it). The town signs for the report
    (``receive_report``, before the notice) the day it serves the notice. ``flag_tendency``: the
    head teacher flags a dropout tendency (as on the child page). An ``optional`` step is
    done only if its task is open."""
    if step.element_id == "flag_tendency":
        with engine.db.read() as session:
            teacher = holders(session, "head_teacher", step.child.class_code)[0].username
        EngineCaseSink(engine, actor=teacher).tendency(step.child.id, reason=TENDENCY)
        return
    if step.element_id == "issue_notice":
        advance(engine, replace(step, element_id="receive_report"))
    for element_id in (step.element_id, *FOLLOW_UPS.get(step.element_id, ())):
        with engine.db.read() as session:
            task = _open_task(session, step.child.id, element_id)
            people = holders(session, task.candidate_role, task.org_unit) if task and not task.unroutable else []
        if not people and (element_id != step.element_id or step.optional):
            continue        # no such follow-up on this case (a lawful cause left before the plan)
        if not people:
            raise RuntimeError(f"demo script {step.script.name}: child {step.child.id} has no open "
                               f"{element_id} task with a holder on {step.day}")
        actor = people[0]
        engine.runtime.complete_task(task.id, answers(step, actor.display_name, element_id), actor=actor.username)
        after_completion(engine, task)      # as a page would: the child's status, the confirmed report


def _open_task(session, child_id: int, element_id: str) -> HumanTask | None:
    """The child's oldest open ``element_id`` task in an open case file: the child's own
    (``child:<id>``: persuasion, home teaching) and the open persuasion case's (``case:<id>``)."""
    case = open_case(session, child_id)
    keys = [business_key(child_id)] + ([case_file_key(case)] if case else [])
    return session.scalars(select(HumanTask).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                           .where(ProcessInstance.business_key.in_(keys), HumanTask.status == "open",
                                  HumanTask.element_id == element_id)
                           .order_by(HumanTask.id)).first()


def answers(step: Step, actor_name: str, element_id: str | None = None) -> dict:
    """A valid submission of ``element_id``'s form (default ``step.element_id``), dated on ``step.day``."""
    day, child, cause = step.day.isoformat(), step.child, step.script.cause
    year, no = step.day.year, 10 + step.number
    forms = {
        "phone_call": {"call_on": day, "call_time": "16:40", "call_participants": f"{actor_name}（班主任）",
                       "call_method": "phone", "call_reached": True,
                       "call_met": f"{child.guardian_name}（{child.guardian_relation}）", "call_attitude": "hesitant",
                       "cause": REASONS.get(cause, "other"), "call_result": "已督促监护人尽快送孩子返校（演示数据）",
                       "call_next_step": "次日核实是否到校"},
        "home_visit": {"visit_on": day, "visit_time": "17:10", "visit_participants": f"{actor_name}（班主任）、德育处主任",
                       "visit_method": "home_visit", "visit_met": f"{child.guardian_name}（{child.guardian_relation}）",
                       "told_art5": True, "told_art58": True, "visit_attitude": "hesitant",
                       "cause": REASONS.get(cause, "other"), "visit_outcome": "still_refusing",
                       "visit_result": f"{CAUSE_DETAIL[cause]}；已告知监护人法定义务（演示数据）",
                       "visit_next_step": "请村委会入户核实"},
        "visit_cosign": {"cosign_on": day, "cosign_by": f"{actor_name}（德育处）", "cosign_agreed": True},
        "village_check": {"village_on": day, "village_time": "10:00", "village_participants": f"{actor_name}（村书记）、网格员两名",
                          "village_method": "door_check", "village_met": f"{child.guardian_name}（{child.guardian_relation}）",
                          "village_attitude": "hesitant", "village_result": "已核实原因，制定就学方案（演示数据）",
                          "village_next_step": "每周上门一次",
                          "cause": cause, "cause_detail": CAUSE_DETAIL[cause], "plan_measures": MEASURES.get(cause, ["other"]),
                          "plan_responsible": "村书记、班主任",
                          # Not before the day the form is sent (x-notBeforeToday): a recent
                          # day is at most four weeks back (an older one is played on its day).
                          "plan_next_check_on": (step.day + timedelta(days=42)).isoformat(),
                          "family_dibao": cause == "poverty"},
        "dropout_report": {"report_whereabouts": "at_home", "report_reason": CAUSE_DETAIL[cause],
                           "report_moral_office_signed": True},
        "confirm_report": {"report_decision": "confirm", "report_no": f"{SCHOOL_SHORT.get(child.school_code, '校')}报"
                           f"〔{year}〕{no}号", "report_sent_on": day},
        "receive_report": {"receipt_confirmed": True, "receipt_on": day},
        "issue_notice": {"notice_no": f"蛟府教〔{year}〕{no}号", "notice_signer": "镇长（演示）", "notice_issued_on": day,
                         "notice_served_on": day, "notice_service_method": "in_person",
                         "notice_recipient": child.guardian_name, "notice_served_at": child.address or "监护人住所"},
        "legal_education": {"legal_on": day, "legal_time": "10:00", "legal_participants": f"{actor_name}（司法所）、村书记",
                            "legal_method": "summons", "legal_met": f"{child.guardian_name}（{child.guardian_relation}）",
                            "legal_content": "讲解《义务教育法》第五条、第五十八条，监护人的法定义务与法律责任",
                            "legal_attitude": "hesitant", "legal_result": "监护人表示回去考虑（演示数据）",
                            "legal_next_step": "专班组长研判"},
        "plan_ack": {"ack_on": day, "ack_by": f"{actor_name}（校长）", "ack_teacher": "班主任",
                     "ack_school_measures": "结对帮扶、每周学业辅导（演示数据）"},
        "restore_registry": {"registry_action": "restore", "done_on": day, "confirmed_in_system": True},
        "strike_off": {"strike_confirmed": True, "struck_off_on": day, "strike_reviewer": actor_name},
        "weekly_check": {"week_checked_on": day, "week_attending": True, "week_notes": "按时到校，作业完成（演示数据）"},
        "leader_decision": {"decision": "refer_county", "decision_measures": "法治教育后监护人仍拒不送子女返校，"
                            "按县规定程序移交县教育局（演示数据）"},
        "county_referral": {"referral_on": day, "referral_stage": "penalty",
                            "referral_document_no": f"镇控辍〔{step.day.year}〕{step.number}号",
                            "referral_notes": "移交县教育局依地方法规处理（演示数据）"},
        **exit_answers(step, actor_name),
        **placement_answers(step, actor_name),
    }
    return forms[element_id or step.element_id]


def exit_answers(step: Step, actor_name: str) -> dict:
    """Valid submissions of the lawful-exit forms (processes/lawful_exit.bpmn), dated on ``step.day``."""
    day, cause = step.day.isoformat(), step.script.cause
    # x-notBeforeToday: six weeks on is ahead (see village_check's plan_next_check_on).
    ahead = (step.day + timedelta(days=42)).isoformat()
    kind, ref, place = PROOF.get(cause, ("other", "证明（演示）", ""))
    until = step.until.isoformat() if step.until else ahead
    illness = ({"illness_path": "leave", "leave_from": day, "leave_until": until}
               if step.until or step.script.name == "medical_leave" else {"illness_path": "suspension"})
    plan = PLANS.get(step.script.placement, PLANS["home_teaching"])
    return {
        "home_teaching_placement": {"placement_status": "placed", "placement": step.script.placement,
                                    "placement_on": day, "placement_plan": plan},
        "illness_plan": {**illness, "illness_proof": "县人民医院诊断证明（演示）"},
        "suspension_application": {"suspension_from": day, "suspension_until": ahead, "suspension_hospital": "县人民医院",
                                   "suspension_proof": "诊断证明（演示）", "suspension_guardian_applied": True,
                                   "suspension_applied_on": day},
        "suspension_approval": {"approval": "approved", "approval_no": f"蛟府教〔{step.day.year}〕{40 + step.number}号",
                                "approval_on": day, "approval_reason": "病情属实，同意休学（《义务教育法》第十一条）"},
        "suspension_record": {"suspension_recorded_on": day, "suspension_in_system": True},
        "verify_enrolment": {"enrolment_verified": True, "other_school": "某市某区实验小学（演示）",
                             "other_place": "广东省某市某区", "enrolment_proof": "certificate",
                             "enrolment_proof_ref": "在外就读证明（演示）", "verified_by": f"{actor_name}（学籍管理员）",
                             "verified_on": day},
        "record_exit_proof": {"proof_confirmed": True, "proof_kind": kind, "proof_ref": ref, "proof_on": day,
                              **({"new_place": place} if place else {}), "proof_note": CAUSE_DETAIL[cause]},
        "confirm_exit": {"exit_decision": "confirm", "exit_decision_note": "证明齐全，同意结案"},
        "leave_check": {"leave_result": "returned", "leave_checked_on": day, "leave_check_note": "病愈，今日已到校（演示数据）"},
    }


def placement_answers(step: Step, actor_name: str) -> dict:
    """Valid submissions of the home-teaching case's assessments and the county committee's
    placement (processes/home_teaching.bpmn), for the script's placement, dated on ``step.day``."""
    day, child, placement = step.day.isoformat(), step.child, step.script.placement
    kind, grade, registry, institution, note = COMMITTEE.get(placement, COMMITTEE["special_school"])
    return {
        "assess_school": {"assessed_on": day, "assessed_by": f"{actor_name}（班主任）、镇残联干事",
                          "ability_self_care": "with_help", "ability_communication": "with_help",
                          "ability_mobility": "with_help", "ability_learning": "minimal",
                          "guardian_wish": placement if placement != "exempt_health" else "undecided",
                          "guardian_wish_note": "希望孩子得到合适的教育和康复（演示数据）"},
        "assess_federation": {"disability_type": kind, "disability_grade": grade, "federation_checked_on": day,
                              # 残疾人证号: the ID number, then the type and grade digits.
                              "certificate_no": f"{child.id_number}{DISABILITY_DIGITS[kind]}{grade}",
                              "certificate_on": (step.day - timedelta(days=3 * 365)).isoformat()},
        "placement": {"placement": placement, "committee_ref": f"县残教委〔{step.day.year}〕{step.number}号",
                      "committee_on": day, "placement_note": note,
                      **({"placement_institution": institution} if institution else {})},
        "registry_archive": {"registry_action": registry, "registry_on": day,
                             "registry_archive_no": f"{child.school_code.upper()}-{step.day.year}-{child.id:03d}"},
    }


TIER_ORDER = ("phone_call", "home_visit", "visit_cosign", "village_check", "plan_ack", "student_aid", "civil_aid",
              "counselling", "labour_referral", "mandatory_report", "home_teaching_placement", "dropout_report",
              "confirm_report", "receive_report", "issue_notice", "legal_education", "leader_decision",
              "county_referral", "county_procedure", "restore_registry", "strike_off")


PERSUASION_FILES = (PROCESS_KEY, *CASE_FILES)      # a persuasion case and its support file


def _count_persuasion(engine, cases: DemoCases) -> None:
    """Count the open tasks of the persuasion cases and their files by element; ``examples``:
    one holder per tier, in order."""
    with engine.db.read() as session:
        rows = session.execute(select(HumanTask.element_id, HumanTask.candidate_role, HumanTask.org_unit)
                               .where(HumanTask.process_key.in_(PERSUASION_FILES), HumanTask.status == "open")
                               .order_by(HumanTask.created_at, HumanTask.id)).all()
        cases.followup = len(session.scalars(select(TimerJob.id).where(
            TimerJob.element_id == "week_passes", TimerJob.status == "waiting")).all())
        cases.closed = Counter(outcome_label(row.outcome) for row in outcomes(session))
        cases.status_changes = session.scalar(select(func.count()).select_from(CaseEventRecord).where(
            CaseEventRecord.status_before != CaseEventRecord.status_after))
        first: dict[str, tuple[str, str]] = {}
        for element, role, unit in rows:
            cases.persuasion[element] += 1
            first.setdefault(element, (role, unit))
        for element in sorted(first, key=lambda e: TIER_ORDER.index(e) if e in TIER_ORDER else len(TIER_ORDER)):
            found = holders(session, *first[element])
            if found and found[0].username not in cases.examples:
                cases.examples.append(found[0].username)
