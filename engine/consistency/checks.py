"""The engine's own consistency checks (see ``engine.consistency``).

* ``instances``: every instance not yet completed or terminated is deserialized; one that
  does not load is a ``workflow_state`` finding; one that does is compared with the index
  tables, recomputed as ``runtime.projections`` would write them (without writing):
  ``human_task`` (one open row per ready user task), ``timer_job`` (one waiting job per
  waiting timer, due when the workflow says), ``message_subscription`` (one row per waiting
  message catch, same correlation and status); and an active instance with engine steps
  ready is marked for the worker's continuation (``pending_steps``), or they would never run.
* ``uncorrelatable``: message catches that wait without a value for a correlation property
  (a case started without its key): never matched, not an incident; an administrator sets
  the variable (``runtime.set_variables``).
* ``closed_instances``: open tasks, waiting timers or subscriptions left on an instance that
  is completed or terminated.
* ``audit_chain``: every instance's chain and the definitions chain verify, and no instance
  lacks its chain.
* ``incidents``: instances in error (open incidents), and error status and open incidents
  that disagree.

Each batch of rows is read in one ``db.snapshot()`` so that a command committing meanwhile
cannot make the tables seem to disagree.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Iterator
from uuid import UUID

from sqlalchemy import select
from SpiffWorkflow.util.task import TaskState

from ..audit import DEFINITIONS_STREAM, instance_stream, verify_chain
from ..incidents import public_message
from ..persistence.models import (
    HumanTask, Incident, MessageSubscription, ProcessInstance, TimerJob, WorkflowState,
)
from ..runtime.projections import expected_subscriptions, ready_human_tasks, waiting_timers
from ..runtime.steps import engine_work_left
from . import Check, Finding

BATCH = 100
OPEN_STATUSES = ("active", "error", "suspended")
CLOSED_STATUSES = ("completed", "terminated")


def _batches(engine, query) -> Iterator[list[int]]:
    with engine.db.read() as session:
        ids = list(session.scalars(query))
    for start in range(0, len(ids), BATCH):
        yield ids[start:start + BATCH]


def _grouped(session, model, *conditions) -> dict[int, list]:
    groups = defaultdict(list)
    for row in session.scalars(select(model).where(*conditions).order_by(model.id)):
        groups[row.instance_id].append(row)
    return groups


# ------------------------------------------------------------------ instances

def check_instances(engine) -> Iterable[Finding]:
    query = select(ProcessInstance.id).where(ProcessInstance.status.in_(OPEN_STATUSES)).order_by(ProcessInstance.id)
    for ids in _batches(engine, query):
        with engine.db.snapshot() as session:
            states = {s.instance_id: s.state for s in session.scalars(
                select(WorkflowState).where(WorkflowState.instance_id.in_(ids)))}
            tasks = _grouped(session, HumanTask, HumanTask.instance_id.in_(ids), HumanTask.status == "open")
            jobs = _grouped(session, TimerJob, TimerJob.instance_id.in_(ids), TimerJob.status == "waiting")
            subscriptions = _grouped(session, MessageSubscription, MessageSubscription.instance_id.in_(ids))
            unmarked = set(session.scalars(select(ProcessInstance.id).where(
                ProcessInstance.id.in_(ids), ProcessInstance.status == "active",
                ProcessInstance.pending_steps.is_(None))))
        for instance_id in ids:
            if instance_id not in states:
                yield Finding("workflow_state", "the instance has no workflow state row", instance_id)
                continue
            try:
                workflow = engine.store.loads(states[instance_id])
            except Exception as exc:  # noqa: BLE001 - whatever the serializer chokes on
                yield Finding("workflow_state", f"the workflow state does not load: {type(exc).__name__}: "
                                                f"{public_message(str(exc), 200)}", instance_id)
                continue
            yield from _diff_tasks(instance_id, workflow, tasks.get(instance_id, []))
            yield from _diff_timers(instance_id, workflow, jobs.get(instance_id, []))
            yield from _diff_subscriptions(instance_id, workflow, engine.store, subscriptions.get(instance_id, []))
            if instance_id in unmarked and engine_work_left(workflow):
                yield Finding("process_instance", "engine steps are ready but the instance is not marked to go on "
                                               "(pending_steps): the worker will never run them", instance_id)


def _state_name(workflow, task_id: str) -> str:
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except Exception:  # noqa: BLE001 - malformed id or SpiffWorkflow's own not-found
        task = None
    return "not in the workflow" if task is None else TaskState.get_name(task.state)


def _diff_tasks(instance_id, workflow, rows) -> Iterable[Finding]:
    ready = ready_human_tasks(workflow)
    by_id = {row.id: row for row in rows}
    for task_id, task in ready.items():
        element = task.task_spec.bpmn_id
        row = by_id.get(task_id)
        if row is None:
            yield Finding("human_task", f"ready user task {task_id} has no open human_task row", instance_id, element)
        elif row.element_id != element:
            yield Finding("human_task", f"human_task {task_id} says element {row.element_id}", instance_id, element)
    for task_id, row in by_id.items():
        if task_id not in ready:
            yield Finding("human_task", f"human_task {task_id} is open but the task is "
                                        f"{_state_name(workflow, task_id)}", instance_id, row.element_id)


def _diff_timers(instance_id, workflow, jobs) -> Iterable[Finding]:
    waiting = waiting_timers(workflow)
    by_task = defaultdict(list)
    for job in jobs:
        if job.kind == "event":
            by_task[job.task_id].append(job)
    for task_id, (task, due) in waiting.items():
        element, found = task.task_spec.bpmn_id, by_task.get(task_id, [])
        if not found:
            yield Finding("timer_job", f"waiting timer {task_id} (due {due.isoformat()}) has no waiting timer_job",
                          instance_id, element)
        elif len(found) > 1:
            yield Finding("timer_job", f"{len(found)} waiting timer_jobs for timer {task_id}: "
                                       f"#{', #'.join(str(j.id) for j in found)}", instance_id, element)
        elif found[0].due_at != due:
            yield Finding("timer_job", f"timer_job #{found[0].id} is due {found[0].due_at.isoformat()}, "
                                       f"the workflow says {due.isoformat()}", instance_id, element)
    for task_id, found in by_task.items():
        if task_id not in waiting:
            for job in found:
                yield Finding("timer_job", f"timer_job #{job.id} is waiting but the timer is "
                                           f"{_state_name(workflow, task_id)}", instance_id, job.element_id)


def _diff_subscriptions(instance_id, workflow, store, rows) -> Iterable[Finding]:
    def key(row: dict) -> tuple:
        return row["task_id"], row["element_id"], row["message_name"], f'{row["correlation"]} ({row["status"]})'
    expected = [key(row) for row in expected_subscriptions(workflow, store)]
    actual = [key({"task_id": r.task_id, "element_id": r.element_id, "message_name": r.message_name,
                   "correlation": r.correlation, "status": r.status}) for r in rows]
    for item in expected:
        if item in actual:
            actual.remove(item)
        else:
            yield Finding("message_subscription", f"waiting message catch of '{item[2]}' {item[3]} has no "
                                                  "message_subscription row", instance_id, item[1])
    for item in actual:
        yield Finding("message_subscription", f"message_subscription for '{item[2]}' {item[3]} but nothing "
                                              "waits for it", instance_id, item[1])


def check_uncorrelatable(engine) -> Iterable[Finding]:
    with engine.db.snapshot() as session:
        rows = session.scalars(select(MessageSubscription).join(
            ProcessInstance, MessageSubscription.instance_id == ProcessInstance.id).where(
            MessageSubscription.status == "uncorrelatable", ProcessInstance.status.in_(OPEN_STATUSES))
            .order_by(MessageSubscription.id)).all()
    for row in rows:
        yield Finding("uncorrelatable", f"waits for message '{row.message_name}' but has no value for "
                                        f"{row.missing}: no message can reach it; set the variable",
                      row.instance_id, row.element_id)


# ------------------------------------------------------------------ closed instances

def check_closed_instances(engine) -> Iterable[Finding]:
    closed = select(ProcessInstance.id).where(ProcessInstance.status.in_(CLOSED_STATUSES))
    with engine.db.snapshot() as session:
        leftovers = [
            *(("human_task", r.instance_id, r.element_id, f"human_task {r.id} is still open") for r in session.scalars(
                select(HumanTask).where(HumanTask.status == "open", HumanTask.instance_id.in_(closed)))),
            *(("timer_job", r.instance_id, r.element_id, f"timer_job #{r.id} is still waiting") for r in session.scalars(
                select(TimerJob).where(TimerJob.status == "waiting", TimerJob.instance_id.in_(closed)))),
            *(("message_subscription", r.instance_id, r.element_id, f"message_subscription for '{r.message_name}' "
               "is still there") for r in session.scalars(
                select(MessageSubscription).where(MessageSubscription.instance_id.in_(closed)))),
        ]
    for check, instance_id, element_id, message in leftovers:
        yield Finding(check, f"{message} on a closed instance", instance_id, element_id)


# ------------------------------------------------------------------ audit chains

def chain_problems(session, stream: str) -> tuple[int, list[str]]:
    """(events in ``stream``, its problems): the one place the chain is verified, so that a
    stronger verification (``audit``'s own ``verify_all``, say) replaces it here alone."""
    report = verify_chain(session, stream)
    return report.count, report.problems


def check_audit_chains(engine) -> Iterable[Finding]:
    with engine.db.snapshot() as session:
        count, problems = chain_problems(session, DEFINITIONS_STREAM)
    for problem in problems:
        yield Finding("audit_chain", problem, subject=f"stream {DEFINITIONS_STREAM}")
    for ids in _batches(engine, select(ProcessInstance.id).order_by(ProcessInstance.id)):
        with engine.db.snapshot() as session:
            results = {instance_id: chain_problems(session, instance_stream(instance_id)) for instance_id in ids}
        for instance_id, (count, problems) in results.items():
            if count == 0 and not problems:
                yield Finding("audit_chain", "the instance has no audit events", instance_id)
            for problem in problems:
                yield Finding("audit_chain", problem, instance_id)


# ------------------------------------------------------------------ incidents

def check_incidents(engine) -> Iterable[Finding]:
    with engine.db.snapshot() as session:
        rows = session.execute(select(Incident, ProcessInstance.status)
                               .join(ProcessInstance, Incident.instance_id == ProcessInstance.id)
                               .where(Incident.status == "open").order_by(Incident.id)).all()
        in_error = set(session.scalars(select(ProcessInstance.id).where(ProcessInstance.status == "error")))
    with_incident = set()
    for incident, status in rows:
        with_incident.add(incident.instance_id)
        if status != "error":
            yield Finding("incidents", f"incident #{incident.id} is open but the instance is {status}",
                          incident.instance_id, incident.element_id)
        else:
            yield Finding("incidents", f"in error since {incident.created_at.isoformat()} (incident #{incident.id}): "
                                       f"{public_message(incident.message)}", incident.instance_id, incident.element_id)
    for instance_id in sorted(in_error - with_incident):
        yield Finding("incidents", "the instance is in error without an open incident", instance_id)


ENGINE_CHECKS = [
    Check("instances", check_instances),
    Check("closed_instances", check_closed_instances),
    Check("uncorrelatable", check_uncorrelatable),
    Check("audit_chain", check_audit_chains),
    Check("incidents", check_incidents),
]
