"""Which unit an inspection task is about (issue 13). A round runs as one instance
(``inspection``, with every unit's inspection a called ``inspection_unit`` inside it); routing
notes each unit task's ``inspection_ref`` (``2026Q4/zx``) in its ``task_ready`` audit event
(``ledger.routing.PARTY_NOTES``). The inspector's task is the town's (org unit: the town), so
the inbox names the inspected unit from this note."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.persistence.models import HumanTask

from . import access

from .agreement_tasks import noted_refs
from .directory import unit_names
from .inspection import PROCESSES

REF_NOTE = "inspection_ref"


def task_units(session: Session, rows) -> dict[str, str]:
    """``{task id: unit code}`` for the inspection tasks among ``rows`` about one unit."""
    return {task_id: ref.split("/", 1)[1] for task_id, ref in noted_refs(session, rows, PROCESSES, REF_NOTE).items()
            if "/" in ref}


def inspected(session: Session, rows) -> dict[str, dict]:
    """``{task id: {ref, tier, label, unit_name, unit}}`` as ``agreement_tasks.parties`` shapes an
    inbox row's party (tier 1: a unit), ``label`` ``督查对象：蛟潭中心学校``."""
    units = task_units(session, rows)
    names = unit_names(session, set(units.values()))
    return {task_id: {"ref": code, "tier": 1, "unit": code, "unit_name": names.get(code, code),
                      "label": names.get(code, code), "kind": "inspection"}
            for task_id, code in units.items()}


def history_scope(session: Session, principal, row: HumanTask) -> set[str] | None:
    """The task ids whose steps ``row``'s page may show ``principal``; None: everything (not an
    inspection task, or a viewer who traces the round). A unit's head, on their rectification,
    sees their own unit's steps only, never another unit's findings."""
    if row.process_key not in PROCESSES or access.can_trace_instance(session, principal, row.instance_id):
        return None
    rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == row.instance_id)))
    units = task_units(session, rows)
    own = units.get(row.id)
    return {task.id for task in rows if own is not None and units.get(task.id) == own} | {row.id}
