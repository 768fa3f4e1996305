"""What a person may do with one task, checked in one place for the REST API and the pages.

Both front doors (``api/rest/tasks.py`` with bearer tokens, ``api/web/tasks.py`` with the
session cookie) call these functions, so "who may claim / release / complete" has exactly
one definition (the rules themselves live in ``ledger.access``):

* see: ``access.can_view_task``, else NotFound (no hint that the task exists);
* claim: a candidate (holds the task's role in its org unit), else Forbidden; a task whose
  route named one person (``access.reserved_for``) only that person;
* release: the holder of the claim, or a supervisor of the task, else Forbidden;
* complete: a candidate, and not claimed by someone else (Forbidden); a field that names
  who confirms (``x-accountName``) holds the caller's own name (``ledger.signatures``,
  InvalidInput); the engine then
  raises Conflict (already done, stale), InvalidInput ({field: 中文}) or StepFailed.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.errors import Forbidden, InstanceInError, InstanceSuspended, NotFound, StepFailed
from engine.persistence.models import HumanTask
from ledger import access, signatures, task_photos
from ledger.step_effects import after_completion

NOT_FOUND = "任务不存在 (task not found)"
IN_ERROR = "该案件运行出错，须由管理员处理故障（重试或标记已处理）后才能认领或办理此任务"
SUSPENDED = "案件已暂停，恢复后才能认领或办理此任务"


@dataclass(frozen=True)
class TaskRights:
    """What the caller may do with a task right now (for showing or hiding buttons)."""

    claim: bool
    unclaim: bool
    complete: bool


def visible_task(engine, principal, task_id: str) -> HumanTask:
    """The task row if the caller may see it; NotFound otherwise."""
    try:
        row = engine.tasks.get(task_id)
    except NotFound:
        raise NotFound(NOT_FOUND)
    with engine.db.transaction() as session:
        if not access.can_view_task(session, principal, row):
            raise NotFound(NOT_FOUND)
    return row


def rights(engine, principal, row: HumanTask) -> TaskRights:
    """The buttons to offer; each action re-checks, so this is only a hint for the page."""
    # A suspended case's tasks stay open but cannot be worked on (engine.lifecycle).
    is_open = row.status == "open" and engine.runtime.get(row.instance_id).status != "suspended"
    with engine.db.transaction() as session:
        supervisor = access.can_supervise(session, principal, row)
        candidate = access.can_work(principal, row) and access.reserved_for(session, row) in (None, principal.username)
    return TaskRights(
        claim=is_open and candidate and row.assignee is None
        and engine.runtime.get(row.instance_id).status not in ("error", "suspended"),
        unclaim=is_open and row.assignee is not None and (row.assignee == principal.username or supervisor),
        complete=is_open and candidate and row.assignee in (None, principal.username))


def claim(engine, principal, task_id: str) -> HumanTask:
    """Take the task (candidates only); the engine raises Conflict if someone else holds it,
    InstanceInError (409) while the case is in error (an open incident)."""
    row = visible_task(engine, principal, task_id)
    if not access.can_work(principal, row):
        raise Forbidden("只有该任务的候选人可以认领 (only candidates may claim)")
    _only_the_named_person(engine, principal, row)
    try:
        return engine.tasks.claim(task_id, principal.username)
    except InstanceSuspended as exc:
        raise InstanceSuspended(f"{SUSPENDED} ({exc.message})") from None
    except InstanceInError as exc:
        raise InstanceInError(f"{IN_ERROR} ({exc.message})") from None


def unclaim(engine, principal, task_id: str) -> HumanTask:
    """Release a task I hold (or, for a supervisor, anyone's)."""
    row = visible_task(engine, principal, task_id)
    with engine.db.transaction() as session:
        supervisor = access.can_supervise(session, principal, row)
    if row.assignee != principal.username and not supervisor:
        raise Forbidden("只能释放自己认领的任务 (not your claim)")
    return engine.tasks.unclaim(task_id, actor=principal.username)


def _only_the_named_person(engine, principal, row: HumanTask) -> None:
    with engine.db.read() as session:
        person = access.reserved_for(session, row)
    if person is not None and person != principal.username:
        raise Forbidden(f"该任务只能由 {person} 本人办理 (for {person} only)")


def complete(engine, principal, task_id: str, data: dict, files: dict | None = None):
    """Check the caller, then ``engine.runtime.complete_task``; returns its CommandResult.

    ``files``: ``{field: [ledger.task_photos.Upload]}`` for the form's photo fields: checked
    before anything is stored (TooLarge 413, InvalidInput 422 naming the field), named in
    the data by their hashes and stored in the completion's transaction (``task_photos``)."""
    row = visible_task(engine, principal, task_id)
    if not access.can_work(principal, row):
        raise Forbidden("您不是该任务的办理人 (not a candidate for this task)")
    if row.assignee and row.assignee != principal.username:
        raise Forbidden(f"该任务已由 {row.assignee} 认领 (claimed by {row.assignee})")
    _only_the_named_person(engine, principal, row)
    schema = engine.repository.forms(engine.runtime.get(row.instance_id).definition_id).schema(row.form_key) \
        if row.form_key else None
    with engine.db.read() as session:   # a signer's name is their own account's (issue 12)
        signatures.check_account_names(session, principal.username, schema, data)
    data, photos = task_photos.prepare(schema, data, files or {})
    try:
        result = engine.runtime.complete_task(task_id, data, actor=principal.username,
                                              also=task_photos.keeper(photos, row.instance_id, task_id))
    except InstanceSuspended as exc:
        raise InstanceSuspended(f"{SUSPENDED} ({exc.message})") from None
    except StepFailed:
        # The incident keeps the data with the photos' hashes for its retry: keep the photos too.
        task_photos.keep_for_retry(engine, photos, row.instance_id, task_id, principal.username)
        raise
    # The step may have told the ledger something (the child's status, an agreement signed, a
    # report confirmed): recorded now, so the next page shows it (ledger.step_effects).
    after_completion(engine, row)
    return result
