"""Demo attendance (issue 4): twelve weeks of generated 每日报平安, replayed through the real
ingestion path so that the demo's persuasion cases stand in every tier, and a case closed
with each outcome has been followed to its end.

``replay(engine, advance)`` reports the last ``DAYS`` school days of every demo school
(``ledger.school_calendar``: statutory working days plus each school's own exceptions),
ending at the engine clock's local date or the last school day before it, in date order,
one ``ledger.attendance.record_day(engine, school, day, records, reported_by="principal-<school>")``
per school and day. Everyone is present except the children of ``SCRIPTS`` (unexcused runs
that start, advance or end their ``persuasion`` cases through the attendance outbox; a
medical leave's days excused) and of ``EXCUSED`` (a guardian asked for leave: nothing
starts, DOMAIN.md "Three-tier persuasion" counts only unexcused days). ``advance(engine,
step)`` is called for each ``Step`` scripted on a day (staff completing the open task, see
``ledger.demo_cases``) with the engine the day is played on; due timers fire after them
(``engine.timers.fire_due``: e.g. a return deadline three working days after the notice
was served, DOMAIN.md "Town supervises").

The older days (all but the last ``RECENT``) are played on their own day (``ledger.demo_past``):
at 08:30 due timers fire and the morning steps are done (a leave checked the morning it
ends), at 09:00 attendance is reported, at 17:00 the day's steps are done, at 17:30 due
timers fire again. So the weekly checks after a strike-off, two quiet weeks after a
tendency and the end of a medical leave come as they would; every case of those weeks
closes before the last ``RECENT`` days (RuntimeError otherwise: nothing of the past is left
overdue). The last ``RECENT`` days are played on ``engine``'s own clock, as the demo always
was: the open cases' tasks are due from today.

A script's days count back from the end: ``k`` = the k-th last school day replayed (1 =
the last); a script of the older weeks is written from the first replayed day (``_older``).
Children are picked with a seeded RNG from pupils who live in a village of the town (the
village tier needs its secretary), never from ``reserved`` ones (other demo cases).
Returns ``Replay`` ``{days, records, cases: {script name: [child id]}, excused: [child id]}``.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import partial
from typing import Callable, Collection

from sqlalchemy import select

from engine.persistence.models import HumanTask, ProcessInstance

from .attendance import record_day
from .case_handoff import PROCESS_KEY
from .case_outcomes import NOT_EXPECTED_AT_SCHOOL
from .child_status import apply_case_events
from .attendance_models import EXCUSED as EXCUSED_STATUS, PRESENT, UNEXCUSED
from .demo_past import PastEngine
from .models import Child
from .school_calendar import school_calendar

DAYS = 60                 # twelve school weeks
RECENT = 20               # the last four, played on the engine's own clock
MAX_LOOKBACK = 150        # calendar days searched for them (a long holiday fits)
SEED = 20251103
WEEKLY = "weekly_check"   # done the school day after it comes, by scripts with ``weekly``


@dataclass(frozen=True)
class Script:
    """Unexcused from the ``absent[0]``-th to the ``absent[1]``-th last school day (none for
    ``()``), present otherwise (so present again at ``absent[1] - 1`` when that is ≥ 1: the
    ``returned`` message); ``steps``: (k, task element id) completed on the k-th last day,
    ``morning`` the same before that day's attendance."""

    name: str
    absent: tuple[int, int] | tuple[()]
    steps: tuple[tuple[int, str], ...] = ()
    cause: str = "weariness"          # village_check answer (forms/village_check.schema.json)
    flag: str | None = None           # prefer a child with this special-group flag (else given it)
    older: bool = False               # prefer a middle-school pupil (grade 7-9: most dropouts)
    leave: tuple[int, int] | None = None   # a medical leave's excused days; back (its end) the day after
    placement: str = "home_teaching"  # the placement the principal or the county committee records
    morning: tuple[tuple[int, str], ...] = ()
    weekly: bool = False              # each weekly check after the strike-off (older weeks only)


def _older(script: Script) -> Script:
    """A script of the older weeks written from the first replayed school day (1 = the
    first), turned into k (from the end)."""
    k = lambda s: DAYS + 1 - s     # noqa: E731
    pairs = lambda steps: tuple((k(s), element) for s, element in steps)     # noqa: E731
    return replace(script, absent=tuple(map(k, script.absent)), steps=pairs(script.steps),
                   morning=pairs(script.morning), leave=tuple(map(k, script.leave)) if script.leave else None)


_TO_VILLAGE = ("phone_call", "home_visit", "visit_cosign", "village_check")
_TO_TOWN = ("dropout_report", "confirm_report", "issue_notice")
_BACK = ("restore_registry", "strike_off")
_PLACED = ("assess_school", "assess_federation", "placement", "registry_archive")   # processes/home_teaching.bpmn
SCRIPTS = (
    # School first: day 1 phone call (same day); day 2, not yet called; day 3 home visit.
    Script("phone_call", (1, 1)),
    Script("phone_call", (1, 1)),
    Script("phone_call", (2, 1)),
    Script("home_visit", (3, 1), ((3, "phone_call"),)),
    Script("home_visit", (3, 1), ((3, "phone_call"),)),
    # Village assists: day 4; in the second case the home visit is a day late: the village
    # check opened on day 4 all the same (issue 10 §3), the moral education office has still to co-sign.
    Script("village_check", (4, 1), ((4, "phone_call"), (2, "home_visit"), (2, "visit_cosign"))),
    Script("village_check", (4, 1), ((4, "phone_call"), (1, "home_visit"))),
    Script("civil_aid", (5, 1), tuple(zip((5, 3, 3, 2), _TO_VILLAGE)), cause="poverty", flag="poverty_alleviated"),
    # A lawful cause found at the village check leaves the legal path (issue 10 §2).
    Script("home_teaching", (4, 1), tuple(zip((4, 2, 2, 1), _TO_VILLAGE)), cause="disability", flag="disability"),
    # Town supervises: report to confirm, notice to issue, deadline passed, leader's decision.
    Script("confirm_report", (5, 1), tuple(zip((5, 3, 3, 2, 1), _TO_VILLAGE + _TO_TOWN[:1])), older=True),
    Script("issue_notice", (6, 1), tuple(zip((6, 4, 4, 3, 2, 2, 2), _TO_VILLAGE + _TO_TOWN[:2] + ("receive_report",))),
           older=True),
    Script("legal_education", (10, 1), tuple(zip((10, 8, 8, 7, 6, 6, 6), _TO_VILLAGE + _TO_TOWN)), older=True),
    Script("leader_decision", (13, 1),
           tuple(zip((13, 11, 11, 10, 9, 9, 9, 5), _TO_VILLAGE + _TO_TOWN + ("legal_education",))), older=True),
    # Back before the report (never a dropout, issue 10 §1): watched two weeks, then closed as
    # 劝返成功（未辍学）; and one still in its watch.
    Script("returned_before_report", (16, 15), ((16, "phone_call"),)),
    Script("watching", (3, 3), ((3, "phone_call"),)),
    # Back after the report: registry to restore, case to strike off, struck off and followed up.
    Script("restore_registry", (9, 3), tuple(zip((9, 7, 7, 6, 5, 5), _TO_VILLAGE + _TO_TOWN[:2]))),
    Script("strike_off", (10, 5), tuple(zip((10, 8, 8, 7, 6, 6, 3), _TO_VILLAGE + _TO_TOWN[:2] + ("restore_registry",)))),
    Script("followup", (16, 10), tuple(zip((16, 14, 14, 13, 12, 11, 8, 7), _TO_VILLAGE + _TO_TOWN[:2]
                                           + ("restore_registry", "strike_off"))), older=True),
    # Lawful reasons leave the legal path (issue 10 §2, processes/lawful_exit.bpmn): each closes
    # on the last replayed day (after it no unexcused day could open a new case), except the
    # medical leave, paused until its return date.
    Script("home_teaching_placed", (7, 1), tuple(zip((7, 5, 5, 4, 1), _TO_VILLAGE + ("home_teaching_placement",))),
           cause="disability", flag="disability"),
    Script("suspended", (8, 1), tuple(zip((8, 6, 6, 5, 5, 3, 2, 1), _TO_VILLAGE + (
        "illness_plan", "suspension_application", "suspension_approval", "suspension_record"))), cause="illness"),
    Script("medical_leave", (6, 1), tuple(zip((6, 4, 4, 3, 3), _TO_VILLAGE + ("illness_plan",))), cause="illness"),
    Script("transferred", (6, 1), tuple(zip((6, 4, 4, 3, 1), _TO_VILLAGE + ("verify_enrolment",))),
           cause="studying_elsewhere"),
    *(Script(cause, (6, 1), tuple(zip((6, 4, 4, 3, 1, 1), _TO_VILLAGE + ("record_exit_proof", "confirm_exit"))),
             cause=cause) for cause in ("moved_away", "abroad", "deceased")),
    # The village check finds child labour or early marriage: referred at once (support_measures.bpmn).
    # Last, so that the children picked for the scripts above stay the same.
    Script("labour_referral", (4, 1), tuple(zip((4, 2, 2, 1), _TO_VILLAGE)), cause="child_labour", older=True),
    Script("mandatory_report", (4, 1), tuple(zip((4, 2, 2, 1), _TO_VILLAGE)), cause="early_marriage", older=True),
    # The principal records an inclusive class; the leader refers a case to the county, the
    # office records the referral and the case waits, open, at the county bureau's record.
    Script("inclusive_class", (7, 1), tuple(zip((7, 5, 5, 4, 1), _TO_VILLAGE + ("home_teaching_placement",))),
           cause="disability", flag="disability", placement="inclusive_class"),
    Script("county_procedure", (13, 1), tuple(zip((13, 11, 11, 10, 9, 9, 9, 5, 3, 2), _TO_VILLAGE + _TO_TOWN + (
        "legal_education", "leader_decision", "county_referral"))), older=True),
    # The older weeks (days from the first replayed one), each case to its end. Back after the
    # report (day 6) and after the notice's deadline (day 10: it passed with day 8, the judicial
    # office saw the family on day 9): registry restored, struck off, four weekly checks.
    *map(_older, (
        Script("returned_after_report", (1, 5), tuple(zip((1, 3, 3, 4, 5, 5, 5, 6, 6), _TO_VILLAGE + _TO_TOWN + _BACK)),
               cause="family", weekly=True),
        Script("returned_after_notice", (1, 9), tuple(zip((1, 3, 3, 4, 5, 5, 5, 9, 10, 10), _TO_VILLAGE + _TO_TOWN
                                                          + ("legal_education",) + _BACK)),
               cause="family", weekly=True, older=True),
        # A tendency the head teacher flags and calls the family about; two quiet weeks clear it.
        Script("tendency_cleared", (), ((1, "flag_tendency"), (1, "phone_call"))),
        # A medical leave to day 10: back that day, the head teacher checks it that morning.
        Script("returned_after_leave", (1, 4), tuple(zip((1, 3, 3, 4, 4), _TO_VILLAGE + ("illness_plan",))),
               cause="illness", leave=(5, 9), morning=((10, "leave_check"),)),
        # The county committee's placement, recorded in the home-teaching case, closes the case.
        *(Script(placement, (1, 6), tuple(zip((1, 3, 3, 4, 5, 5, 6, 6), _TO_VILLAGE + _PLACED)),
                 cause="disability", flag="disability", placement=placement)
          for placement in ("special_school", "rehabilitation", "exempt_health")),
    )),
)
# Excused days (k values) of children who asked for leave; one is off on the last day.
EXCUSED = ((1,), (2, 1), (7,), (12, 11, 10), (15,), (4, 3))
EXCUSED_REASONS = ("病假（发烧）", "事假（监护人请假）", "病假", "随家人探亲，已请假")
LEAVE_REASON = "病假（住院治疗）"


@dataclass(frozen=True)
class Step:
    """One task to complete: ``element_id`` of ``child``'s case on ``day`` (after that
    day's attendance, or before it in the morning); ``until``: the end of the script's
    medical leave, if any; ``number`` a running number; ``optional``: done only if open."""

    script: Script
    child: Child
    day: date
    element_id: str
    number: int
    until: date | None = None
    optional: bool = False


@dataclass
class Replay:
    days: list[date] = field(default_factory=list)
    records: int = 0
    cases: dict[str, list[int]] = field(default_factory=dict)
    excused: list[int] = field(default_factory=list)


def replay(engine, advance: Callable[[object, Step], None], *, reserved: Collection[int] = ()) -> Replay:
    """Report the demo schools' last ``DAYS`` school days and play the scripts (see module)."""
    today = engine.clock().astimezone(engine.zone).date()
    with engine.db.read() as session:
        pupils = list(session.scalars(select(Child).where(Child.school_code.is_not(None),
                                                          Child.enrolment_status == "enrolled")
                                      .order_by(Child.id)))
        schools = sorted({c.school_code for c in pupils})
        calendar = school_calendar(session, engine.zone)
        days = {s: _school_days(lambda d, s=s: calendar.is_business_day(d, "school", s), today) for s in schools}
    rng = random.Random(SEED)
    picked = _pick(rng, pupils, set(reserved))
    _mark_flags(engine, picked)
    statuses: dict[tuple[int, date], tuple[str, str | None]] = {}
    steps: dict[tuple[date, bool], list[Step]] = {}
    result = Replay(days=sorted({d for ds in days.values() for d in ds}))
    recent = min(d for ds in days.values() for d in ds[-RECENT:])
    for number, (script, child) in enumerate(picked, start=1):
        result.cases.setdefault(script.name, []).append(child.id)
        mine = days[child.school_code]
        statuses.update(_script_days(script, child.id, mine))
        until = _kth(mine, script.leave[1] + 1) if script.leave else None
        for morning, scripted in ((True, script.morning), (False, script.steps)):
            for k, element in scripted:
                day = _kth(mine, k)
                steps.setdefault((day, morning), []).append(Step(script, child, day, element, number, until))
        if script.weekly:
            last = min(k for k, _ in script.steps)
            for day in (d for d in mine[len(mine) - last + 1:] if d < recent):
                steps.setdefault((day, False), []).append(Step(script, child, day, WEEKLY, number, optional=True))
    taken = {c.id for _, c in picked} | set(reserved)
    for ks, child in zip(EXCUSED, rng.sample([c for c in pupils if c.id not in taken], len(EXCUSED))):
        result.excused.append(child.id)
        for k in ks:
            statuses[(child.id, _kth(days[child.school_code], k))] = (EXCUSED_STATUS, rng.choice(EXCUSED_REASONS))
    by_school = {s: [c for c in pupils if c.school_code == s] for s in schools}
    with PastEngine(engine) as past:
        for day in result.days:
            older = day < recent
            if day == recent:
                _check_closed(engine, past.clock())
            # An older day is played on its own day, a recent one on today's clock.
            here = past.engine if older else engine
            at = partial(past.at, day) if older else (lambda hour, minute=0: None)
            if older:
                at(8, 30)
                _sweep(here)
            for step in steps.get((day, True), []):
                advance(here, step)
            at(9)
            for school in schools:
                if day in days[school]:
                    result.records += _report(here, school, day, by_school[school], statuses)
            at(17)
            for step in steps.get((day, False), []):
                advance(here, step)
            at(17, 30)
            _sweep(here)
    return result


def _script_days(script: Script, child_id: int, days: list[date]) -> dict[tuple[int, date], tuple[str, str | None]]:
    """The child's unexcused days and a medical leave's excused days."""
    marks: dict[tuple[int, date], tuple[str, str | None]] = {}
    for span, mark in ((script.absent, (UNEXCUSED, None)), (script.leave or (), (EXCUSED_STATUS, LEAVE_REASON))):
        if span:
            marks.update({(child_id, _kth(days, k)): mark for k in range(span[0], span[1] - 1, -1)})
    return marks


def _report(engine, school: str, day: date, pupils: list[Child], statuses) -> int:
    """One school's day through record_day, as its principal; a child whose case closed as 转出,
    休学 ... meanwhile is off the roll (ledger.case_outcomes). Returns the records stored."""
    with engine.db.read() as session:
        off = set(session.scalars(select(Child.id).where(
            Child.school_code == school, Child.enrolment_status.in_(NOT_EXPECTED_AT_SCHOOL))))
    records = [_record(c.id, *statuses.get((c.id, day), (PRESENT, None))) for c in pupils if c.id not in off]
    outcome = record_day(engine, school, day, records, reported_by=f"principal-{school}")
    if outcome.case_errors:
        raise RuntimeError(f"demo attendance {school} {day}: {outcome.case_errors}")
    return outcome.recorded


def _sweep(engine) -> None:
    engine.timers.fire_due(engine.clock())
    apply_case_events(engine)     # as the worker does after its timer sweep


def _check_closed(engine, moment) -> None:
    """Nothing of the older weeks is left open: no persuasion case, no task made before ``moment``."""
    with engine.db.read() as session:
        cases = session.scalars(select(ProcessInstance.business_key).where(
            ProcessInstance.process_key == PROCESS_KEY, ProcessInstance.status == "active")).all()
        tasks = session.scalars(select(HumanTask.element_id).where(
            HumanTask.status == "open", HumanTask.created_at <= moment)).all()
    if cases or tasks:
        raise RuntimeError(f"demo attendance: the older weeks left cases {cases} and tasks {tasks} open")


def _school_days(is_school_day: Callable[[date], bool], today: date) -> list[date]:
    """The last ``DAYS`` school days up to ``today``, oldest first."""
    found = [d for d in (today - timedelta(days=n) for n in range(MAX_LOOKBACK)) if is_school_day(d)]
    if len(found) < DAYS:
        raise RuntimeError(f"demo attendance: only {len(found)} school days in the last {MAX_LOOKBACK} days")
    return sorted(found[:DAYS])


def _kth(days: list[date], k: int) -> date:
    return days[-k]


def _record(child_id: int, status: str, reason: str | None) -> dict:
    return {"child_id": child_id, "status": status, **({"reason": reason} if reason else {})}


def _mark_flags(engine, picked: list[tuple[Script, Child]]) -> None:
    """A child picked for a ``flag`` script without the flag gets it on the register: the
    generated town has fewer disabled pupils than the scripts need."""
    with engine.db.transaction() as session:
        for script, child in picked:
            flags = [f for f in child.special_groups.split(",") if f]
            if script.flag and script.flag not in flags:
                session.get(Child, child.id).special_groups = child.special_groups = ",".join([*flags, script.flag])


def _pick(rng: random.Random, pupils: list[Child], reserved: set[int]) -> list[tuple[Script, Child]]:
    """A child for each script: schools in turn (a middle school's pupil for ``older``), a
    class not used yet where possible, the script's flag where some child has it; only
    pupils living in a village of the town (class codes are ``<school>-<grade>-<n>``)."""
    pool = [c for c in pupils if c.village_code and c.id not in reserved]
    schools = sorted({c.school_code for c in pool})
    picked: list[tuple[Script, Child]] = []
    used_children: set[int] = set()
    used_classes: set[str] = set()
    for index, script in enumerate(SCRIPTS):
        free = [c for c in pool if c.id not in used_children]
        flagged = [c for c in free if script.flag and script.flag in c.special_groups.split(",")]
        fits = [c for c in free if not script.older or int(c.class_code.split("-")[1]) >= 7]
        here = [c for c in fits if c.school_code == schools[index % len(schools)]] or fits
        options = flagged or [c for c in here if c.class_code not in used_classes] or here or free
        child = rng.choice(options)
        picked.append((script, child))
        used_children.add(child.id)
        used_classes.add(child.class_code)
    return picked
