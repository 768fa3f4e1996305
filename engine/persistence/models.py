"""The engine's tables.

One row per deployed file set (``deployment``), per process version
(``process_definition``), per instance (``process_instance`` + ``workflow_state``),
and the projections that every command keeps in step with the workflow state:
``human_task``, ``timer_job``, ``message_subscription``. ``audit_event`` rows are
append-only and chained per stream with a keyed hash (``audit_stream`` holds each stream's
head; ``engine/audit``).

All times are timezone-aware UTC (``UtcDateTime``): SQLite has no zone type, and a
naive value read back would silently shift by the server's offset.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text,
    TypeDecorator, UniqueConstraint, text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator):
    """Stores aware datetimes as UTC; returns aware UTC datetimes on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class Deployment(Base):
    """An immutable set of files (BPMN, DMN, forms) stored once per content hash."""

    __tablename__ = "deployment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deployed_by: Mapped[str | None] = mapped_column(String(120))


class DeploymentFile(Base):
    __tablename__ = "deployment_file"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    __table_args__ = (UniqueConstraint("deployment_id", "name"),)


class ProcessDefinition(Base):
    """One version of one process key. Instances pin the row they started on."""

    __tablename__ = "process_definition"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_key: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    file_name: Mapped[str] = mapped_column(String(255))
    start_kinds: Mapped[str] = mapped_column(String(64))          # comma list: none,message,timer
    message_start_names: Mapped[str] = mapped_column(Text, default="")  # newline list
    timer_start: Mapped[str | None] = mapped_column(Text)
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deployed_by: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)   # why it was deployed (the editor requires one)
    # A version may repeat an older one's content (put back by ``Repository.redeploy``).
    __table_args__ = (
        UniqueConstraint("process_key", "version"),
        Index("ix_process_definition_key_hash", "process_key", "content_hash"),
    )


class DefinitionDraft(Base):
    """Diagram and forms an administrator is editing: stored, never run, until deployed.

    ``files`` is a JSON object {file name: text} (the BPMN and any form JSON it brings);
    ``base_definition_id`` the version it started from (None for a new process);
    ``deployed_definition_id`` the version it became. ``row_version`` refuses a save made
    on a stale copy (two administrators, one draft).
    """

    __tablename__ = "definition_draft"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_key: Mapped[str] = mapped_column(String(255), index=True)
    title: Mapped[str] = mapped_column(String(255))
    base_definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definition.id"))
    files: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deployed_definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definition.id"))
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": row_version}


# Open: not completed, not terminated (a suspended case is still the child's open case): 0012.
OPEN_BUSINESS_KEY = "status IN ('active', 'error', 'suspended') AND business_key IS NOT NULL"


class ProcessInstance(Base):
    """The instance row carries the optimistic-concurrency counter (``row_version``)."""

    __tablename__ = "process_instance"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(255), index=True)
    business_key: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # active|suspended|error|completed|terminated
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)
    started_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Engine steps left for the worker's continuation (engine.runtime.steps): the count of
    # steps run so far in this run; NULL when the instance waits on people, timers, messages.
    pending_steps: Mapped[int | None] = mapped_column(Integer, index=True)
    __mapper_args__ = {"version_id_col": row_version}
    # One open instance per (process, business key): migration 0003.
    __table_args__ = (Index("uq_process_instance_open_business_key", "process_key", "business_key", unique=True,
                            sqlite_where=text(OPEN_BUSINESS_KEY), postgresql_where=text(OPEN_BUSINESS_KEY)),)


class WorkflowState(Base):
    """SpiffWorkflow's serialized workflow, as text exactly as written.

    Never ``jsonb``: PostgreSQL reorders keys and SpiffWorkflow 3.2's delta task
    serializer then restores tasks with empty data, silently (SPIFFWORKFLOW-NOTES 10-A).
    """

    __tablename__ = "workflow_state"
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), primary_key=True)
    serializer_version: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(Text)


class HumanTask(Base):
    """The inbox index: one row per user/manual task, open or finished."""

    __tablename__ = "human_task"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task id
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(255))
    element_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(255))
    form_key: Mapped[str | None] = mapped_column(String(255))
    ui_form_key: Mapped[str | None] = mapped_column(String(255))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    priority: Mapped[int] = mapped_column(Integer, default=50)
    candidate_role: Mapped[str | None] = mapped_column(String(64))
    org_unit: Mapped[str | None] = mapped_column(String(64))
    unroutable: Mapped[bool] = mapped_column(Boolean, default=False)
    subject_id: Mapped[str | None] = mapped_column(String(64), index=True)
    assignee: Mapped[str | None] = mapped_column(String(120))
    # The one person the route named (Route.assignee): the task is theirs alone, listed only for them.
    reserved_for: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16))  # open|completed|cancelled
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(120))
    __table_args__ = (
        Index("ix_human_task_inbox", "status", "candidate_role", "org_unit", "due_at"),
        Index("ix_human_task_due", "status", "due_at"),
        Index("ix_human_task_assignee", "status", "assignee"),
    )


class TimerJob(Base):
    """A waiting timer: an event task of an instance, or a version's timer start event."""

    __tablename__ = "timer_job"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # event|start
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definition.id"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(255))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))  # waiting|fired|cancelled
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    repeat: Mapped[str | None] = mapped_column(Text)  # start cycles: JSON {cycles, seconds}
    __table_args__ = (Index("ix_timer_job_due", "status", "due_at"),)


class MessageSubscription(Base):
    """A catch event waiting for a named message, with the correlation values it expects."""

    __tablename__ = "message_subscription"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(255))
    message_name: Mapped[str] = mapped_column(String(255), index=True)
    correlation: Mapped[str] = mapped_column(Text)  # JSON {property: value}
    # waiting | uncorrelatable: a correlation property has no value in the instance (``missing``,
    # comma-separated names); such a catch never matches a message (engine.messages).
    status: Mapped[str] = mapped_column(String(16), default="waiting", server_default="waiting")
    missing: Mapped[str | None] = mapped_column(Text)


class MessageStart(Base):
    """A message start event of the latest version of a process key."""

    __tablename__ = "message_start"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    process_key: Mapped[str] = mapped_column(String(255))
    message_name: Mapped[str] = mapped_column(String(255), index=True)


class Message(Base):
    """Every message delivered to the engine, matched or not (nothing is dropped)."""

    __tablename__ = "message"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    correlation: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending|delivered|unmatched
    reached: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of instance ids
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sender: Mapped[str | None] = mapped_column(String(120), index=True)   # instance:<id>: linked cases
    # The outbox (engine.messages): attempts so far, when to try again, whose lease it is under.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class MessageDelivery(Base):
    """One message applied to one target (``instance:<id>`` or ``start:<definition id>``),
    written in the target's command transaction: a repeat delivery finds it and skips."""

    __tablename__ = "message_delivery"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"))
    target: Mapped[str] = mapped_column(String(64))
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    outcome: Mapped[str] = mapped_column(String(32))    # caught|missed|started|incident
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("message_id", "target", name="uq_message_delivery_target"),)


class Incident(Base):
    """A failed step: the instance is in ``error`` until an administrator retries it or resolves
    it without a retry (``resolution`` says which; a resolution without retry carries a note)."""

    __tablename__ = "incident"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    element_id: Mapped[str | None] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    command: Mapped[str] = mapped_column(Text)  # JSON of the command to re-run on retry
    status: Mapped[str] = mapped_column(String(16))  # open|resolved
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    resolution: Mapped[str | None] = mapped_column(String(16))  # retried|resolved (migration 0006)
    note: Mapped[str | None] = mapped_column(Text)              # why resolved without retry


class AuditStream(Base):
    """Head of one hash chain; a deleted last event shows as a mismatch here."""

    __tablename__ = "audit_stream"
    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    """Append-only: never updated, never deleted by the application."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stream: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    element_id: Mapped[str | None] = mapped_column(String(255))
    task_id: Mapped[str | None] = mapped_column(String(36))
    data: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # hmac-sha256 (keyed, since migration 0005) or sha256 (legacy): engine/audit/chain.py
    alg: Mapped[str] = mapped_column(String(16), server_default="sha256")
    key_id: Mapped[str | None] = mapped_column(String(16))
    __table_args__ = (UniqueConstraint("stream", "seq"),)


class CheckRun(Base):
    """One run of the consistency check (``engine.consistency``): when, clean or not, what it found."""

    __tablename__ = "check_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    finding_count: Mapped[int] = mapped_column(Integer)
    findings: Mapped[str] = mapped_column(Text)         # JSON list of {check, instance_id, element_id, message}
    duration_ms: Mapped[int] = mapped_column(Integer)
