"""Which responsibility agreement a task is about, and who may see what of it (issue 12,
review M1 and M6).

A campaign runs as one instance (``responsibility_agreements``, with every unit's and
person's signing as called processes inside it), so "the case" of a signing task is the
whole town's campaign. Routing notes each agreement task's ``agreement_ref`` in its
``task_ready`` audit event (``ledger.routing.route_task``); from it:

* ``parties``: whose agreement an inbox row is (the unit, or the person and their unit);
* ``history_scope``: a task page shows the history of its own agreement only (tier 1: the
  unit's, with its staff's below it), and of those only the steps whose task the viewer may
  see (a colleague's personal signing is not theirs to see). Tracing the whole campaign
  (``/instances/<id>``, the REST instance views) is for the town (``access.can_trace_instance``).
"""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.persistence.models import AuditEvent, HumanTask

from . import access
from .directory import unit_names
from .models import User

AGREEMENT_PROCESSES = frozenset({"responsibility_agreements", "agreement_unit", "agreement_person"})
REF_NOTE = "agreement_ref"


def task_refs(session: Session, rows) -> dict[str, str]:
    """``{task id: agreement_ref}`` of the agreement tasks among ``rows`` (``HumanTask``)
    whose route noted one (tasks created before routing noted it have none)."""
    return noted_refs(session, rows, AGREEMENT_PROCESSES, REF_NOTE)


def noted_refs(session: Session, rows, processes, note: str) -> dict[str, str]:
    """``{task id: ref}``: what the route of each task of ``processes`` among ``rows`` noted
    under ``note`` in its ``task_ready`` audit event (``ledger.routing.PARTY_NOTES``)."""
    rows = [r for r in rows if r.process_key in processes]
    if not rows:
        return {}
    found = {}
    for task_id, data in session.execute(select(AuditEvent.task_id, AuditEvent.data).where(
            AuditEvent.instance_id.in_({r.instance_id for r in rows}), AuditEvent.kind == "task_ready",
            AuditEvent.task_id.in_([r.id for r in rows]))):
        ref = (json.loads(data or "{}").get("notes") or {}).get(note)
        if isinstance(ref, str) and ref:
            found[task_id] = ref
    return found


def parties(session: Session, rows) -> dict[str, dict]:
    """``{task id: {ref, tier, label, unit_name}}`` for the agreement tasks among ``rows``:
    ``label`` names the other party in words (tier 1 the unit: "蛟潭中心学校"; tier 2 the
    person and their unit: "王芳（蛟潭中心学校）"). A campaign's own tasks (its review, the
    year-end assessment) name no party."""
    refs = {task_id: ref.split("/") for task_id, ref in task_refs(session, rows).items() if "/" in ref}
    units = unit_names(session, {parts[1] for parts in refs.values()})
    usernames = {parts[2] for parts in refs.values() if len(parts) > 2}
    people = dict(session.execute(select(User.username, User.display_name)
                                  .where(User.username.in_(usernames))).all()) if usernames else {}
    found = {}
    for task_id, parts in refs.items():
        unit = units.get(parts[1], parts[1])
        if len(parts) > 2:
            label = f"{people.get(parts[2], parts[2])}（{unit}）"
        else:
            label = unit
        found[task_id] = {"ref": "/".join(parts), "tier": 2 if len(parts) > 2 else 1, "label": label, "unit_name": unit}
    return found


def history_scope(session: Session, principal, row: HumanTask) -> set[str] | None:
    """The task ids whose steps ``row``'s page may show ``principal``; None: everything (not an
    agreement task). Every step of the task's own agreement (the signer's, the head's
    settling of their refusal, the countersign); for a unit's agreement also its staff's, of
    those the tasks the person may see: one they may work (not one reserved for a colleague)
    or supervise, or any for the discipline inspector."""
    if row.process_key not in AGREEMENT_PROCESSES:
        return None
    rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == row.instance_id)))
    refs = task_refs(session, rows)
    own = refs.get(row.id)
    if own is None:
        return {row.id}
    inspector = principal.holds(access.INSPECTOR)
    shown = set()
    for task in rows:
        ref = refs.get(task.id)
        if ref is None or not (ref == own or ref.startswith(own + "/")):
            continue
        if ref == own or inspector or access.can_supervise(session, principal, task) or (
                access.can_work(principal, task) and access.reserved_for(session, task) in (None, principal.username)):
            shown.add(task.id)
    return shown
