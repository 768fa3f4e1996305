"""Helpers for the attendance, children and calendar page tests (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from engine.persistence.models import ProcessInstance
from ledger.attendance_models import AttendanceRecord, SchoolCalendarDay
from ledger.models import AccessLog

from .conftest import csrf_token

STANDIN = Path(__file__).resolve().parent.parent / "api" / "bpmn" / "persuasion_standin.bpmn"
U, E, P = "absent_unexcused", "absent_excused", "present"


def engine_of(town):
    return town.extensions["baoxue.engine"]


def deploy_persuasion(town) -> None:
    """The stand-in for processes/persuasion.bpmn the API attendance tests use."""
    engine_of(town).repository.deploy_paths([STANDIN], actor="admin")


def post(browser, path: str, data: dict | None = None, token_from: str = "/inbox", **kwargs):
    return browser.post(path, data={**(data or {}), "csrf_token": csrf_token(browser, token_from)}, **kwargs)


def html_of(response) -> str:
    return response.get_data(as_text=True)


def cases(town, child_id: int) -> list[tuple[int, str]]:
    """(id, status) of each persuasion case of the child, oldest first."""
    with engine_of(town).db.read() as session:
        rows = session.scalars(select(ProcessInstance).where(ProcessInstance.business_key == f"child:{child_id}")
                               .order_by(ProcessInstance.id))
        return [(r.id, r.status) for r in rows]


def start_variables(town, instance_id: int) -> dict:
    started = [e for e in engine_of(town).history.events(instance_id) if e.kind == "instance_started"]
    return json.loads(started[0].data)["variables"]


def stored(town) -> list[tuple]:
    with engine_of(town).db.read() as session:
        rows = session.scalars(select(AttendanceRecord).order_by(AttendanceRecord.date, AttendanceRecord.child_id))
        return [(r.child_id, r.date.isoformat(), r.status, r.reported_by) for r in rows]


def calendar_rows(town) -> list[tuple]:
    with engine_of(town).db.read() as session:
        rows = session.scalars(select(SchoolCalendarDay).order_by(SchoolCalendarDay.date))
        return [(r.org_unit_code, r.date.isoformat(), r.is_school_day, r.note) for r in rows]


def access_log(town, subject: str) -> list[tuple[str, str, dict]]:
    """(username, action, detail) of each AccessLog row about ``subject``."""
    with engine_of(town).db.read() as session:
        rows = session.scalars(select(AccessLog).where(AccessLog.subject == subject).order_by(AccessLog.id))
        return [(r.username, r.action, json.loads(r.detail or "{}")) for r in rows]
