"""Demo attendance (issue 4): a few weeks of generated 每日报平安, replayed through the real
ingestion path so that the demo's persuasion cases stand in every tier.

``replay(engine, advance)`` reports the last ``DAYS`` school days of every demo school
(``ledger.school_calendar``: statutory working days plus each school's own exceptions),
ending at the engine clock's local date or the last school day before it, in date order,
one ``ledger.attendance.record_day(engine, school, day, records, reported_by="principal-<school>")``
per school and day. Everyone is present except the children of ``SCRIPTS`` (unexcused runs
that start, advance or end their ``persuasion`` cases through the attendance outbox) and of
``EXCUSED`` (a guardian asked for leave: nothing starts, DOMAIN.md "Three-tier persuasion"
counts only unexcused days). After each day's reports, ``advance(step)`` is called for
the ``Step`` s scripted on that day (staff completing the open task, see
``ledger.demo_cases``), then due timers fire (``engine.timers.fire_due``: a return
deadline three working days after the notice was served, DOMAIN.md "Town supervises").

A script's days count back from the end: ``k`` = the k-th last school day replayed (1 =
the last). Children are picked with a seeded RNG from pupils who live in a village of the
town (the village tier needs its secretary), never from ``reserved`` ones (other demo cases).
Returns ``Replay`` ``{days, records, cases: {script name: [child id]}, excused: [child id]}``.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable, Collection

from sqlalchemy import select

from .attendance import record_day
from .case_outcomes import NOT_EXPECTED_AT_SCHOOL
from .child_status import apply_case_events
from .attendance_models import EXCUSED as EXCUSED_STATUS, PRESENT, UNEXCUSED
from .models import Child
from .school_calendar import school_calendar

DAYS = 20                 # four school weeks
MAX_LOOKBACK = 120        # calendar days searched for them (a long holiday fits)
SEED = 20251103


@dataclass(frozen=True)
class Script:
    """Unexcused from the ``absent[0]``-th to the ``absent[1]``-th last school day, present
    otherwise (so present again at ``absent[1] - 1`` when that is ≥ 1: the ``returned``
    message); ``steps``: (k, task element id) completed on the k-th last day."""

    name: str
    absent: tuple[int, int]
    steps: tuple[tuple[int, str], ...] = ()
    cause: str = "weariness"          # village_check answer (forms/village_check.schema.json)
    flag: str | None = None           # prefer a child with this special-group flag
    older: bool = False               # prefer a middle-school pupil (grade 7-9: most dropouts)


_TO_VILLAGE = ("phone_call", "home_visit", "visit_cosign", "village_check")
_TO_TOWN = ("dropout_report", "confirm_report", "issue_notice")
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
    Script("issue_notice", (6, 1), tuple(zip((6, 4, 4, 3, 2, 2), _TO_VILLAGE + _TO_TOWN[:2])), older=True),
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
)
# Excused days (k values) of children who asked for leave; one is off on the last day.
EXCUSED = ((1,), (2, 1), (7,), (12, 11, 10), (15,), (4, 3))
EXCUSED_REASONS = ("病假（发烧）", "事假（监护人请假）", "病假", "随家人探亲，已请假")


@dataclass(frozen=True)
class Step:
    """One task to complete: ``element_id`` of ``child``'s case on ``day`` (after that
    day's attendance); ``absent_days`` consecutive unexcused school days by then;
    ``last_present`` the school day before the run began; ``number`` a running number."""

    script: Script
    child: Child
    day: date
    element_id: str
    absent_days: int
    last_present: date
    number: int


@dataclass
class Replay:
    days: list[date] = field(default_factory=list)
    records: int = 0
    cases: dict[str, list[int]] = field(default_factory=dict)
    excused: list[int] = field(default_factory=list)


def replay(engine, advance: Callable[[Step], None], *, reserved: Collection[int] = ()) -> Replay:
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
    statuses: dict[tuple[int, date], tuple[str, str | None]] = {}
    steps: dict[date, list[Step]] = {}
    result = Replay(days=sorted({d for ds in days.values() for d in ds}))
    for number, (script, child) in enumerate(picked, start=1):
        result.cases.setdefault(script.name, []).append(child.id)
        mine = days[child.school_code]
        first, last = (_kth(mine, k) for k in script.absent)
        for k in range(script.absent[0], script.absent[1] - 1, -1):
            statuses[(child.id, _kth(mine, k))] = (UNEXCUSED, None)
        before = mine[mine.index(first) - 1]
        for k, element in script.steps:
            day = _kth(mine, k)
            run = len([d for d in mine if first <= d <= min(day, last)]) if day <= last else 0
            steps.setdefault(day, []).append(Step(script, child, day, element, run, before, number))
    taken = {c.id for _, c in picked} | set(reserved)
    for ks, child in zip(EXCUSED, rng.sample([c for c in pupils if c.id not in taken], len(EXCUSED))):
        result.excused.append(child.id)
        for k in ks:
            statuses[(child.id, _kth(days[child.school_code], k))] = (EXCUSED_STATUS, rng.choice(EXCUSED_REASONS))
    by_school = {s: [c for c in pupils if c.school_code == s] for s in schools}
    for day in result.days:
        for school in schools:
            if day not in days[school]:
                continue
            # A child whose case closed as 转出, 休学 ... meanwhile is off the roll (ledger.case_outcomes).
            with engine.db.read() as session:
                off = set(session.scalars(select(Child.id).where(
                    Child.school_code == school, Child.enrolment_status.in_(NOT_EXPECTED_AT_SCHOOL))))
            records = [_record(c.id, *statuses.get((c.id, day), (PRESENT, None))) for c in by_school[school]
                       if c.id not in off]
            outcome = record_day(engine, school, day, records, reported_by=f"principal-{school}")
            if outcome.case_errors:
                raise RuntimeError(f"demo attendance {school} {day}: {outcome.case_errors}")
            result.records += outcome.recorded
        for step in steps.get(day, []):
            advance(step)
        engine.timers.fire_due(engine.clock())
        apply_case_events(engine)     # as the worker does after its timer sweep
    return result


def _school_days(is_school_day: Callable[[date], bool], today: date) -> list[date]:
    """The last ``DAYS`` school days up to ``today``, oldest first."""
    found = [d for d in (today - timedelta(days=n) for n in range(MAX_LOOKBACK)) if is_school_day(d)]
    return sorted(found[:DAYS])


def _kth(days: list[date], k: int) -> date:
    return days[-k]


def _record(child_id: int, status: str, reason: str | None) -> dict:
    return {"child_id": child_id, "status": status, **({"reason": reason} if reason else {})}


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
