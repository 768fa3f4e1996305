"""Demo cases: open work in every tier of the demo town, made through the real engine.

Started and advanced with ``engine.runtime`` exactly as staff would (never rows written
directly), so inboxes, audit trails and due dates are real. Deterministic: the first
pupil of each class gets a dropout-risk check; some are advanced to the village and the
principal; two returned pupils wait for their registry to be restored.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from .models import Child

ASSESS_HIGH = {"guardian_contacted": True, "risk_factors": ["weariness", "family_finances"],
               "risk_level": "high", "notes": "近一周两次无故缺课（演示数据）"}
HOME_CHECK = {"participants": "村干部、网格员、班主任", "cause": "poverty",
              "suggested_measures": ["civil_affairs_aid", "buddy_teacher"], "notes": "演示数据"}


@dataclass
class DemoCases:
    started: int = 0
    at_village: int = 0
    at_principal: int = 0
    examples: list[str] = field(default_factory=list)


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
            if len(cases.examples) < 3:
                cases.examples.append(teacher)
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
    return cases
