"""The demo's responsibility agreements (issue 12): this school year's campaign, with tier 1
signed by most units, one unit's objection open and one unit not yet signed, and most of
the signed units' head teachers and grid workers signed, one head teacher's objection
waiting for their principal, the rest pending; most signed staff agreements countersigned by
the unit's head, some awaiting it.

Everything goes through the real processes and the register, as people would: the office
opens and launches the campaign (deadline 5 working days on), each unit's head confirms,
the leader countersigns, staff confirm their own agreements and their unit's head countersigns
most of those.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from engine.calendar import BusinessCalendar
from engine.persistence.models import HumanTask

from .step_effects import after_completion
from .agreements import school_year_of, start_campaign
from .directory import holders
from .signatures import display_name

OFFICE, LEADER = "office", "leader"
REFUSING = "v-gangkou"         # its village secretary objects (有异议)
UNSIGNED = "v-hongxing"        # not signed yet (待签)
STAFF_SIGN_EVERY = 3           # every third member of staff has not signed yet
COUNTERSIGN_LEAVE_EVERY = 4    # every fourth signed staff agreement awaits its unit head's countersign
STAFF_OBJECTION = "班级学生多、留守儿童多，希望学校明确班主任与网格员的家访分工后再签"


@dataclass
class DemoAgreements:
    school_year: str = ""
    units_signed: int = 0
    staff_signed: int = 0
    staff_pending: int = 0
    staff_refused: int = 0
    staff_awaiting: int = 0      # signed by the person, not yet countersigned by the unit's head

    def line(self) -> str:
        return (f"目标责任书 (agreements) {self.school_year}: {self.units_signed} 个单位已签订，"
                f"{REFUSING} 有异议、{UNSIGNED} 待签；班主任、网格员 {self.staff_signed} 人已签、"
                f"{self.staff_refused} 人有异议（待校长处理）、{self.staff_pending} 人待签，"
                f"{self.staff_awaiting} 份待单位负责人会签。登记簿：/agreements")


def seed_agreements(engine) -> DemoAgreements:
    """Open, launch and partly sign this school year's campaign (see the module doc)."""
    today = engine.clock().astimezone(engine.zone).date()
    deadline = BusinessCalendar(engine.zone).add_days(today, 5, "working")
    result = DemoAgreements(school_year=school_year_of(today))
    with engine.db.read() as session:
        leader_name = display_name(session, LEADER)   # who confirms is the account (ledger.signatures)
    campaign = start_campaign(engine, OFFICE, result.school_year, deadline=deadline)
    _complete(engine, campaign["instance_id"], "review_campaign", OFFICE,
              {"dropout_target": 0, "return_target": 100, "deadline": deadline.isoformat(), "launch": True})
    for task in _open(engine, "sign_unit"):
        if task.org_unit == UNSIGNED:
            continue
        signer = _holder(engine, task)
        if task.org_unit == REFUSING:
            _complete_task(engine, task, signer.username, {
                "decision": "refuse", "signer_name": signer.display_name,
                "refusal_reason": "村里外出务工家庭多，劝返率100%的目标需要镇里协调用工企业配合"})
            continue
        _complete_task(engine, task, signer.username, {"decision": "accept", "signer_name": signer.display_name})
        [countersign] = [t for t in _open(engine, "countersign")]
        _complete_task(engine, countersign, LEADER, {"countersign_decision": "countersign", "countersigner_name": leader_name})
        result.units_signed += 1
    for index, task in enumerate(_open(engine, "sign_personal")):
        if index % STAFF_SIGN_EVERY == STAFF_SIGN_EVERY - 1:
            result.staff_pending += 1
            continue
        with engine.db.read() as session:
            name = next(user.display_name for user in holders(session, task.candidate_role, task.org_unit)
                        if user.username == task.assignee)
        if index == 0 and task.candidate_role == "head_teacher":
            _complete_task(engine, task, task.assignee, {"decision": "refuse", "signer_name": name,
                                                         "refusal_reason": STAFF_OBJECTION})
            result.staff_refused += 1
            continue
        _complete_task(engine, task, task.assignee, {"decision": "accept", "signer_name": name})
        result.staff_signed += 1
    for index, task in enumerate(_open(engine, "countersign_person")):
        if index % COUNTERSIGN_LEAVE_EVERY == COUNTERSIGN_LEAVE_EVERY - 1:
            result.staff_awaiting += 1       # signed, the unit's head not countersigned yet (待会签)
            continue
        head = _holder(engine, task)
        _complete_task(engine, task, head.username, {"countersign_decision": "countersign", "countersigner_name": head.display_name})
    return result


def _open(engine, element_id: str) -> list[HumanTask]:
    with engine.db.read() as session:
        rows = list(session.scalars(select(HumanTask).where(
            HumanTask.status == "open", HumanTask.element_id == element_id)
            .order_by(HumanTask.org_unit, HumanTask.assignee)))
        session.expunge_all()
        return rows


def _holder(engine, task: HumanTask):
    with engine.db.read() as session:
        people = holders(session, task.candidate_role, task.org_unit)
        session.expunge_all()
        return people[0]


def _complete(engine, instance_id: int, element_id: str, actor: str, data: dict) -> None:
    [task] = [t for t in _open(engine, element_id) if t.instance_id == instance_id]
    _complete_task(engine, task, actor, data)


def _complete_task(engine, task: HumanTask, actor: str, data: dict) -> None:
    engine.runtime.complete_task(task.id, data, actor=actor)
    after_completion(engine, task)
