"""The figures one person may see for a month and a unit (``GET /api/v1/metrics``, ``/dashboard``).

Who sees which unit's figures follows the case list (``ledger.access.case_scope``): the
discipline inspector, the task force and the county bureau — and the town's livelihood office
and government, who keep and file the master ledger — the town and every school and village;
a principal their school, a village secretary their village; nobody else has figures to see
(403). Figures carry counts only, never a child's name or number: nothing is access-logged.
"""
from __future__ import annotations

import re
from datetime import datetime, time

from sqlalchemy import select

from engine.errors import Forbidden, InvalidInput

from .. import access
from ..models import OrgUnit
from . import rates, workload
from .register import Register, load

FIGURE_TOWN_READERS = frozenset({*access.CASE_READERS, "livelihood_office", "town_government"})
UNIT_KINDS = {"town": "全镇", "school": "学校", "village": "村（社区）"}
TREND_MONTHS = 6
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def may_see_figures(principal) -> bool:
    """Whether the 统计 page and ``/api/v1/metrics`` are for this person at all."""
    return any(principal.holds(r) for r in FIGURE_TOWN_READERS) or any(
        principal.units(r) for r in access.CASE_UNIT_HEADS)


def unit_choices(session, principal) -> list[dict]:
    """The units whose figures this person may see: ``[{code, name, kind}]``, the town first,
    then schools, then villages (module doc); empty for anyone else."""
    query = select(OrgUnit).where(OrgUnit.kind.in_(list(UNIT_KINDS)))
    if not any(principal.holds(r) for r in FIGURE_TOWN_READERS):
        own = sorted({u for role in access.CASE_UNIT_HEADS for u in principal.units(role)})
        query = query.where(OrgUnit.code.in_(own), OrgUnit.kind.in_(("school", "village")))
    rows = sorted(session.scalars(query), key=lambda u: (list(UNIT_KINDS).index(u.kind), u.sort, u.code))
    return [{"code": u.code, "name": u.name, "kind": u.kind} for u in rows]


def parse_month(text: str | None, now: datetime, zone) -> tuple[int, int]:
    """``YYYY-MM`` → (year, month); empty → the current month. InvalidInput (``month``) for
    another shape, a month outside 01-12, before 2000 or after the current month."""
    today = now.astimezone(zone).date()
    text = (text or "").strip()
    if not text:
        return today.year, today.month
    match = _MONTH.fullmatch(text)
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 2000:
        raise InvalidInput("month", errors={"month": f"月份格式应为 YYYY-MM（如 {today:%Y-%m}），收到 {text[:20]!r}"})
    year, month = int(match[1]), int(match[2])
    if (year, month) > (today.year, today.month):
        raise InvalidInput("month", errors={"month": f"月份 {text} 尚未开始，不能统计"})
    return year, month


def month_bounds(year: int, month: int, zone) -> tuple[datetime, datetime]:
    first = datetime.combine(datetime(year, month, 1).date(), time(0), zone)
    end = datetime.combine(datetime(year + month // 12, month % 12 + 1, 1).date(), time(0), zone)
    return first, end


def month_figures(reg: Register, session, unit_code: str | None, year: int, month: int, now, zone) -> list:
    """Every figure of the month for ``reg`` (``overdue_tasks`` only with ``unit_code``)."""
    first, end = month_bounds(year, month, zone)
    as_of = min(end, now)
    found = [rates.dropout_rate(reg, as_of), rates.return_rate(reg, first, as_of),
             rates.retention_rate(reg, first, as_of), rates.disabled_placement_rate(reg, as_of),
             workload.open_cases(reg, as_of, zone)]
    if unit_code is not None:
        found.append(workload.overdue_tasks(session, reg, unit_code, as_of))
    found += [rates.median_days_to_return(reg, first, as_of, zone), rates.redropout_rate(reg, first, as_of, now)]
    return found


def metrics(engine, principal, month: str | None, unit: str | None) -> dict:
    """``{month, unit: {code, name, kind}, as_of, figures: [Figure.public()], by_unit:
    [{unit, name, kind, figures: {key: {value, numerator, denominator}}}] (the town's schools
    and villages; empty for one school or village), trend: [{month, dropout_rate, return_rate,
    redropout_90d}] (the ``TREND_MONTHS`` months up to this one), units: unit_choices}``.
    InvalidInput 422 naming ``month`` or ``unit`` (an org unit that is no town, school or
    village); Forbidden 403 for a unit outside the caller's scope or a caller with none."""
    now, zone = engine.clock(), engine.zone
    year, mon = parse_month(month, now, zone)
    with engine.db.read() as session:
        choices = unit_choices(session, principal)
        if not choices:
            raise Forbidden("您的岗位没有可查看的统计数据 (no figures in your scope)")
        code = (unit or "").strip() or choices[0]["code"]
        target = session.get(OrgUnit, code) if len(code) <= 64 else None
        if target is None or target.kind not in UNIT_KINDS:
            raise InvalidInput("unit", errors={"unit": f"没有代码为 {code[:64]!r} 的镇、学校或村（社区）"})
        if code not in {c["code"] for c in choices}:
            raise Forbidden(f"您无权查看 {target.name} 的统计数据 (unit outside your scope)")
        reg = load(session, target)
        figures = month_figures(reg, session, code, year, mon, now, zone)
        by_unit = [] if target.kind != "town" else [_unit_row(reg, session, c, year, mon, now, zone)
                                                     for c in choices if c["kind"] != "town"]
        trend = [_trend_row(reg, session, y, m, now, zone) for y, m in _months_back(year, mon, TREND_MONTHS)]
    first, end = month_bounds(year, mon, zone)
    return {"month": f"{year:04d}-{mon:02d}", "unit": {"code": target.code, "name": target.name, "kind": target.kind},
            "as_of": min(end, now).isoformat(), "figures": [f.public() for f in figures],
            "by_unit": by_unit, "trend": trend, "units": choices}


def _short(figure) -> dict:
    return {"value": figure.value, "numerator": figure.numerator, "denominator": figure.denominator}


def _unit_row(reg: Register, session, choice: dict, year, month, now, zone) -> dict:
    part = reg.part(reg.units[choice["code"]])
    found = month_figures(part, session, choice["code"], year, month, now, zone)
    return {"unit": choice["code"], "name": choice["name"], "kind": choice["kind"],
            "figures": {f.key: _short(f) for f in found}}


def _trend_row(reg: Register, session, year, month, now, zone) -> dict:
    first, end = month_bounds(year, month, zone)
    as_of = min(end, now)
    return {"month": f"{year:04d}-{month:02d}", "dropout_rate": _short(rates.dropout_rate(reg, as_of)),
            "return_rate": _short(rates.return_rate(reg, first, as_of)),
            "redropout_90d": _short(rates.redropout_rate(reg, first, as_of, now))}


def _months_back(year: int, month: int, count: int) -> list[tuple[int, int]]:
    index = year * 12 + month - 1
    return [(i // 12, i % 12 + 1) for i in range(index - count + 1, index + 1)]
