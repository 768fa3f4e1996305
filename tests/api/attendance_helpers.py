"""Helpers for the attendance tests: post a day, read what is stored."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ledger.attendance_models import AttendanceRecord, SchoolCalendarDay

U, E, P = "absent_unexcused", "absent_excused", "present"


def post_day(client, as_user, day: str, records: dict | list, *, user: str = "pzx", school: str = "zx"):
    """``records``: {child_id: status} or a raw list; returns the response."""
    rows = [{"child_id": c, "status": s} for c, s in records.items()] if isinstance(records, dict) else records
    return client.post("/api/v1/attendance", headers=as_user(user),
                       json={"school_code": school, "date": day, "records": rows})


def counts(client, as_user, day: str, records: dict, **kwargs) -> dict[int, int]:
    """Post and return {child_id: consecutive_unexcused} of the changed children."""
    response = post_day(client, as_user, day, records, **kwargs)
    assert response.status_code == 200, response.json
    return {o["child_id"]: o["consecutive_unexcused"] for o in response.json["outcomes"]}


def stored(app) -> list[tuple[int, date, str]]:
    with app.extensions["baoxue.engine"].db.read() as session:
        rows = session.scalars(select(AttendanceRecord).order_by(AttendanceRecord.date, AttendanceRecord.child_id))
        return [(r.child_id, r.date, r.status) for r in rows]


def set_calendar_day(app, unit: str, day: date, is_school_day: bool, note: str = "") -> None:
    with app.extensions["baoxue.engine"].db.transaction() as session:
        session.add(SchoolCalendarDay(org_unit_code=unit, date=day, is_school_day=is_school_day, note=note))
