"""Counts of a month's end: open persuasion cases by tier and by age, overdue tasks by unit.

Tiers follow DOMAIN.md "Three-tier persuasion" (学校先劝、村社协助、镇级督办): a case is at the
highest tier whose step it has reached (a task of that step created before the moment; an
oversight task ``<step>_oversee`` counts as its step), 返校跟踪 once its strike-off or weekly
follow-up after the return has opened. A case with no task yet is at the school tier (the
day counter opens the phone call first).
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from engine.persistence.models import HumanTask

from ..directory import subtree
from .rates import Figure
from .register import Register

TIERS = {"school": "学校先劝", "village": "村社协助", "town": "镇级督办", "follow_up": "返校跟踪"}
# processes/persuasion.bpmn's user tasks by tier (anything else, e.g. leave reviews, by what
# preceded it: it does not move the case up).
TIER_STEPS = {
    "school": {"phone_call", "home_visit", "visit_cosign"},
    "village": {"village_check"},
    "town": {"dropout_report", "confirm_report", "send_back_decide", "receive_report", "issue_notice",
             "legal_education", "leader_decision", "joint_persuasion", "county_referral", "county_procedure",
             "leave_review_report"},
    "follow_up": {"strike_off", "weekly_check"},
}
_ORDER = list(TIERS)


def tier_of(tasks: list[tuple[str, datetime]], moment: datetime) -> str:
    """The tier a case had reached at ``moment`` (module doc)."""
    reached = 0
    for element_id, created in tasks:
        if created >= moment:
            continue
        step = element_id.removesuffix("_oversee")
        for index, tier in enumerate(_ORDER):
            if step in TIER_STEPS[tier]:
                reached = max(reached, index)
    return _ORDER[reached]


def age_on(born, day) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def open_cases(reg: Register, as_of: datetime, zone) -> Figure:
    """Open persuasion cases at ``as_of`` (begun before it, not closed before it), counted by
    tier (module doc) and by the child's age in full years on that day (DOMAIN-REFERENCE §7.2:
    age, never the birth date). ``by_tier`` [{key, label_zh, count}], ``by_age`` [{age, count}]."""
    cases = [c for c in reg.cases.values()
             if c.created_at < as_of and (c.closed_at is None or c.closed_at >= as_of)]
    tiers = Counter(tier_of(c.tasks, as_of) for c in cases)
    day = (as_of - timedelta(microseconds=1)).astimezone(zone).date()   # the month's last day, or today
    ages = Counter(age_on(reg.children[c.child_id].birth_date, day) for c in cases)
    return Figure("open_cases", "未结案件数", len(cases), len(cases), None,
                  "月末（本月为截至当前）仍未结案的劝返案件数，按所处层级（学校先劝、村社协助、镇级督办、返校跟踪）和儿童周岁年龄分列",
                  unit="件", extra={"by_tier": [{"key": k, "label_zh": v, "count": tiers.get(k, 0)} for k, v in TIERS.items()],
                                   "by_age": [{"age": a, "count": n} for a, n in sorted(ages.items())]})


def overdue_tasks(session, reg: Register, unit_code: str, as_of: datetime) -> Figure:
    """Tasks overdue at ``as_of``: created before it, due before it and not done by then (open
    now, or completed after it; a cancelled task without a completion time is left out), routed
    to ``unit_code`` or below it; counted by the school or village the task's org unit lies in
    (a class's task counts for its school), the town's own tasks under the town.
    ``by_unit`` [{unit, name, count}], most first."""
    units = sorted(subtree(session, unit_code))
    rows = session.scalars(select(HumanTask.org_unit).where(
        HumanTask.org_unit.in_(units), HumanTask.created_at < as_of, HumanTask.due_at < as_of,
        or_(HumanTask.status == "open", HumanTask.completed_at >= as_of)))
    counts = Counter(_owner(reg, code) for code in rows)
    by_unit = [{"unit": code, "name": reg.units[code].name if code in reg.units else code, "count": n}
               for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    total = sum(counts.values())
    return Figure("overdue_tasks", "逾期待办数", total, total, None,
                  "月末（本月为截至当前）已过办理期限仍未办结的待办任务数，按任务所属学校或村（社区）分列（班级的任务计入其学校）",
                  unit="件", extra={"by_unit": by_unit})


def _owner(reg: Register, code: str | None) -> str | None:
    """The school or village holding ``code`` (itself, or its nearest such ancestor); else ``code``."""
    seen, current = set(), code
    while current in reg.units and current not in seen:
        if reg.units[current].kind in ("school", "village", "town"):
            return current
        seen.add(current)
        current = reg.units[current].parent_code
    return code
