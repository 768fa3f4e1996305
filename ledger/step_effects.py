"""What the ledger does after a person completes a task, whoever drives the step: the pages
and REST (``api.taskactions.complete``) and the demo's replayed staff (``ledger.demo_*``).
One place, so a step taken by the demo leaves the same records as one taken on a page
(fresh-user review: the demo's confirmed reports were kept only when first opened, frozen
with later figures and missing from the county's list).
"""
from __future__ import annotations

from engine.persistence.models import HumanTask

from . import ht_documents, inspection_documents
from .agreement_check import after_step as agreements_after_step
from .agreement_tasks import AGREEMENT_PROCESSES
from .child_status import apply_now
from .document_versions import seal_after
from .inspection import PROCESSES as INSPECTION_PROCESSES

__all__ = ["after_completion"]


def after_completion(engine, row: HumanTask) -> None:
    """Right after ``row`` (the completed task) was completed: apply the case events it threw
    (the child's status and outcome, ``ledger.child_status``), keep the register of
    agreements current (``ledger.agreement_check``), and keep a confirmed dropout report, a
    countersigned home-teaching plan and an approved criticism notice as they are now (``document_versions``,
    ``ht_documents``). Failures are logged, never raised: the step itself is done, and the
    worker and the document pages catch up."""
    apply_now(engine)
    if row.process_key in AGREEMENT_PROCESSES:
        agreements_after_step(engine)
    seal_after(engine, row.instance_id, row.element_id)
    if row.process_key == ht_documents.PROCESS_KEY:
        ht_documents.seal_after(engine, row.instance_id, row.element_id)
    if row.process_key in INSPECTION_PROCESSES:      # an approved criticism notice, kept as issued
        inspection_documents.seal_after(engine, row.instance_id, row.element_id)
