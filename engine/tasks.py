"""Task service: the human-task index (inbox queries, claim, unclaim, assign).

Reads never deserialize a workflow. Claims change no workflow state, but they are state
changes of the case, so each is audited on the instance's chain in the same transaction,
and a conditional UPDATE makes two simultaneous claims end with one winner.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, false, func, or_, select, update

from .audit import append_event, instance_stream
from .errors import Conflict, InstanceInError, InstanceSuspended, NotFound
from .formschema import choice_fields
from .persistence.models import HumanTask, ProcessInstance
from .runtime.hooks import choice_context
from .runtime.locking import lock_instance


@dataclass
class TaskQuery:
    status: str | None = "open"
    instance_id: int | None = None
    process_key: str | None = None
    role: str | None = None
    org_units: list[str] | None = None
    assignee: str | None = None
    overdue_at: datetime | None = None   # only tasks due before this moment
    candidates: list[tuple[str, str]] | None = None   # (role, org unit) pairs; any may match
    subject_id: str | None = None
    # Whose inbox: a task reserved for another person (HumanTask.reserved_for) is left out,
    # unless it is now claimed by the viewer (a supervisor reassigned it).
    viewer: str | None = None
    # Tasks of suspended instances cannot be worked on (engine.lifecycle): an inbox leaves
    # them out; a case page or an administrator's view asks for them.
    include_suspended: bool = False
    page: int = 1
    per_page: int = 50


class TaskService:
    def __init__(self, engine):
        self.engine = engine

    def get(self, task_id: str) -> HumanTask:
        with self.engine.db.read() as session:
            row = session.get(HumanTask, task_id)
        if row is None:
            raise NotFound(f"task {task_id} not found")
        return row

    def list(self, query: TaskQuery) -> tuple[list[HumanTask], int]:
        """(rows of one page, total count); overdue first, then by due date, then oldest."""
        conditions = []
        if query.status:
            conditions.append(HumanTask.status == query.status)
        for column, value in ((HumanTask.instance_id, query.instance_id),
                              (HumanTask.process_key, query.process_key),
                              (HumanTask.candidate_role, query.role),
                              (HumanTask.assignee, query.assignee)):
            if value is not None:
                conditions.append(column == value)
        if query.org_units is not None:
            conditions.append(HumanTask.org_unit.in_(query.org_units))
        if query.overdue_at is not None:
            conditions.append(HumanTask.due_at < query.overdue_at)
        if query.subject_id is not None:
            conditions.append(HumanTask.subject_id == query.subject_id)
        if query.viewer is not None:
            conditions.append(or_(HumanTask.reserved_for.is_(None), HumanTask.assignee == query.viewer,
                                  and_(HumanTask.assignee.is_(None), HumanTask.reserved_for == query.viewer)))
        if not query.include_suspended:
            conditions.append(~select(ProcessInstance.id).where(
                ProcessInstance.id == HumanTask.instance_id, ProcessInstance.status == "suspended").exists())
        if query.candidates is not None:
            conditions.append(or_(false(), *(and_(HumanTask.candidate_role == role, HumanTask.org_unit == org)
                                             for role, org in query.candidates)))
        with self.engine.db.read() as session:
            total = session.scalar(select(func.count()).select_from(HumanTask).where(*conditions))
            rows = session.scalars(
                select(HumanTask).where(*conditions)
                .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.priority.desc(),
                          HumanTask.created_at, HumanTask.id)
                .offset((max(query.page, 1) - 1) * query.per_page).limit(query.per_page))
            return list(rows), total

    def choices(self, task_id: str) -> dict[str, list[tuple[str, str]]]:
        """``{field: [(value, label)]}`` for the fields of the task's form marked
        ``x-choicesFrom`` (``engine.formschema.choice_fields``): what the caller's
        ``form_choices`` hook offers on this task now, the very values completing it accepts.
        ``{}`` for a form without such fields. NotFound for an unknown task."""
        hook = self.engine.config.form_choices
        with self.engine.db.read() as session:
            row = session.get(HumanTask, task_id)
            if row is None:
                raise NotFound(f"task {task_id} not found")
            if not row.form_key:
                return {}
            definition_id = session.get(ProcessInstance, row.instance_id).definition_id
            rules = choice_fields(self.engine.repository.forms(definition_id, session).schema(row.form_key))
            context = choice_context(row, session)
            return {name: [(str(value), str(label)) for value, label in hook(context, rule)]
                    for name, rule in rules.items()}

    def claim(self, task_id: str, user: str, *, actor: str | None = None) -> HumanTask:
        """Make ``user`` the assignee; Conflict if the task is closed or claimed by someone else,
        InstanceInError (a Conflict, 409) if its instance has an open incident: nobody can
        complete the task until an administrator retries or resolves it, so nobody takes it;
        InstanceSuspended (a subclass) while its instance is suspended."""
        return self._set_assignee(task_id, user, actor or user, expect_free=True, kind="task_claimed")

    def unclaim(self, task_id: str, *, actor: str) -> HumanTask:
        return self._set_assignee(task_id, None, actor, expect_free=False, kind="task_unclaimed")

    def assign(self, task_id: str, user: str | None, *, actor: str) -> HumanTask:
        """Reassign regardless of the current assignee (a supervisor's or admin's act)."""
        return self._set_assignee(task_id, user, actor, expect_free=False, kind="task_assigned")

    def _set_assignee(self, task_id, user, actor, *, expect_free, kind) -> HumanTask:
        now = self.engine.clock()
        with self.engine.db.transaction() as session:
            row = session.get(HumanTask, task_id)
            if row is None:
                raise NotFound(f"task {task_id} not found")
            instance = lock_instance(session, row.instance_id)   # the lock order of engine.runtime.locking
            session.refresh(row)
            if row.status != "open":
                raise Conflict(f"task {task_id} is {row.status}")
            if expect_free and instance is not None and instance.status == "error":
                raise InstanceInError(f"instance {row.instance_id} is in error: its incident must be "
                                      "retried or resolved before the task can be claimed")
            if expect_free and instance is not None and instance.status == "suspended":
                raise InstanceSuspended(f"instance {row.instance_id} is suspended: resume it before "
                                        "the task can be claimed")
            condition = [HumanTask.id == task_id, HumanTask.status == "open"]
            if expect_free:
                if row.assignee == user:
                    return row
                condition.append(HumanTask.assignee.is_(None))
            previous = row.assignee
            changed = session.execute(update(HumanTask).where(*condition).values(assignee=user)
                                      .execution_options(synchronize_session=False)).rowcount
            if not changed:
                raise Conflict(f"task {task_id} is already claimed by {row.assignee}")
            append_event(session, instance_stream(row.instance_id), kind, at=now, actor=actor,
                         instance_id=row.instance_id, element_id=row.element_id, task_id=task_id,
                         data={"assignee": user, "previous": previous})
            session.refresh(row)
            return row
