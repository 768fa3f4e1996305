"""Responsibility agreements (目标责任书, issue 12): starting a year's campaign, answering the
process's questions, and the daily check of who holds a signing role.

The process (processes/responsibility_agreements.bpmn, agreement_unit.bpmn,
agreement_person.bpmn) knows no org units or people: where a tier starts it waits for an
``agreement_parties`` message correlated by ``agreement_ref`` (``2025-2026`` for the
campaign, ``2025-2026/zx`` for a unit). ``answer_requests`` finds those waits
(``message_subscription`` rows) and answers each from the register as it is at that moment:

* ``get_units``: every school and village of the town, with the deadline (the review's date,
  end of day) and the reminder (09:00, 3 working days before it);
* ``get_staff``: every active user holding the unit's staff role in the unit now (a school's
  head teachers in any of its classes, a village's grid workers), one entry per person;
* ``get_figures``: the year's persuasion cases per unit, for the year-end assessment, with
  the unit's signing state then (``agreement_views.signing_state``: who is still outstanding).

``daily_check`` (the worker, hourly; it acts once a day's facts changed) opens the campaign
of the school year once the autumn term has begun (``open_day``), starts a signing for
anyone who took up a staff role after their unit's tier 2 began, and withdraws the open
signing of anyone who no longer holds the role (README "Responsibility agreements").
"""
from __future__ import annotations

import json
import logging
import re
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.calendar import BusinessCalendar
from engine.errors import Conflict, InvalidInput
from engine.persistence.models import MessageSubscription, ProcessInstance

from .agreement_models import Agreement, AgreementCampaign
from .directory import subtree, town_code
from .models import Child, OrgUnit, RoleAssignment, User
from .status_models import CaseEventRecord

log = logging.getLogger(__name__)

PROCESS_KEY = "responsibility_agreements"
PERSON_PROCESS = "agreement_person"
PARTIES = "agreement_parties"
WITHDRAWN = "agreement_withdrawn"
STARTERS = ("livelihood_office", "task_force_deputy", "task_force_leader")
UNIT_KINDS = {  # org unit kind -> who signs for it, who signs inside it, which texts
    "school": {"head_role": "principal", "staff_role": "head_teacher",
               "agreement_kind": "town_school", "staff_kind": "school_head_teacher"},
    "village": {"head_role": "village_secretary", "staff_role": "grid_worker",
                "agreement_kind": "town_village", "staff_kind": "village_grid_worker"},
}
DEFAULT_TARGETS = {"dropout_target": 0.0, "return_target": 100.0}   # per cent
REMIND_WORKING_DAYS = 3        # issue 12: the reminder comes 3 working days before the deadline
LATE_WORKING_DAYS = 10         # a late joiner has at least this long to sign
DEADLINE_WORKING_DAYS = 20     # the default deadline after the campaign is opened
DEADLINE_HORIZON_DAYS = 180   # calendar days after the year's start (or the opening, if later): beyond, a typing slip
_YEAR = re.compile(r"^(20\d\d)-(20\d\d)$")


# --- school years -------------------------------------------------------------------------
def school_year_of(day: date) -> str:
    """The school year a day lies in: from August 1 to July 31 ("2025-2026")."""
    first = day.year if day.month >= 8 else day.year - 1
    return f"{first}-{first + 1}"


def check_school_year(value) -> str:
    """``"2025-2026"`` as given, or InvalidInput (422, field ``school_year``)."""
    match = _YEAR.match(str(value or ""))
    if not match or int(match.group(2)) != int(match.group(1)) + 1:
        raise InvalidInput("学年格式应为 2025-2026", errors={"school_year": "学年格式应为“2025-2026”（两个相连的年份）"})
    return str(value)


def year_bounds(school_year: str) -> tuple[date, date]:
    """First and last day of a school year (August 1 to July 31)."""
    first = int(school_year[:4])
    return date(first, 8, 1), date(first + 1, 7, 31)


def latest_deadline(school_year: str, today: date) -> date:
    """The latest signing deadline a campaign of ``school_year`` opened on ``today`` may take:
    DEADLINE_HORIZON_DAYS calendar days after the year's start (or after ``today`` when the
    year has already begun), and never after the year's last day. Relative to the year, not
    to today: next year's campaign opened in December may set a deadline in its autumn term
    (issue 12 review). The review form says the same (``x-notAfter`` ``$deadline_latest``)."""
    first, last = year_bounds(school_year)
    return min(last, max(today, first) + timedelta(days=DEADLINE_HORIZON_DAYS))


def check_deadline_in_year(school_year: str, deadline: date) -> None:
    """InvalidInput (422, field ``deadline``) unless the deadline lies in the school year: a
    campaign for next year signed before that year begins would bind last year's staff
    (issue 12 review M7). The review form says the same (``x-notBefore`` / ``x-notAfter``
    with ``$year_start`` / ``$year_end``)."""
    first, last = year_bounds(school_year)
    if not first <= deadline <= last:
        raise InvalidInput("截止日期不在该学年内", errors={
            "deadline": f"签订截止日期应在 {school_year} 学年内（{first.isoformat()} 至 {last.isoformat()}）"})


def year_end_at(school_year: str, zone, end_day: str = "07-15") -> str:
    """When the year-end assessment opens: ``end_day`` (MM-DD) of the year's second
    calendar year, 09:00 local, as an ISO date-time with its offset."""
    month, day = (int(part) for part in end_day.split("-"))
    return datetime.combine(date(int(school_year[5:]), month, day), time(9), zone).isoformat()


# --- the campaign -------------------------------------------------------------------------
def start_campaign(engine, actor: str | None, school_year: str, *, deadline: date | None = None,
                   dropout_target: float | None = None, return_target: float | None = None,
                   end_day: str = "07-15") -> dict:
    """Open the campaign of ``school_year``: a register row and an instance of
    ``responsibility_agreements`` whose first task is the office's review. Returns
    ``{campaign_id, instance_id, school_year}``.

    Raises InvalidInput (422: ``school_year`` not this school year or the next, ``deadline``
    in the past, outside the school year or after ``latest_deadline``, a target outside
    0-100) and Conflict (409) when the year already has a campaign (issue 12: a second
    campaign for the same school year is refused). Nothing is kept when the start fails.
    """
    school_year = check_school_year(school_year)
    now = engine.clock()
    today = now.astimezone(engine.zone).date()
    current = school_year_of(today)
    allowed = (current, school_year_of(year_bounds(current)[1] + timedelta(days=1)))
    if school_year not in allowed:   # a campaign for 2030 would hide this year's register (issue 12)
        raise InvalidInput("只能发起本学年或下一学年的签订", errors={
            "school_year": f"只能发起本学年（{allowed[0]}）或下一学年（{allowed[1]}）的签订"})
    calendar = BusinessCalendar(engine.zone)
    first, last = year_bounds(school_year)
    deadline = deadline or calendar.add_days(max(today, first), DEADLINE_WORKING_DAYS, "working")
    if deadline < today:
        raise InvalidInput("截止日期不能早于今天", errors={"deadline": "签订截止日期不能早于今天"})
    check_deadline_in_year(school_year, deadline)
    latest = latest_deadline(school_year, today)
    if deadline > latest:
        raise InvalidInput("截止日期过远", errors={"deadline": (
            f"签订截止日期不能晚于 {latest.isoformat()}（学年开始后 {DEADLINE_HORIZON_DAYS} 天内），请核对年份")})
    targets = {"dropout_target": DEFAULT_TARGETS["dropout_target"] if dropout_target is None else float(dropout_target),
               "return_target": DEFAULT_TARGETS["return_target"] if return_target is None else float(return_target)}
    targets = {key: int(value) if value.is_integer() else value for key, value in targets.items()}
    for field, value in targets.items():
        if not 0 <= value <= 100:
            raise InvalidInput("目标应在 0 至 100 之间", errors={field: "应在 0 至 100（%）之间"})
    try:
        with engine.db.transaction() as session:
            if session.scalar(select(AgreementCampaign.id).where(AgreementCampaign.school_year == school_year)):
                raise Conflict(f"{school_year} 学年的目标责任书签订已经发起，不能重复发起")
            town = session.get(OrgUnit, town_code(session))
            campaign = AgreementCampaign(school_year=school_year, status="review", started_by=actor, started_at=now,
                                         deadline=deadline, **targets)
            session.add(campaign)
            session.flush()
            campaign_id, town_name = campaign.id, town.name
    except IntegrityError:
        raise Conflict(f"{school_year} 学年的目标责任书签订已经发起，不能重复发起")
    variables = {"school_year": school_year, "town_name": town_name, **targets,
                 "deadline": deadline.isoformat(), "year_start": first.isoformat(), "year_end": last.isoformat(),
                 "deadline_latest": latest.isoformat(), "year_end_at": year_end_at(school_year, engine.zone, end_day)}
    try:
        result = engine.runtime.start(PROCESS_KEY, variables, business_key=f"agreements:{school_year}", actor=actor)
    except Exception:
        with engine.db.transaction() as session:
            session.delete(session.get(AgreementCampaign, campaign_id))
        raise
    with engine.db.transaction() as session:
        session.get(AgreementCampaign, campaign_id).instance_id = result.instance_id
    return {"campaign_id": campaign_id, "instance_id": result.instance_id, "school_year": school_year}


# --- answering the process ----------------------------------------------------------------
def answer_requests(engine) -> int:
    """Answer every waiting ``agreement_parties`` catch; returns how many were answered. A
    request the ledger cannot answer (an unknown unit) is logged and left waiting."""
    with engine.db.read() as session:
        waits = [(row.instance_id, row.element_id, json.loads(row.correlation)) for row in session.scalars(
            select(MessageSubscription).where(MessageSubscription.message_name == PARTIES,
                                              MessageSubscription.status == "waiting")
            .order_by(MessageSubscription.id))]
    answered = 0
    for instance_id, element_id, correlation in waits:
        ref = correlation.get("agreement_ref")
        try:
            payload = _answer(engine, instance_id, element_id, str(ref))
        except LookupError as exc:
            log.warning("agreement request %s of instance %s (%s) left unanswered: %s", element_id, instance_id, ref, exc)
            continue
        engine.messages.deliver(PARTIES, {"agreement_ref": ref}, payload, actor="ledger")
        answered += 1
    return answered


def _answer(engine, instance_id: int, element_id: str, ref: str) -> dict:
    if element_id == "get_units":
        return _units_answer(engine, instance_id)
    if element_id == "get_staff":
        with engine.db.read() as session:
            return {"staff": staff_of(session, ref.split("/")[1])}
    if element_id == "get_figures":
        from .agreement_views import signing_state   # the views build on this module
        with engine.db.read() as session:
            counts, signing = figures(session, ref), signing_state(session, ref, engine.clock())
        empty = {"agreement": "未发起", "staff": 0, "staff_signed": 0, "staff_pending": 0, "staff_overdue": 0,
                 "staff_refused": 0}
        return {"figures": {code: {**entry, **signing.get(code, empty)} for code, entry in counts.items()}}
    raise LookupError(f"no answer for {element_id}")


def _units_answer(engine, instance_id: int) -> dict:
    deadline = date.fromisoformat(str(engine.runtime.variables(instance_id)["deadline"])[:10])
    with engine.db.read() as session:
        units = units_of(session)
    return {"units": units, **deadline_moments(engine.zone, deadline)}


def deadline_moments(zone, deadline: date) -> dict:
    """``{deadline_at, reminder_at}`` as ISO date-times: the end of the deadline day, and
    09:00 on the day ``REMIND_WORKING_DAYS`` working days before it."""
    calendar, day, left = BusinessCalendar(zone), deadline, REMIND_WORKING_DAYS
    while left:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            left -= 1
    return {"deadline_at": datetime.combine(deadline, time(23, 59, 59), zone).isoformat(),
            "reminder_at": datetime.combine(day, time(9), zone).isoformat()}


def units_of(session) -> list[dict]:
    """Every school and village of the town, by sort order and code."""
    rows = session.scalars(select(OrgUnit).where(OrgUnit.kind.in_(tuple(UNIT_KINDS)))
                           .order_by(OrgUnit.kind, OrgUnit.sort, OrgUnit.code))
    return [unit_entry(row) for row in rows]


def unit_entry(row: OrgUnit) -> dict:
    return {"code": row.code, "name": row.name, "kind": row.kind, **UNIT_KINDS[row.kind]}


def staff_of(session, unit_code: str) -> list[dict]:
    """``[{username, name, role, org_unit}]``: each active user holding the unit's staff
    role in the unit or below it (their first such org unit by code), by username.
    LookupError for a unit that is not a school or village."""
    unit = session.get(OrgUnit, unit_code)
    if unit is None or unit.kind not in UNIT_KINDS:
        raise LookupError(f"{unit_code} is not a school or village")
    role = UNIT_KINDS[unit.kind]["staff_role"]
    rows = session.execute(
        select(User.username, User.display_name, RoleAssignment.org_unit_code)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role == role, RoleAssignment.org_unit_code.in_(sorted(subtree(session, unit_code))),
               User.active.is_(True))
        .order_by(User.username, RoleAssignment.org_unit_code))
    staff: dict[str, dict] = {}
    for username, name, org_unit in rows:
        staff.setdefault(username, {"username": username, "name": name, "role": role, "org_unit": org_unit})
    return list(staff.values())


def figures(session, school_year: str) -> dict:
    """``{unit code: {cases, returned, dropouts, open}}``: persuasion cases begun in the
    school year of children of each school and village (a child counts for both), those
    whose child came back (a ``returned`` event), those that reached 辍学 (``notice_expired``)
    and those still open."""
    first, last = year_bounds(school_year)
    result = {unit["code"]: {"cases": 0, "returned": 0, "dropouts": 0, "open": 0} for unit in units_of(session)}
    cases = [(instance_id, status, int(key.split(":", 1)[1]))
             for instance_id, status, key, created in session.execute(
                 select(ProcessInstance.id, ProcessInstance.status, ProcessInstance.business_key,
                        ProcessInstance.created_at).where(ProcessInstance.process_key == "persuasion"))
             if key and key.startswith("child:") and key[6:].isdigit() and first <= created.date() <= last]
    if not cases:
        return result
    children = {child_id: (school, village) for child_id, school, village in session.execute(
        select(Child.id, Child.school_code, Child.village_code).where(Child.id.in_({c[2] for c in cases})))}
    events: dict[int, set[str]] = {}
    for instance_id, event in session.execute(select(CaseEventRecord.instance_id, CaseEventRecord.event)
                                              .where(CaseEventRecord.instance_id.in_([c[0] for c in cases]))):
        events.setdefault(instance_id, set()).add(event)
    for instance_id, status, child_id in cases:
        seen = events.get(instance_id, set())
        for code in children.get(child_id, ()):
            if code in result:
                entry = result[code]
                entry["cases"] += 1
                entry["returned"] += "returned" in seen
                entry["dropouts"] += "notice_expired" in seen
                entry["open"] += status == "active"
    return result
