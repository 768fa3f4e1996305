"""Incident service: what administrators see of failed steps, and their two ways out.

An incident is recorded by the command path (``runtime.executor``) when a script, a condition
or a timer expression fails: the command is rolled back and the instance waits in ``error``.
This façade lists and shows incidents and hands the two actions to the runtime service:
``retry`` (re-run the stored command) and ``resolve`` (abandon it, with a note).

Messages leave the engine through ``public_message`` only: one line, bounded, and never the
text of a database error (SQL, parameters), which would show table contents to a reader.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlalchemy import func, select

from .errors import InvalidInput, NotFound, StepFailed
from .instances import CommandResult
from .persistence.models import HumanTask, Incident, ProcessInstance

MESSAGE_MAX = 300    # characters of a shown message
STATUSES = ("open", "resolved")
MAX_PER_PAGE = 200
# Text that only a database driver or SQLAlchemy writes: the statement, its parameters, the link.
_DATABASE_TEXT = re.compile(r"\[SQL:|\[parameters:|sqlalche\.me|\((?:sqlite3|psycopg2?|pg8000|asyncpg)\.",
                            re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
DATABASE_ERROR = "database error while running the step (the statement is not shown)"


def public_message(text: str | None, limit: int = MESSAGE_MAX) -> str:
    """``text`` as it may be shown: database error text replaced by ``DATABASE_ERROR``,
    control characters dropped, whitespace runs collapsed to one space, at most ``limit``
    characters (cut with "…"). Escaping is the page's (Jinja) and the JSON encoder's job."""
    if not text:
        return ""
    if _DATABASE_TEXT.search(text):
        return DATABASE_ERROR
    text = " ".join(_CONTROL.sub("", text).split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class IncidentQuery:
    status: str | None = None          # open | resolved | None (both)
    process_key: str | None = None
    instance_id: int | None = None
    page: int = 1
    per_page: int = 50


class IncidentService:
    def __init__(self, engine):
        self.engine = engine

    def list(self, query: IncidentQuery) -> tuple[list[dict], int]:
        """(one page of incidents as ``view`` dicts, newest first; the total matching).

        Raises InvalidInput for a status other than open/resolved or a page out of range.
        """
        if query.status is not None and query.status not in STATUSES:
            raise InvalidInput("status must be open or resolved", errors={"status": "open or resolved"})
        if query.page < 1 or not 1 <= query.per_page <= MAX_PER_PAGE:
            raise InvalidInput("page out of range", errors={"page": f"page >= 1, 1 <= per_page <= {MAX_PER_PAGE}"})
        conditions = []
        if query.status:
            conditions.append(Incident.status == query.status)
        if query.process_key:
            conditions.append(ProcessInstance.process_key == query.process_key)
        if query.instance_id is not None:
            conditions.append(Incident.instance_id == query.instance_id)
        joined = select(Incident, ProcessInstance).join(ProcessInstance, Incident.instance_id == ProcessInstance.id)
        with self.engine.db.read() as session:
            total = session.scalar(select(func.count()).select_from(
                joined.where(*conditions).with_only_columns(Incident.id).subquery()))
            rows = session.execute(joined.where(*conditions).order_by(Incident.id.desc())
                                   .offset((query.page - 1) * query.per_page).limit(query.per_page)).all()
        return [view(incident, instance) for incident, instance in rows], total

    def get(self, incident_id: int) -> dict:
        """One incident's ``view`` plus ``task`` (the user task its command was completing:
        {task_id, name, status}, else None). Raises NotFound."""
        with self.engine.db.read() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                raise NotFound(f"incident {incident_id} not found")
            instance = session.get(ProcessInstance, incident.instance_id)
            task_id = _command(incident).get("task_id")
            task = session.get(HumanTask, task_id) if isinstance(task_id, str) else None
        detail = view(incident, instance)
        detail["task"] = {"task_id": task.id, "name": task.name, "status": task.status} if task else None
        return detail

    def retry(self, incident_id: int, *, actor: str | None) -> CommandResult:
        """Re-run the stored command (``RuntimeService.retry``). Raises NotFound, Conflict
        (already resolved), StepFailed (failed again: its message is the incident's new one,
        through ``public_message``; the incident stays open)."""
        try:
            return self.engine.runtime.retry(incident_id, actor=actor)
        except StepFailed as err:
            failed = self.get(incident_id)
            raise StepFailed(f"the retry failed again: {failed['message']}", instance_id=err.instance_id,
                             incident_id=err.incident_id, element_id=err.element_id) from None

    def resolve(self, incident_id: int, note: str, *, actor: str | None) -> CommandResult:
        """Close without a retry (``RuntimeService.resolve_incident``): InvalidInput, NotFound,
        Conflict as documented there."""
        return self.engine.runtime.resolve_incident(incident_id, note, actor=actor)


def _command(incident: Incident) -> dict:
    try:
        value = json.loads(incident.command)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def view(incident: Incident, instance: ProcessInstance | None) -> dict:
    """{incident_id, instance_id, process_key, business_key, instance_status, element_id,
    message (``public_message``), command (the failed command's type), status, resolution
    (retried|resolved|None), note, created_at, resolved_at, resolved_by}; times aware UTC."""
    return {
        "incident_id": incident.id, "instance_id": incident.instance_id,
        "process_key": instance.process_key if instance else None,
        "business_key": instance.business_key if instance else None,
        "instance_status": instance.status if instance else None,
        "element_id": incident.element_id, "message": public_message(incident.message),
        "command": _command(incident).get("type"), "status": incident.status,
        "resolution": incident.resolution, "note": incident.note, "created_at": incident.created_at,
        "resolved_at": incident.resolved_at, "resolved_by": incident.resolved_by,
    }
