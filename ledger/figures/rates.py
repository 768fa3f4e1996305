"""The rates of a month (DOMAIN.md "Figures the town reports", DOMAIN-REFERENCE §5.3), each
from the register's statuses (``register.Register.status_at``: DOMAIN-REFERENCE §4 codes and
its "counts as out of school" column, ``ledger.case_outcomes.STATUSES``).

A month is ``first`` (the 1st, 00:00 local) to ``end`` (the next 1st, 00:00 local); ``as_of``
is ``end``, or now for the month in progress. Each function returns a ``Figure``; a rate whose
denominator is 0 has the value None (no children of that kind: nothing to divide).
Days are **calendar days**: the median spans a child's time out of school across weekends,
holidays and the schools' different calendars, and the 90-day watch after a return is a span
of the family's life, not of teaching; school days would make a month with a holiday look
shorter (DOMAIN-REFERENCE §6 keeps school days for attendance triggers).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from ..case_outcomes import STATUSES
from .register import Register

# Group D of §4: left compulsory schooling here lawfully (正常流动) or excluded from 失学辍学.
NOT_COUNTED = frozenset(code for code, s in STATUSES.items() if s.group == "D")
OUT_OF_SCHOOL = frozenset(code for code, s in STATUSES.items() if s.out_of_school)
# Reported to the town (report_filed → 疑似辍学) or past the notice's deadline (辍学): a child
# brought back from here counts as 劝返 (ledger.case_outcomes.OUTCOMES returned_after_*).
DROPOUT_STOCK = frozenset({"suspected_dropout", "dropped_out"})
# Group A of §4: studying somewhere (in class, inclusive class, special school, home teaching...).
PLACED = frozenset(code for code, s in STATUSES.items() if s.group == "A")
DISABILITY = "disability"               # the register's special-group flag (Child.special_groups)
REDROP_DAYS = 90


@dataclass
class Figure:
    key: str
    label_zh: str
    value: float | None
    numerator: int | None
    denominator: int | None
    formula_zh: str
    unit: str = "%"
    extra: dict | None = None

    def public(self) -> dict:
        data = {"key": self.key, "label_zh": self.label_zh, "value": self.value, "numerator": self.numerator,
                "denominator": self.denominator, "formula_zh": self.formula_zh, "unit": self.unit}
        return {**data, **(self.extra or {})}


def percent(numerator: int, denominator: int) -> float | None:
    return round(100.0 * numerator / denominator, 1) if denominator else None


def dropout_rate(reg: Register, as_of: datetime) -> Figure:
    """辍学率 = children whose status at ``as_of`` counts as out of school (辍学, 失学) ÷ children
    on the register at ``as_of`` who are of compulsory schooling here (every status but group D:
    not 不具备学习条件, 已完成, 出国, 死亡, 迁出, 转出) × 100%. DOMAIN.md "dropped-out pupils /
    enrolled pupils", as a month-end stock; §4 decides what counts. 疑似辍学 is a watch list, not
    a dropout (§4). The annual 两基 rate of §5.3 (flows over a school year) is not this figure."""
    statuses = [reg.status_at(c, as_of) for c in reg.children]
    counted = [s for s in statuses if s not in NOT_COUNTED]
    out = sum(s in OUT_OF_SCHOOL for s in counted)
    return Figure("dropout_rate", "辍学率", percent(out, len(counted)), out, len(counted),
                  "辍学率 = 月末就学状态为辍学或失学的儿童数 ÷ 月末应在本地接受义务教育的适龄儿童数（不含因身体原因不具备学习条件、"
                  "已完成义务教育、出国（境）、死亡、户籍迁出、转出）× 100%")


def returns(reg: Register, first: datetime, end: datetime) -> list:
    """The returns of ``first``..``end``: case events moving a child from the dropout stock
    (疑似辍学 after the report, 辍学) back to 在校 (a ``returned`` event, or a closure
    returned_after_report / returned_after_notice), oldest first."""
    return [r for r in reg.changes(reg.children, first, end)
            if r.status_before in DROPOUT_STOCK and r.status_after == "enrolled"]


def return_rate(reg: Register, first: datetime, as_of: datetime) -> Figure:
    """劝返率 = children brought back to school in the month (``returns``) ÷ (children in the
    dropout stock — 疑似辍学 after the report, or 辍学 — at the month's start + children who
    entered it during the month) × 100%. DOMAIN-REFERENCE §5.3's suggested 期内销号(已复学) ÷
    (期初辍学存量 + 期内新增辍学); the return is counted on the day the child is back (status
    在校), not on the later 销号, so every child counted above is counted below too."""
    stock = {c for c in reg.children if reg.status_at(c, first) in DROPOUT_STOCK}
    stock |= {r.child_id for r in reg.changes(reg.children, first, as_of)
              if r.status_after in DROPOUT_STOCK and r.status_before not in DROPOUT_STOCK}
    back = {r.child_id for r in returns(reg, first, as_of)} & stock
    return Figure("return_rate", "劝返率", percent(len(back), len(stock)), len(back), len(stock),
                  "劝返率 = 本月劝返复学（由疑似辍学或辍学恢复为在校）的儿童数 ÷（月初辍学存量 + 本月新增辍学）× 100%；"
                  "辍学存量指报告单已报送（疑似辍学）或返校期限届满仍未返校（辍学）的儿童")


def school_year_start(first: datetime) -> datetime:
    """1 September 00:00 (local) of the school year holding the month (§2.3: the year starts in autumn)."""
    year = first.year if first.month >= 9 else first.year - 1
    return first.replace(year=year, month=9, day=1)


def retention_rate(reg: Register, first: datetime, as_of: datetime) -> Figure:
    """巩固率 (年巩固率, DOMAIN-REFERENCE §5.3 [C-60]: 学年末学生数 ÷ 学年初学生数) so far in the
    school year = children on the rolls on 1 September (status neither out of school nor group
    D) still not out of school at ``as_of`` ÷ those of them still of compulsory schooling here
    at ``as_of`` (a transfer, move, death or 已完成 since then is 正常流动 and leaves both
    counts) × 100%. The cohort form (初中毕业班 ÷ 入学时一年级) needs the registry's entry
    cohorts, which the register does not hold: not computed."""
    start = school_year_start(first)
    cohort = [c for c in reg.children if reg.status_at(c, start) not in OUT_OF_SCHOOL | NOT_COUNTED]
    staying = [c for c in cohort if reg.status_at(c, as_of) not in NOT_COUNTED]
    kept = sum(reg.status_at(c, as_of) not in OUT_OF_SCHOOL for c in staying)
    return Figure("retention_rate", "巩固率（学年内）", percent(kept, len(staying)), kept, len(staying),
                  "巩固率 = 学年初（9月1日）在籍且本月末未辍学、未失学的儿童数 ÷ 学年初在籍且本月末仍应在本地接受义务教育的儿童数"
                  "（转出、迁出、死亡等正常流动不计）× 100%",
                  extra={"school_year_start": start.date().isoformat()})


def disabled_placement_rate(reg: Register, as_of: datetime) -> Figure:
    """残疾儿童安置率 = disabled children (flag ``disability``) placed at ``as_of`` — studying in
    any group-A way: 在校, 随班就读, 特教学校, 送教上门, 康复机构, 外地就读 — ÷ disabled children
    of compulsory schooling here at ``as_of`` × 100% (DOMAIN-REFERENCE §5.3). The denominator
    **excludes** children the county's expert committee found unable to study (因身体原因不具备
    学习条件, group D), as §4 excludes them from 失学辍学, and the other group-D statuses."""
    disabled = [c for c, child in reg.children.items() if DISABILITY in (child.special_groups or "").split(",")]
    counted = [reg.status_at(c, as_of) for c in disabled]
    counted = [s for s in counted if s not in NOT_COUNTED]
    placed = sum(s in PLACED for s in counted)
    return Figure("disabled_placement_rate", "残疾儿童安置率", percent(placed, len(counted)), placed, len(counted),
                  "残疾儿童安置率 =（在校 + 随班就读 + 特教学校 + 送教上门 + 康复机构 + 外地就读）的适龄残疾儿童数 ÷ "
                  "适龄残疾儿童数 × 100%；分母不含经专家委员会认定因身体原因不具备学习条件的儿童")


def median_days_to_return(reg: Register, first: datetime, as_of: datetime, zone) -> Figure:
    """首次缺课至返校天数（中位数）: for each return of the month (``returns``), the calendar days
    from the first day of the absence run that started its case (the attendance hand-off's first
    day; a case started by hand, e.g. a dropout tendency, from the day the case began) to the
    day of the return; a case the engine does not hold, from its first status change; the median
    of these (DOMAIN-REFERENCE §5.3 "median days from 疑似 to return"). Calendar days: see the module doc."""
    days = []
    for row in returns(reg, first, as_of):
        case = reg.cases.get(row.instance_id)
        began = case.first_absence if case and case.first_absence else \
            case.created_at if case else _first_event(reg, row)
        if isinstance(began, datetime):    # a moment: its local day (a first absence is a day already)
            began = began.astimezone(zone).date()
        days.append((row.at.astimezone(zone).date() - began).days)
    value = float(median(days)) if days else None
    return Figure("median_days_to_return", "首次缺课至返校天数（中位数）", value, None, len(days),
                  "本月每名劝返复学儿童从首次缺课（引发案件的连续缺课的第一天；手动发起的案件从立案之日）到返校之日的日历天数，取中位数",
                  unit="天", extra={"days": sorted(days)})


def _first_event(reg: Register, row) -> datetime:
    """A case the engine does not hold (an imported or older record): its first event's time."""
    return min(r.at for r in reg.events[row.child_id] if r.instance_id == row.instance_id)


def redropout_rate(reg: Register, first: datetime, as_of: datetime, now: datetime) -> Figure:
    """90 日内再次辍学率 = children brought back in the month (``returns``) who re-entered the
    dropout stock (疑似辍学 after a report, or 辍学) within 90 calendar days after the return ÷
    children brought back in the month × 100% (DOMAIN-REFERENCE §5.3 "re-dropout within 90
    days"). Seen up to now: ``watching`` counts returns whose 90 days have not all passed yet,
    so the value may still rise."""
    first_return: dict[int, datetime] = {}
    for row in returns(reg, first, as_of):
        first_return.setdefault(row.child_id, row.at)
    again = 0
    for child_id, back in first_return.items():
        window = reg.changes([child_id], back + timedelta(microseconds=1), back + timedelta(days=REDROP_DAYS))
        again += any(r.status_after in DROPOUT_STOCK and r.status_before not in DROPOUT_STOCK for r in window)
    watching = sum(back + timedelta(days=REDROP_DAYS) > now for back in first_return.values())
    return Figure("redropout_90d", "返校后90日内再次辍学率", percent(again, len(first_return)), again, len(first_return),
                  "90日内再次辍学率 = 本月劝返复学的儿童中，返校后90个日历天内再次进入辍学存量（疑似辍学或辍学）的人数 ÷ "
                  "本月劝返复学的儿童数 × 100%", extra={"watching": watching})
