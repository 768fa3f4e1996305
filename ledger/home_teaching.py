"""Home teaching (送教上门, 一人一策; processes/home_teaching.bpmn): the county's visit norm and
the schedule arithmetic the process's scripts call (``api.wiring.SCRIPT_FUNCTIONS``).

The norm (DOMAIN-REFERENCE §3.6; issue 11 "The plan"): at least ``visits_per_month`` visits a
month, each at least ``periods_per_visit`` class periods. It is a county setting, read from the
environment (README "Local settings"): ``BAOXUE_HOME_TEACHING_VISITS`` (default 2, 1-31) and
``BAOXUE_HOME_TEACHING_PERIODS`` (default 2, 1-8). A case takes the norm at its start
(``norm_visits_per_month``, ``norm_periods_per_visit``); the plan form refuses a plan below it
(``x-notBelow``, 422 naming the field) and the monthly check counts against it.
The case's start script calls ``home_teaching_norm`` inside the script sandbox, whose worker
inherits no environment: the server passes the two settings to it as it read them at
start-up (``norm_environment``, ``api.wiring``), and refuses to start on a wrong one.

The functions below run inside the script sandbox: plain values in, plain values out.
"""
from __future__ import annotations

from datetime import date, timedelta

from engine.errors import Conflict

from .case_handoff import OPEN_STATUSES
from .case_outcomes import STATUSES, status_label
from .local_rules import _number

PLACEMENTS = {"home_teaching": "送教上门", "inclusive_class": "随班就读", "special_school": "特殊教育学校",
              "rehabilitation": "康复机构", "exempt_health": "因身体原因不具备学习条件"}
WEEKDAYS = "一二三四五六日"


def home_teaching_norm() -> dict:
    """``{"visits_per_month": int, "periods_per_visit": int}`` from the environment (defaults
    2 and 2). Raises ValueError naming the variable when one is out of range."""
    return {"visits_per_month": _number("BAOXUE_HOME_TEACHING_VISITS", 2, 1, 31),
            "periods_per_visit": _number("BAOXUE_HOME_TEACHING_PERIODS", 2, 1, 8)}


NORM_SETTINGS = ("BAOXUE_HOME_TEACHING_VISITS", "BAOXUE_HOME_TEACHING_PERIODS")


def norm_environment() -> dict[str, str]:
    """The norm's settings as the script sandbox's worker gets them (``SandboxConfig.
    environment``): ``{BAOXUE_HOME_TEACHING_VISITS: "2", BAOXUE_HOME_TEACHING_PERIODS: "2"}``,
    read from this process's environment now. Raises ValueError naming a wrong one."""
    norm = home_teaching_norm()
    return dict(zip(NORM_SETTINGS, (str(norm["visits_per_month"]), str(norm["periods_per_visit"]))))


def month_plan(after: str, weekdays: list, first: str = "", last: str = "") -> dict:
    """The next teaching month of a plan: the month of the day after ``after`` (ISO date).
    ``{"slots": [ISO dates of its scheduled visits], "last_day": ISO date, "close_at": ISO
    date-time}``: the slots fall after ``after``, on ``weekdays`` (1 = Monday ... 7 =
    Sunday), from ``first`` and up to ``last`` (the plan's dates, if given) within the month;
    ``close_at`` is 07:00 (+08:00) of the next month's first day, when the month is counted."""
    start = date.fromisoformat(after[:10]) + timedelta(days=1)
    following = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
    last_day = following - timedelta(days=1)
    wanted = {int(day) for day in weekdays}
    days = [start + timedelta(days=n) for n in range((last_day - start).days + 1)]
    slots = [day.isoformat() for day in days if day.isoweekday() in wanted
             and (not first or day.isoformat() >= first[:10]) and (not last or day.isoformat() <= last[:10])]
    return {"slots": slots, "last_day": last_day.isoformat(), "close_at": following.isoformat() + "T07:00:00+08:00"}


def month_figures(visits: list, norm_visits: int, norm_periods: int) -> dict:
    """A month's visits against the norm: ``{"visits": n, "periods": n, "short_visits": n
    (visits below the periods norm), "visits_missing": n, "periods_missing": n, "met": bool}``.
    ``visits``: ``[{"on", "periods", ...}]`` as the process records them."""
    done = len(visits)
    periods = sum(int(v.get("periods") or 0) for v in visits)
    short = sum(1 for v in visits if int(v.get("periods") or 0) < norm_periods)
    missing_visits = max(0, norm_visits - done)
    missing_periods = max(0, norm_visits * norm_periods - periods)
    return {"visits": done, "periods": periods, "short_visits": short, "visits_missing": missing_visits,
            "periods_missing": missing_periods, "met": missing_visits == 0 and missing_periods == 0 and short == 0}


REFERRAL = "home_teaching_referral"
REFERRERS = ("head_teacher", "principal", "village_secretary", "task_force_leader", "task_force_deputy")


def referable(child) -> bool:
    """Whether ``child``'s 就学状态 lets a referral make sense: not one of group D (left
    compulsory schooling here: 转出, 死亡, 出国, 已完成义务教育 ... DOMAIN-REFERENCE §4)."""
    status = STATUSES.get(child.enrolment_status)
    return status is None or status.group != "D"


def refer(engine, principal, child) -> dict:
    """Refer ``child`` to home teaching as ``principal`` (issue 11 "Starting a case"): the
    message ``home_teaching_referral {child_id, referred_from}`` (referred_from: the role the
    person refers in, the first of REFERRERS they hold for this child's class, school,
    village or the town), which starts the
    child's home-teaching case or reaches the open one. Returns the engine's delivery result
    (``{message_id, status, reached, started, refused, ...}``). The caller checks who may
    (``access.can_refer_home_teaching``). Raises Conflict (409) for a child whose 就学状态
    is in group D (``referable``): nothing is sent."""
    if not referable(child):
        raise Conflict(f"该生就学状态为“{status_label(child.enrolment_status)}”，不在本镇接受义务教育，不能转介送教上门")
    units = {"head_teacher": child.class_code, "principal": child.school_code, "village_secretary": child.village_code}
    role = next((r for r in REFERRERS if principal.holds(r, units.get(r)) and (r not in units or units[r])), "unknown")
    result = engine.messages.deliver(REFERRAL, {"child_id": child.id}, {"referred_from": role},
                                     actor=principal.username)
    return result.to_dict()


VISIT_ELEMENTS = ("visit", "unscheduled_visit")


def child_section(engine, child_id: int) -> dict | None:
    """What the child page shows of the child's latest home-teaching case (issue 11): ``{id,
    open, stage, placement, committee_ref, committee_on, plan: {..., teachers} | None, norm:
    (visits, periods), visits_this_month, missed_this_month, visits: [recent visits], months:
    [{month, visits, periods, met}]}``, or None when the child never had one.
    ``visits_this_month``: the visits that took place this month (by their date);
    ``missed_this_month``: those recorded this month as not held (``month_counts``). ``teachers``: the plan's
    teachers by display name (the responsible one first); ``visits``: the last
    ``RECENT_VISITS`` recorded, newest first (``recent_visits``). The disability and the
    assessment stay on the case's task pages."""
    from sqlalchemy import select

    from engine.errors import NotFound
    from engine.persistence.models import ProcessInstance

    from .form_choices import display_names, named

    with engine.db.read() as session:
        case = session.scalars(select(ProcessInstance).where(
            ProcessInstance.process_key == "home_teaching", ProcessInstance.business_key == f"child:{child_id}")
            .order_by(ProcessInstance.id.desc()).limit(1)).first()
        if case is None:
            return None
        this_month = month_counts(session, case.id, engine.clock().astimezone(engine.zone).strftime("%Y-%m"),
                                  engine.zone)
        case_id, is_open = case.id, case.status in OPEN_STATUSES
        recent = recent_visits(session, case_id)

    def at(element):
        try:
            return engine.runtime.variables(case_id, element)
        except NotFound:
            return {}
    latest, placed, plan = at(None), at("record_placement"), at("countersign_plan")
    approved = plan.get("countersign_decision") == "countersign"
    teachers = plan_teachers(plan)
    with engine.db.read() as session:
        names = display_names(session, teachers + [v["by"] for v in recent])
    for visit in recent:
        visit["by"] = named(visit["by"], names)
    return {"id": case_id, "open": is_open, "stage": STAGES.get(latest.get("case_status"), "评估中"),
            "placement": PLACEMENTS.get(placed.get("placement"), ""), "committee_ref": placed.get("committee_ref", ""),
            "committee_on": placed.get("committee_on", ""),
            "plan": {**{key: plan.get(key) for key in ("plan_weekdays_label", "plan_visit_start", "plan_visit_end",
                                                        "plan_visits_per_month", "plan_periods_per_visit",
                                                        "plan_from", "plan_until")},
                     "teachers": named(teachers, names)} if approved else None,
            "norm": (latest.get("norm_visits_per_month"), latest.get("norm_periods_per_visit")),
            "visits_this_month": this_month["held"], "missed_this_month": this_month["missed"], "visits": recent,
            "months": at("close_month").get("month_checks", [])}


def plan_teachers(plan: dict) -> list[str]:
    """The usernames a plan names: a home-teaching plan's responsible teacher then its
    co-teachers (``plan_teacher``, ``plan_co_teachers``), an inclusive one's ``plan_teachers``."""
    named_ = [plan.get("plan_teacher"), *(plan.get("plan_co_teachers") or []), *(plan.get("plan_teachers") or [])]
    return list(dict.fromkeys(u for u in named_ if isinstance(u, str) and u))


RECENT_VISITS = 5


def _visit_completions(session, case_id: int, limit: int | None = None):
    """``[(element_id, actor, at, submitted)]`` of the case's visit completions, newest first
    (their audit events: what the teacher submitted, and who)."""
    import json

    from sqlalchemy import select

    from engine.persistence.models import AuditEvent

    query = select(AuditEvent.element_id, AuditEvent.actor, AuditEvent.at, AuditEvent.data).where(
        AuditEvent.instance_id == case_id, AuditEvent.kind == "task_completed",
        AuditEvent.element_id.in_(VISIT_ELEMENTS)).order_by(AuditEvent.id.desc())
    rows = session.execute(query.limit(limit) if limit else query).all()
    return [(element, actor, at, json.loads(data or "{}").get("submitted") or {}) for element, actor, at, data in rows]


def month_counts(session, case_id: int, month: str, zone) -> dict:
    """``{"held": n, "missed": n}`` of ``month`` (``YYYY-MM``): the visits that took place in
    it (``visit_held``, by ``visit_on``: as the monthly check counts them) and the visits
    recorded in it as not held (by the local day they were recorded: a missed visit has no
    date of its own)."""
    held = missed = 0
    for _element, _actor, at, sent in _visit_completions(session, case_id):
        if sent.get("visit_held") is True:
            held += str(sent.get("visit_on") or "")[:7] == month
        elif sent.get("visit_held") is False:
            missed += at.astimezone(zone).strftime("%Y-%m") == month
    return {"held": held, "missed": missed}


def recent_visits(session, case_id: int, limit: int = RECENT_VISITS) -> list[dict]:
    """The case's last ``limit`` recorded visits, newest first: ``[{on, start, end, periods,
    held, scheduled, by}]`` from the completions of its visit tasks (their audit events:
    what the teacher submitted, and who: ``by`` is the username)."""
    return [{"on": sent.get("visit_on", ""), "start": sent.get("visit_start", ""), "end": sent.get("visit_end", ""),
             "periods": sent.get("visit_periods"), "held": sent.get("visit_held") is True,
             "scheduled": element == "visit", "by": actor}
            for element, actor, _at, sent in _visit_completions(session, case_id, limit)]


STAGES = {"assessing": "评估与安置", "teaching": "送教中", "exempt": "不具备学习条件（每年复核）", "closed": "已结案"}
