"""Demo home-teaching cases (送教上门, issue 11): one case at each stage, made through the real engine.

``seed_home_teaching(engine)`` refers five pupils of the demo town to home teaching (the
register marks them disabled) and plays each case as staff would, each task completed by a
holder of its post, answers valid for its form, on the days they happen:

* ``assessment``: referred today by the principal; the head teacher's and the federation's
  assessments are open;
* ``placement``: assessed two days ago; the federation has the committee's placement to record;
* ``plan_approval``: placed, archived, the plan drawn and agreed yesterday; the principal has
  it to approve;
* ``visiting``: planned about six weeks ago (Tuesdays and Fridays, the school's home teacher
  responsible, the class's head teacher co-teaching): every scheduled visit recorded, plus a
  make-up visit, the past month checked against the norm;
* ``term_review``: taught on Wednesdays up to the last term's end, the month checks done, the
  principal's term review closed it (the child enters school).

The past is played on a clock of its own (an engine on the same database with a
``FixedClock``): timers fire on their days (a visit day at 07:30, the month's close at 07:00 on
the 1st), so every due date, escalation and month check is the real one; each case's clock
only moves forward, and what it leaves waiting lies after ``engine.clock()``. Pupils come from
the schools ``SCHOOLS``, never one with a case or a task already, one per class, disabled ones
first. Deterministic for a given day; returns ``DemoHomeTeaching``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from engine.clock import FixedClock
from engine.persistence.models import HumanTask, ProcessInstance, TimerJob

from .directory import holders
from .home_teaching import REFERRAL
from .models import Child
from .step_effects import after_completion

STAGES = ("assessment", "placement", "plan_approval", "visiting", "term_review")
STAGE_NAMES = {"assessment": "评估", "placement": "待登记安置", "plan_approval": "计划待审批",
               "visiting": "送教中", "term_review": "学期评估后结案"}
# The README's walk-through is in 蛟潭中心学校 (head_teacher-zx-3-2, principal-zx): its inboxes
# stay the reader's own case's.
SCHOOLS = ("fg", "ez")
DISABILITY = "disability"

SCHOOL_ASSESSMENT = {"ability_self_care": "with_help", "ability_communication": "with_help",
                     "ability_mobility": "dependent", "ability_learning": "below", "guardian_wish": "home_teaching",
                     "guardian_wish_note": "孩子行动不便，希望老师上门教（演示数据）"}
FEDERATION = {"disability_type": "physical", "disability_grade": "2", "federation_note": "演示数据"}
GOALS = {"goal_life_skills": "独立进食、穿衣", "goal_communication": "能用完整句子表达需求",
         "goal_academic": "本年级语文、数学基础内容", "goal_motor": "上肢精细动作训练", "goal_social": "与家人、同伴交往"}


@dataclass
class DemoHomeTeaching:
    cases: dict[str, int] = field(default_factory=dict)     # stage -> instance id
    visits: int = 0                                          # visits recorded
    months: int = 0                                          # month checks made
    examples: list[str] = field(default_factory=list)        # who has work: dpf, the teacher, the principal

    def line(self) -> str:
        stages = "、".join(f"{STAGE_NAMES[stage]}（案件 {self.cases[stage]}）" for stage in STAGES if stage in self.cases)
        return (f"送教上门 (home teaching): {stages}; 已登记送教 {self.visits} 次、月度检查 {self.months} 次。"
                f"试试 {'、'.join(self.examples)} 登录后查看待办。")


def seed_home_teaching(engine) -> DemoHomeTeaching:
    """Make the five cases (see module); ``engine`` is the demo's, its clock is "now"."""
    today = engine.clock().astimezone(engine.zone).date()
    pupils = dict(zip(STAGES, _pupils(engine, len(STAGES))))
    made = DemoHomeTeaching()
    past = _Past(engine)
    try:
        review = _last_term_review(today)
        made.cases["term_review"] = past.taught(pupils["term_review"], review - timedelta(weeks=8), weekdays=[3],
                                                until=review - timedelta(days=21), last=review + timedelta(days=2),
                                                review=review)
        made.cases["visiting"] = past.taught(pupils["visiting"], today - timedelta(days=45), weekdays=[2, 5],
                                             until=today + timedelta(days=200), last=today - timedelta(days=1))
        made.cases["plan_approval"] = past.planned(pupils["plan_approval"], today - timedelta(days=9),
                                                   today - timedelta(days=1))
        made.cases["placement"] = past.assessed(pupils["placement"], today - timedelta(days=3))
        made.visits, made.months = past.visits, past.months
        made.examples = ["dpf", f"home_teacher-{pupils['visiting'].school_code}",
                         f"principal-{pupils['plan_approval'].school_code}"]
    finally:
        past.close()
    made.cases["assessment"] = _refer(engine, pupils["assessment"])
    engine.timers.fire_due(engine.clock())     # today's visit day, if it has come
    return made


def _last_term_review(today: date) -> date:
    """The latest term review's first day at least a week gone: terms end with January and
    July, the month's check on 1 February or 1 August opens the review."""
    reviews = [date(year, month, 1) for year in (today.year - 1, today.year) for month in (2, 8)]
    return max(day for day in reviews if day + timedelta(days=7) <= today)


def _pupils(engine, count: int) -> list[Child]:
    """``count`` pupils of ``SCHOOLS`` living in a village, with no case or task yet, one per
    class, those the register marks disabled first; the others are marked so now."""
    with engine.db.transaction() as session:
        busy = {key for (key,) in session.execute(select(ProcessInstance.business_key)) if key}
        busy |= {f"child:{subject}" for (subject,) in session.execute(select(HumanTask.subject_id)) if subject}
        free = [c for c in session.scalars(select(Child).where(
            Child.school_code.in_(SCHOOLS), Child.class_code.is_not(None), Child.village_code.is_not(None),
            Child.enrolment_status == "enrolled").order_by(Child.id)) if f"child:{c.id}" not in busy]
        picked: list[Child] = []
        for child in sorted(free, key=lambda c: (DISABILITY not in c.special_groups.split(","), c.id)):
            if len(picked) < count and child.class_code not in {p.class_code for p in picked}:
                picked.append(child)
        if len(picked) < count:
            raise RuntimeError(f"demo home teaching: only {len(picked)} free pupils in {SCHOOLS}")
        for child in picked:
            flags = [f for f in child.special_groups.split(",") if f]
            if DISABILITY not in flags:
                child.special_groups = ",".join([*flags, DISABILITY])
        session.flush()
        session.expunge_all()
    return picked


def _refer(engine, child: Child) -> int:
    result = engine.messages.deliver(REFERRAL, {"child_id": child.id}, {"referred_from": "principal"},
                                     actor=f"principal-{child.school_code}")
    [instance_id] = result.started or result.reached
    return instance_id


class _Past:
    """An engine on the same database whose clock the demo moves through past days."""

    def __init__(self, engine):
        from engine.process_engine import ProcessEngine
        self.clock = FixedClock(engine.clock())
        self.engine = ProcessEngine(replace(engine.config, clock=self.clock))
        self.zone = engine.zone
        self.visits = self.months = 0

    def close(self) -> None:
        self.engine.close()

    def at(self, day: date, hour: int, minute: int = 0) -> str:
        """Move the clock to ``day`` at ``hour``:``minute`` (local); the day as ISO text."""
        self.clock.set(datetime.combine(day, time(hour, minute), self.zone))
        return day.isoformat()

    def do(self, instance_id: int, element_id: str, data: dict) -> None:
        """Complete the case's open ``element_id`` as the person its inbox belongs to: the
        one it is claimed by, else the first holder of its post."""
        with self.engine.db.read() as session:
            task = session.scalars(select(HumanTask).where(
                HumanTask.instance_id == instance_id, HumanTask.element_id == element_id,
                HumanTask.status == "open").order_by(HumanTask.created_at)).first()
            if task is None:
                raise RuntimeError(f"demo home teaching: case {instance_id} has no open {element_id}")
            actor = task.assignee or holders(session, task.candidate_role, task.org_unit)[0].username
        self.engine.runtime.complete_task(task.id, data, actor=actor)
        after_completion(self.engine, task)     # as a page would: the countersigned plan kept

    def assessed(self, child: Child, first: date) -> int:
        """Referred on ``first``, both assessments the next day: the placement is open."""
        day = self.at(first, 9)
        case = _refer(self.engine, child)
        day = self.at(first + timedelta(days=1), 15)
        self.do(case, "assess_school", {**SCHOOL_ASSESSMENT, "assessed_on": day,
                                        "assessed_by": "班主任、镇残联干事（演示）"})
        # 残疾人证号: the ID number, then the type (4 肢体) and the grade (2).
        self.do(case, "assess_federation", {**FEDERATION, "federation_checked_on": day,
                                            "certificate_no": f"{child.id_number}42",
                                            "certificate_on": (first - timedelta(days=3 * 365)).isoformat()})
        return case

    def planned(self, child: Child, first: date, drawn: date, *, weekdays=(2, 5), until: date | None = None,
                approve: bool = False) -> int:
        """Assessed, placed on day 3, archived on day 4; the plan (the school's home teacher
        responsible, the class's head teacher co-teaching) drawn and agreed on ``drawn``, and
        with ``approve`` approved and countersigned that day too."""
        case = self.assessed(child, first)
        placed = self.at(first + timedelta(days=3), 10)
        self.do(case, "placement", {"placement": "home_teaching", "committee_ref": f"县残教委〔{first.year}〕{child.id}号",
                                    "committee_on": placed, "placement_note": "行动不便，适宜送教上门（演示数据）"})
        day = self.at(first + timedelta(days=4), 10)
        self.do(case, "registry_archive", {"registry_action": "kept", "registry_on": day,
                                           "registry_archive_no": f"{child.school_code.upper()}-{first.year}-{child.id:03d}"})
        day = self.at(max(drawn, first + timedelta(days=4)), 11)
        self.do(case, "draw_plan", {**GOALS, "plan_teacher": f"home_teacher-{child.school_code}",
                                    "plan_co_teachers": [f"head_teacher-{child.class_code}"],
                                    "plan_content": "语文识字、数学计算、生活技能训练（演示数据）",
                                    "plan_weekdays": list(weekdays), "plan_visit_start": "15:00",
                                    "plan_visit_end": "16:30", "plan_visits_per_month": 2 * len(weekdays) + 2,
                                    "plan_periods_per_visit": 2, "plan_from": day,
                                    "plan_until": (until or date.fromisoformat(day) + timedelta(days=200)).isoformat()})
        self.do(case, "guardian_agreement", {"guardian_name": child.guardian_name, "agreement_on": day,
                                             "guardian_agrees": "agreed"})
        if approve:
            self.do(case, "approve_plan", {"approval_decision": "approve", "approval_on": day})
            self.do(case, "countersign_plan", {"countersign_decision": "countersign", "countersign_on": day,
                                               "countersign_support": "适配轮椅一台（演示数据）"})
        return case

    def taught(self, child: Child, first: date, *, weekdays, until: date, last: date,
               review: date | None = None) -> int:
        """Planned and approved on day 7, then from timer to timer up to the end of ``last``:
        each fires at its time (a visit day at 07:30, a month's close at 07:00 on the 1st),
        the day's visit is recorded at 17:00 by the teacher it went to, a make-up visit on the
        first Thursday taught; with ``review``, the term review opened on that day closes the
        case on ``last`` at 10:00."""
        case = self.planned(child, first, first + timedelta(days=7), weekdays=weekdays, until=until, approve=True)
        thursday = first + timedelta(days=8 + (3 - (first + timedelta(days=8)).weekday()) % 7)
        errands = {self._moment(thursday, 17, 30): "unscheduled_visit"} if thursday <= until else {}
        if review:
            errands[self._moment(last, 10)] = "term_review"
        end = self._moment(last + timedelta(days=1), 0)
        while True:
            due = self._next_timer(case)
            moment = min([m for m in (due, *errands) if m is not None], default=end)
            if moment >= end:
                break
            if moment in errands:
                self.clock.set(max(moment, self.clock()))
                self.do(case, errands.pop(moment), self._errand(child, moment))
                self.visits += moment.hour == 17
                continue
            self.clock.set(max(moment + timedelta(minutes=1), self.clock()))   # a timer fires once past due
            self.engine.timers.fire_due(self.clock())
            if self._open(case, "visit"):
                self.do(case, "visit", self._visit(child, self.at(moment.date(), 17)))
                self.visits += 1
        self.months += len(self.engine.runtime.variables(case).get("month_checks") or [])
        return case

    def _moment(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), self.zone)

    def _errand(self, child: Child, moment: datetime) -> dict:
        if moment.hour == 17:                                   # the make-up visit
            return self._visit(child, moment.date().isoformat())
        return {"review_on": moment.date().isoformat(), "review_decision": "close", "close_reason": "enters_school",
                "review_summary": "康复良好，本学期送教目标基本达成，可入校随班就读（演示数据）"}

    def _next_timer(self, case: int) -> datetime | None:
        with self.engine.db.read() as session:
            due = session.scalar(select(func.min(TimerJob.due_at)).where(
                TimerJob.instance_id == case, TimerJob.status == "waiting"))
        return due.astimezone(self.zone) if due else None

    def _open(self, case: int, element_id: str) -> bool:
        with self.engine.db.read() as session:
            return session.scalar(select(HumanTask.id).where(
                HumanTask.instance_id == case, HumanTask.element_id == element_id,
                HumanTask.status == "open").limit(1)) is not None

    @staticmethod
    def _visit(child: Child, day: str) -> dict:
        return {"visit_held": True, "visit_on": day, "visit_start": "15:00",
                "visit_end": "16:30", "visit_periods": 2, "visit_content": "识字、两位数加减法、穿衣训练（演示数据）",
                "visit_response": "注意力集中约 20 分钟，能认读新字 10 个", "visit_guardian_present": True,
                "visit_guardian_name": child.guardian_name, "visit_guardian_confirmed": True}
