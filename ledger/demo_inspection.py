"""Demo data of a quarterly inspection (issue 13), through the real process: the leader opens
the current quarter's round; the inspectors have checked the first school (two items failed:
its criticism notice waits for the leader's approval) and the first two villages (all passed);
every other unit's inspection waits in the inspectors' inbox (log in as ``inspector`` or
``leader``). Findings are generated here, never real."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from engine.persistence.models import HumanTask

from .inspection import quarter_of, round_variables, start_round
from .inspection_tasks import task_units

LEADER, INSPECTOR = "leader", "inspector"
ITEMS = ("census", "monitoring", "persuasion", "duties", "records")
FAILINGS = {"census": "摸底台账未及时更新：本学期转入学生 2 人未登记", "persuasion": "2 件劝返案件家访超过期限未办理"}
PASSING_VILLAGES = 2


@dataclass
class DemoInspection:
    round_ref: str = ""
    units: int = 0
    passed: int = 0
    failed_unit: str = ""

    def line(self) -> str:
        return (f"季度督查 (inspection) {self.round_ref}: {self.units} 个单位，已检查 {self.passed + 1} 个"
                f"（{self.failed_unit}有 2 项不合格，通报批评待专班组长 leader 审批），其余待督查组 inspector 检查。"
                "页面：/inspections")


def findings(day: str, failing: dict) -> dict:
    data = {"inspected_on": day}
    for item in ITEMS:
        data[f"check_{item}"] = "fail" if item in failing else "pass"
        if item in failing:
            data[f"note_{item}"] = failing[item]
    return data


def seed_inspection(engine) -> DemoInspection:
    """Open the current quarter's round and record the first findings (see the module doc)."""
    today = engine.clock().astimezone(engine.zone).date()
    year, quarter = quarter_of(today)
    opened = start_round(engine, LEADER, year, quarter)
    result = DemoInspection(round_ref=opened["round_ref"], units=opened["units"])
    with engine.db.read() as session:
        rows = list(session.scalars(select(HumanTask).where(
            HumanTask.instance_id == opened["instance_id"], HumanTask.element_id == "inspect_unit",
            HumanTask.status == "open")))
        units = task_units(session, rows)
        session.expunge_all()
    by_unit = {units[row.id]: row for row in rows if row.id in units}
    order = [(u["code"], u["kind"], u["name"]) for u in round_variables(engine, opened["instance_id"])["units"]]
    school = next((code for code, kind, _ in order if kind == "school"), None)
    villages = [code for code, kind, _ in order if kind == "village"][:PASSING_VILLAGES]
    for code in villages:
        engine.runtime.complete_task(by_unit[code].id, findings(today.isoformat(), {}), actor=INSPECTOR)
        result.passed += 1
    if school:
        engine.runtime.complete_task(by_unit[school].id, findings(today.isoformat(), FAILINGS), actor=INSPECTOR)
        result.failed_unit = next(name for code, _, name in order if code == school)
    return result
