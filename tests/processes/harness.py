"""A test town on a movable clock, and the verbs a scenario speaks: report attendance,
look at an inbox, complete a task, let time pass (timers fire as ``baoxue timers fire-due``)."""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.calendar import BusinessCalendar
from engine.clock import FixedClock
from engine.persistence.models import AuditEvent, Message, ProcessInstance
from ledger.accounts import create_user
from ledger.child_status import apply_case_events
from tests.api.town import PASSWORD, build_town

ZONE = ZoneInfo("Asia/Shanghai")
CALENDAR = BusinessCalendar(ZONE)
EXTRA_USERS = {"civil": [("civil_affairs", "town")], "judicial": [("judicial_office", "town")],
               "livelihood": [("livelihood_office", "town")], "moral": [("moral_education_office", "zx")],
               "dpf": [("disabled_persons_federation", "town")], "tzx": [("home_teacher", "zx")],
               "bureau": [("county_bureau", "town")]}
U, E, P = "absent_unexcused", "absent_excused", "present"


class Town:
    """``town.at("2025-09-29")`` moves the clock (16:00 local by default); ``town.report(day,
    {child: status})`` posts attendance as the school's principal; ``town.inbox(user)``;
    ``town.complete(user, element_id, data)``; ``town.pass_until(moment)`` fires timers."""

    def __init__(self, app, engine, clock):
        self.app, self.engine, self.clock = app, engine, clock
        self.client = app.test_client()
        self._tokens: dict[str, tuple[datetime, dict]] = {}

    @classmethod
    def build(cls, settings, build_engine, create_app) -> "Town":
        clock = FixedClock(datetime(2025, 9, 1, 8, 0, tzinfo=ZONE))
        engine = build_engine(settings, clock=clock)
        engine.migrate()
        app = create_app(settings, engine=engine)
        build_town(engine)
        with engine.db.transaction() as session:
            for username, roles in EXTRA_USERS.items():
                create_user(session, username, username.upper(), PASSWORD, now=clock(), roles=roles)
        return cls(app, engine, clock)

    # --- time
    def at(self, day: str, hour: int = 16, minute: int = 0) -> datetime:
        moment = datetime.combine(date.fromisoformat(day), time(hour, minute), ZONE)
        assert moment >= self.clock(), f"time only moves forward ({moment} < {self.clock()})"
        self.clock.set(moment)
        return moment

    def pass_until(self, day: str, hour: int = 16) -> int:
        """Move the clock and fire every timer due by then (the worker's job); returns how many fired."""
        moment = self.at(day, hour)
        fired = self.engine.timers.fire_due(moment)
        apply_case_events(self.engine)      # the worker's timer job does the same
        return fired

    # --- people
    def headers(self, username: str) -> dict:
        issued, headers = self._tokens.get(username, (None, None))
        if issued is None or self.clock() - issued > timedelta(hours=6):
            response = self.client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            assert response.status_code == 201, response.json
            headers = {"Authorization": f"Bearer {response.json['token']}"}
            self._tokens[username] = (self.clock(), headers)
        return headers

    def report(self, day: str, records: dict, *, user: str = "pzx", school: str = "zx") -> dict:
        """Attendance for ``day`` (the clock moves to 16:00 that day unless already later)."""
        if self.clock() < datetime.combine(date.fromisoformat(day), time(16), ZONE):
            self.at(day)
        rows = [{"child_id": c, "status": s} for c, s in records.items()]
        response = self.client.post("/api/v1/attendance", headers=self.headers(user),
                                    json={"school_code": school, "date": day, "records": rows})
        assert response.status_code == 200, response.json
        return response.json

    def report_days(self, first: str, last: str, records: dict, **kwargs) -> list[dict]:
        """The same ``records`` on every school day from ``first`` to ``last`` (working days
        of the statutory calendar: the test town has no school calendar of its own)."""
        results, day = [], date.fromisoformat(first)
        while day <= date.fromisoformat(last):
            if CALENDAR.is_working_day(day):
                results.append(self.report(day.isoformat(), records, **kwargs))
            day += timedelta(days=1)
        return results

    def inbox(self, username: str) -> list[dict]:
        response = self.client.get("/api/v1/inbox", headers=self.headers(username))
        assert response.status_code == 200, response.json
        return response.json["items"]

    def names(self, username: str) -> list[str]:
        return sorted(item["name"] for item in self.inbox(username))

    def task(self, username: str, element_id: str) -> dict:
        found = [item for item in self.inbox(username) if item["name"] == element_id]
        assert len(found) == 1, (username, element_id, [i["name"] for i in self.inbox(username)])
        return found[0]

    def complete(self, username: str, element_id: str, data: dict) -> dict:
        task = self.task(username, element_id)
        response = self.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=self.headers(username),
                                    json={"data": data})
        assert response.status_code == 200, response.json
        return response.json

    def refused(self, username: str, element_id: str, data: dict) -> dict:
        """Submit ``data`` to the user's ``element_id`` task expecting a 422; its ``errors``."""
        task = self.task(username, element_id)
        response = self.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=self.headers(username),
                                    json={"data": data})
        assert response.status_code == 422, response.json
        return response.json["errors"]

    def complete_first(self, username: str, element_id: str, data: dict) -> dict:
        """Complete the first of several open ``element_id`` tasks in the user's inbox."""
        task = next(item for item in self.inbox(username) if item["name"] == element_id)
        response = self.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=self.headers(username),
                                    json={"data": data})
        assert response.status_code == 200, response.json
        return response.json

    # --- what happened
    def case(self, child_id: int) -> ProcessInstance:
        with self.engine.db.read() as session:
            rows = list(session.scalars(select(ProcessInstance).where(
                ProcessInstance.process_key == "persuasion",
                ProcessInstance.business_key == f"child:{child_id}").order_by(ProcessInstance.id)))
            assert len(rows) == 1, f"child {child_id} has {len(rows)} persuasion cases"
            session.expunge_all()
            return rows[0]

    def cases(self, child_id: int) -> list[ProcessInstance]:
        with self.engine.db.read() as session:
            rows = list(session.scalars(select(ProcessInstance).where(
                ProcessInstance.business_key == f"child:{child_id}").order_by(ProcessInstance.id)))
            session.expunge_all()
            return rows

    def variables(self, instance_id: int) -> dict:
        response = self.client.get(f"/api/v1/process-instances/{instance_id}", headers=self.headers("inspector"))
        assert response.status_code == 200, response.json
        return response.json

    def data(self, instance_id: int, element_id: str | None = None) -> dict:
        """The case's data as the last completed task (or ``element_id``'s) left it."""
        return self.engine.runtime.variables(instance_id, element_id)

    def tasks_in_order(self, instance_id: int) -> list[tuple[str, str, str | None]]:
        """(element, role, org unit) of every human task of the case, in the order they
        became ready, from the audit trail (``task_ready`` events)."""
        return [(e.element_id, e.data["role"], e.data["org_unit"]) for e in self.audit(instance_id, "task_ready")]

    def audit(self, instance_id: int, kind: str | None = None) -> list[SimpleNamespace]:
        """The instance's audit events (``kind``, ``element_id``, ``actor``, ``data`` as a dict)."""
        with self.engine.db.read() as session:
            query = select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
            return [SimpleNamespace(kind=row.kind, element_id=row.element_id, actor=row.actor,
                                    data=json.loads(row.data) if isinstance(row.data, str) else (row.data or {}))
                    for row in session.scalars(query) if kind is None or row.kind == kind]

    def history_verified(self, instance_id: int) -> bool:
        report = self.engine.history.verify_chain(instance_id)
        assert report.ok, report.problems
        return True

    def messages(self, name: str) -> list[Message]:
        with self.engine.db.read() as session:
            rows = list(session.scalars(select(Message).where(Message.name == name).order_by(Message.id)))
            session.expunge_all()
            return rows
