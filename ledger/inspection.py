"""Quarterly inspection rounds (季度督查, issue 13; DOMAIN.md "Supervision and accountability",
"Monitoring rhythm": each quarter 镇纪委 and 民生服务办 inspect every village and school).

``start_round`` opens the round of a quarter as one instance of ``processes/inspection.bpmn``
(business key ``inspection:2026Q4``), which calls ``inspection_unit`` for every school and
village of the town as they are at the start (``units``: ``[{code, name, kind, head_role}]``,
read here, not by the process: a unit set up later waits for the next round). What each
inspector sees of a unit (its figures, open and overdue tasks, sampled cases) is computed when
the task page is shown (``ledger.inspection_figures``), never kept in the case.
"""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from engine.errors import Conflict, InvalidInput
from engine.persistence.models import ProcessInstance

from .agreements import units_of
from .directory import town_code
from .models import OrgUnit

PROCESS_KEY = "inspection"
UNIT_PROCESS = "inspection_unit"
PROCESSES = frozenset({PROCESS_KEY, UNIT_PROCESS})
STARTERS = ("task_force_leader",)     # the leader opens a round (issue 13)
OPEN_STATUSES = ("active", "error", "suspended")
RECTIFY_WORKING_DAYS = 10             # processes/inspection_unit.bpmn: the notice's deadline and the task's due date
FIRST_YEAR = 2000


def round_ref(year: int, quarter: int) -> str:
    """``2026Q4``: the round's reference (and, prefixed ``inspection:``, its business key)."""
    return f"{year}Q{quarter}"


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First and last day of calendar quarter ``quarter`` (1-4) of ``year``."""
    first = date(year, 3 * quarter - 2, 1)
    last = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return first, date.fromordinal(last.toordinal() - 1)


def quarter_of(day: date) -> tuple[int, int]:
    """``(year, quarter)`` of ``day``."""
    return day.year, (day.month - 1) // 3 + 1


def quarter_label(year: int, quarter: int) -> str:
    return f"{year}年第{'一二三四'[quarter - 1]}季度"


def check_quarter(year, quarter, today: date) -> tuple[int, int]:
    """``(year, quarter)`` as whole numbers, or InvalidInput (422, field ``year`` or ``quarter``,
    in Chinese): a quarter is 1-4, and it must have begun by ``today`` (a round inspects work
    done; a future quarter has none)."""
    errors = {}
    try:
        year = int(str(year).strip())
        if not FIRST_YEAR <= year <= 2099:
            raise ValueError
    except ValueError:
        errors["year"] = "年份应为 2000 至 2099 之间的四位数字"
    try:
        quarter = int(str(quarter).strip())
        if not 1 <= quarter <= 4:
            raise ValueError
    except ValueError:
        errors["quarter"] = "季度应为 1、2、3 或 4"
    if not errors and quarter_bounds(year, quarter)[0] > today:
        errors["quarter"] = f"{quarter_label(year, quarter)}尚未开始，只能督查已经开始的季度"
    if errors:
        raise InvalidInput("督查季度不正确", errors=errors)
    return year, quarter


def inspected_units(session) -> list[dict]:
    """Every school and village of the town (``agreements.units_of`` order): ``{code, name,
    kind, head_role}``, ``head_role`` who answers for its rectification (principal, village
    secretary)."""
    return [{key: unit[key] for key in ("code", "name", "kind", "head_role")} for unit in units_of(session)]


def open_round(session, year: int, quarter: int) -> int | None:
    """The id of the quarter's open round, if any."""
    return session.scalar(select(ProcessInstance.id).where(
        ProcessInstance.process_key == PROCESS_KEY,
        ProcessInstance.business_key == f"inspection:{round_ref(year, quarter)}",
        ProcessInstance.status.in_(OPEN_STATUSES)).limit(1))


def start_round(engine, actor: str | None, year, quarter) -> dict:
    """Open the inspection round of ``quarter`` of ``year``: ``{instance_id, round_ref,
    quarter_label, units}`` (``units`` how many are inspected). The round's first tasks are
    the inspectors' (one per school and village).

    Raises InvalidInput (422: ``year`` / ``quarter`` malformed or a quarter not yet begun;
    ``units``: the town has no school or village) and Conflict (409) when the quarter already
    has an open round. Who may start (the task-force leader) is the caller's check
    (``STARTERS``). Nothing is kept when the start fails.
    """
    today = engine.clock().astimezone(engine.zone).date()
    year, quarter = check_quarter(year, quarter, today)
    ref = round_ref(year, quarter)
    with engine.db.read() as session:
        if open_round(session, year, quarter):
            raise Conflict(f"{quarter_label(year, quarter)}的督查正在进行，不能重复发起")
        units = inspected_units(session)
        town = session.get(OrgUnit, town_code(session))
    if not units:
        raise InvalidInput("本镇尚未设置学校或村", errors={"units": "本镇尚未设置学校或村（场、社区），无从督查"})
    first, last = quarter_bounds(year, quarter)
    variables = {"year": year, "quarter": quarter, "round_ref": ref, "quarter_label": quarter_label(year, quarter),
                 "quarter_start": first.isoformat(), "quarter_end": last.isoformat(), "town_name": town.name,
                 "units": units}
    # The engine's unique open (process_key, business_key) makes a racing second start a 409 too.
    result = engine.runtime.start(PROCESS_KEY, variables, business_key=f"inspection:{ref}", actor=actor)
    return {"instance_id": result.instance_id, "round_ref": ref, "quarter_label": variables["quarter_label"],
            "units": len(units)}



def round_variables(engine, instance_id: int) -> dict:
    """The round's variables as it was started (``start_round``: its units then). Not
    ``runtime.variables``: those are the latest task's, which inside a called unit process
    know only that unit."""
    started = next((e for e in engine.history.events(instance_id) if e.kind == "instance_started"), None)
    return (json.loads(started.data or "{}").get("variables") or {}) if started is not None else {}
