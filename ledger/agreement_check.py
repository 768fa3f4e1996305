"""What keeps a year's agreements in step with the people (issue 12), run by the worker.

``after_step``: after any step that may have moved an agreement (a completion, a timer, a
message), apply what the processes said and answer what they asked, until nothing is left
(an answer starts tier 2, whose signings say "opened").

``daily_check`` (the worker's ``agreements`` job):

1. opens the campaign of the current school year once ``open_day`` (MM-DD, the autumn
   term's start; setting ``BAOXUE_AGREEMENT_OPEN_DAY``) has come, if the year has none: the
   office finds the review task in its inbox, so the campaign is never forgotten;
2. for each unit whose tier 2 has begun (its staff were named), starts ``agreement_person``
   on its own for anyone holding the staff role now who has no agreement for the year
   (business key ``agreement:<ref>``; deadline the campaign's, but at least
   ``LATE_WORKING_DAYS`` working days away);
3. withdraws the open signing of anyone who no longer holds the role there (or whose
   account is disabled): ``agreement_withdrawn`` interrupts their task (or the head's
   settling of their refusal), with the reason.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from engine.calendar import BusinessCalendar
from engine.errors import Conflict, NotFound
from engine.persistence.models import MessageSubscription

from .agreement_models import Agreement, AgreementCampaign
from .agreement_register import apply_agreement_events
from .agreements import (LATE_WORKING_DAYS, PARTIES, PERSON_PROCESS, WITHDRAWN, answer_requests, deadline_moments,
                         school_year_of, staff_of, start_campaign, unit_entry)
from .models import OrgUnit, RoleAssignment, User

log = logging.getLogger(__name__)


def after_step(engine, rounds: int = 5) -> int:
    """Apply agreement events and answer requests until both are done (at most ``rounds``
    times); returns how many things were done. A database setback is logged, not raised."""
    done = 0
    try:
        for _ in range(rounds):
            step = apply_agreement_events(engine) + answer_requests(engine)
            done += step
            if not step:
                break
        done += apply_agreement_events(engine)
    except Exception:  # noqa: BLE001 - the user's step is done; the worker's next run retries
        log.exception("agreements: left to the worker")
    return done


@dataclass
class CheckResult:
    opened: str | None = None                            # the school year opened
    started: list[str] = field(default_factory=list)     # refs of late joiners' signings
    withdrawn: list[str] = field(default_factory=list)   # refs withdrawn

    def summary(self) -> str | None:
        parts = ([f"campaign {self.opened} opened"] if self.opened else []) + (
            [f"{len(self.started)} signing(s) added"] if self.started else []) + (
            [f"{len(self.withdrawn)} signing(s) withdrawn"] if self.withdrawn else [])
        return "; ".join(parts) or None


def daily_check(engine, open_day: str | None = "09-01") -> CheckResult:
    """The daily check (see the module doc); ``open_day`` None leaves campaigns to people."""
    result = CheckResult()
    after_step(engine)
    today = engine.clock().astimezone(engine.zone).date()
    year = school_year_of(today)
    if open_day and today >= date(int(year[:4]), *map(int, open_day.split("-"))):
        with engine.db.read() as session:
            exists = session.scalar(select(AgreementCampaign.id).where(AgreementCampaign.school_year == year))
        if not exists:
            try:
                start_campaign(engine, None, year)
                result.opened = year
            except Conflict:
                pass
            except (LookupError, NotFound) as exc:   # no town set up, or the process not deployed
                log.info("agreements: the %s campaign is not opened: %s", year, exc)
    result.withdrawn.extend(_withdraw(engine))
    for variables, ref in _joiners(engine, today):
        try:
            engine.runtime.start(PERSON_PROCESS, variables, business_key=f"agreement:{ref}", actor=None)
            result.started.append(ref)
        except Conflict:   # already started by a concurrent check
            continue
    after_step(engine)
    return result


def withdraw_leavers(engine) -> list[str]:
    """Withdraw at once the open signing of anyone who no longer holds their staff role (or
    whose account is disabled), as the daily check does; returns the refs withdrawn. Called
    right after an administrator revokes a role or disables an account (api/rest/users.py,
    api/web/admin.py), so the leaver's released signing never sits in a colleague's inbox
    until the worker's next check (issue 12 review). A setback is logged, not raised: the
    role change is committed, and the worker's check retries."""
    try:
        withdrawn = _withdraw(engine)
        after_step(engine)
        return withdrawn
    except Exception:  # noqa: BLE001 - the administrator's change is done
        log.exception("agreements: withdrawing leavers' signings left to the worker")
        return []


def _withdraw(engine) -> list[str]:
    withdrawn = []
    for ref, reason in _leavers(engine):
        engine.messages.deliver(WITHDRAWN, {"agreement_ref": ref}, {"reason": reason}, actor="ledger")
        withdrawn.append(ref)
    return withdrawn


def _leavers(engine) -> list[tuple[str, str]]:
    with engine.db.read() as session:
        # Pending, or refused and waiting for the head to settle: either way the signing is open.
        open_rows = session.scalars(select(Agreement).where(Agreement.tier == 2,
                                                            Agreement.status.in_(("pending", "refused"))))
        found = []
        for row in open_rows:
            holds = session.scalar(
                select(RoleAssignment.id).join(User, User.id == RoleAssignment.user_id)
                .where(User.username == row.party_username, User.active.is_(True),
                       RoleAssignment.role == row.party_role, RoleAssignment.org_unit_code == row.party_unit))
            if holds is None and not _holds_elsewhere(session, row):
                found.append((row.ref, f"{row.party_name or row.party_username} 已不再担任该职务，签订任务撤回"))
        return found


def _holds_elsewhere(session, row: Agreement) -> bool:
    """Still holds the role somewhere in the same unit (moved from one class to another)."""
    return any(person["username"] == row.party_username for person in staff_of(session, row.unit_code))


def _joiners(engine, today: date) -> list[tuple[dict, str]]:
    calendar = BusinessCalendar(engine.zone)
    with engine.db.read() as session:
        found = []
        campaigns = session.scalars(select(AgreementCampaign).where(AgreementCampaign.status.in_(("signing", "signed"))))
        for campaign in campaigns:
            known = set(session.scalars(select(Agreement.ref).where(Agreement.campaign_id == campaign.id)))
            waiting = _waiting_refs(session)
            started_units = session.scalars(select(Agreement).where(
                Agreement.campaign_id == campaign.id, Agreement.tier == 1, Agreement.countersigned_at.is_not(None)))
            for unit_row in started_units:
                if unit_row.ref in waiting:   # countersigned, its staff not named yet: not late
                    continue
                unit = unit_entry(session.get(OrgUnit, unit_row.unit_code))
                deadline = max(campaign.deadline or today, calendar.add_days(today, LATE_WORKING_DAYS, "working"))
                for person in staff_of(session, unit_row.unit_code):
                    ref = f"{campaign.school_year}/{unit['code']}/{person['username']}"
                    if ref in known:
                        continue
                    found.append(({"school_year": campaign.school_year, "town_name": _town_name(session),
                                   "unit": unit, "person": {**person, "late": True},
                                   "dropout_target": campaign.dropout_target, "return_target": campaign.return_target,
                                   **deadline_moments(engine.zone, deadline)}, ref))
        return found


def _waiting_refs(session) -> set[str]:
    """The refs whose request for parties is not answered yet (their tier has not begun)."""
    rows = session.scalars(select(MessageSubscription.correlation).where(
        MessageSubscription.message_name == PARTIES, MessageSubscription.status == "waiting"))
    return {str(json.loads(row).get("agreement_ref")) for row in rows}


def _town_name(session) -> str:
    return session.scalar(select(OrgUnit.name).where(OrgUnit.kind == "town")) or ""
