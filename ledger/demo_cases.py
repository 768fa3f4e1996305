"""Demo cases: open work in every tier of the demo town, made through the real engine.

Started and advanced with ``engine.runtime`` exactly as staff would (never rows written
directly), so inboxes, audit trails and due dates are real. Deterministic:

* dropout-risk checks (``dropout_risk_check``): the first pupil of each class; some are
  advanced to the village and the principal; two returned pupils wait for their registry
  to be restored (``registry_restoration`` started by hand);
* three-tier persuasion (``persuasion``, issues 4 and 10): four weeks of attendance replayed
  through ``ledger.attendance.record_day`` (``ledger.demo_attendance``), each scripted
  task completed by a holder of its lane's role in its org unit (``ledger.directory.holders``)
  with answers valid for its form (``forms/*.schema.json``) and dated on the replayed day;
  one case closes as 劝返成功（未辍学） (back before the report, watched two weeks), seven take a
  lawful exit (issue 10 §2: home teaching placed, suspended, transferred, moved away, abroad,
  deceased, and one paused on a medical leave; another disabled child waits at the principal's
  placement task), and the
  reported children's pages show their 就学状态 history (疑似辍学, 辍学, back to 在校);
* support measures (``support_measures``, issue 10 §5): the principal acknowledges each
  village plan the day it is made (``FOLLOW_UPS``); student aid, civil aid, counselling, a
  child-labour referral and a mandatory report stay open in their offices' inboxes.

``seed_cases(engine)`` returns ``DemoCases``; ``persuasion`` maps each open persuasion task
element id to how many cases wait on it, ``followup`` counts cases struck off and in
their follow-up weeks; ``lines()`` gives the Chinese summary lines for the CLI.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy import func, select

from engine.persistence.models import HumanTask, TimerJob

from .attendance_cases import EngineCaseSink
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
                "early_marriage": "被家人安排订婚，辍学在家（演示数据）"}
MEASURES = {"weariness": ["counselling", "buddy_teacher"],
            "poverty": ["two_exempt_one_subsidy", "nutrition_meal", "dibao", "tutoring"],
            "disability": ["home_teaching"], "child_labour": ["buddy_teacher"], "early_marriage": ["other"]}
# Completed right after a scripted step, by the holder of its own lane: the school acknowledges
# the village's plan the day it is made (processes/support_measures.bpmn).
FOLLOW_UPS = {"village_check": ("plan_ack",)}
# What the guardian says on the phone and at the visit; the village check finds the cause
# (a lawful one said earlier would leave persuasion there, issue 10 §2).
REASONS = {"weariness": "weariness", "poverty": "family", "disability": "other"}
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
    played = replay(engine, lambda step: advance(engine, step), reserved=reserved)
    cases.attendance_days, cases.attendance_records = len(played.days), played.records
    cases.excused = len(played.excused)
    _count_persuasion(engine, cases)
    return cases


def advance(engine, step: Step) -> None:
    """Complete ``step.element_id`` of the child's open persuasion case as a holder of the
    task's role in its org unit (the person whose inbox shows it). The town signs for the
    report (``receive_report``, in parallel) the day it serves the notice."""
    if step.element_id == "issue_notice":
        advance(engine, replace(step, element_id="receive_report"))
    instance_id = EngineCaseSink(engine).open_case(step.child.id)
    for element_id in (step.element_id, *FOLLOW_UPS.get(step.element_id, ())):
        # A follow-up may sit in a file the case opened (its support measures).
        files = [instance_id, *engine.messages.linked(instance_id)["started"]] if instance_id else []
        with engine.db.read() as session:
            task = session.scalars(select(HumanTask).where(
                HumanTask.instance_id.in_(files), HumanTask.status == "open",
                HumanTask.element_id == element_id).order_by(HumanTask.id)).first() if files else None
            people = holders(session, task.candidate_role, task.org_unit) if task and not task.unroutable else []
        if not people and element_id != step.element_id:
            continue        # no such follow-up on this case (a lawful cause left before the plan)
        if not people:
            raise RuntimeError(f"demo script {step.script.name}: child {step.child.id} has no open "
                               f"{element_id} task with a holder on {step.day}")
        actor = people[0]
        engine.runtime.complete_task(task.id, answers(step, actor.display_name, element_id), actor=actor.username)


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
                          # Not before the day the form is sent (x-notBeforeToday): the replay
                          # reaches back four weeks, so six weeks on is still ahead.
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
        **exit_answers(step, actor_name),
    }
    return forms[element_id or step.element_id]


def exit_answers(step: Step, actor_name: str) -> dict:
    """Valid submissions of the lawful-exit forms (processes/lawful_exit.bpmn), dated on ``step.day``."""
    day, cause = step.day.isoformat(), step.script.cause
    ahead = (step.day + timedelta(days=42)).isoformat()      # x-notBeforeToday: the replay reaches back 4 weeks
    kind, ref, place = PROOF.get(cause, ("other", "证明（演示）", ""))
    illness = ({"illness_path": "leave", "leave_from": day, "leave_until": ahead}
               if step.script.name == "medical_leave" else {"illness_path": "suspension"})
    return {
        "home_teaching_placement": {"placement_status": "placed", "placement": "home_teaching", "placement_on": day,
                                    "placement_plan": "每周送教两次，每次两课时，会同镇残联一人一策（演示数据）"},
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
    }


TIER_ORDER = ("phone_call", "home_visit", "visit_cosign", "village_check", "plan_ack", "student_aid", "civil_aid",
              "counselling", "labour_referral", "mandatory_report", "home_teaching_placement", "dropout_report",
              "confirm_report", "receive_report", "issue_notice", "legal_education", "leader_decision",
              "restore_registry", "strike_off")


PERSUASION_FILES = ("persuasion", "support_measures")


def _count_persuasion(engine, cases: DemoCases) -> None:
    """Count open persuasion tasks by element, the support measures' included (their own file
    per case, processes/support_measures.bpmn); ``examples``: one holder per tier, in order."""
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
