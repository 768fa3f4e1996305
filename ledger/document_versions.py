"""Confirmed versions of the dropout report (issue 17: the document a later step sees is the
one that was confirmed).

When the principal confirms the report (``confirm_report`` with ``report_decision`` =
``confirm``), ``seal`` stores the report as it is then (``document_version``, masked copy:
the snapshot holds no full ID number). Later changes (a joint persuasion adds an attempt, a
report filed again after the case reopened) never touch it: the next confirmation is the
next version. ``seal`` is idempotent and runs after every task completion
(``api.taskactions.complete``) and, as a safety net, before a document is shown.
"""
from __future__ import annotations

import hashlib
import json
import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .document_case import Case
from .document_models import DocumentVersion
from .document_report import report
from .privacy import mask_name

log = logging.getLogger(__name__)
KIND = "dropout-report"


def confirmations(case: Case) -> list[dict]:
    """The case's ``confirm_report`` completions that confirmed (not sent back), in order."""
    return [s for s in case.all("confirm_report") if s["submitted"].get("report_decision", "confirm") == "confirm"]


def seal(engine, instance_id: int, case: Case | None = None) -> int:
    """Store every confirmation of the case not stored yet; returns how many were stored.
    A concurrent seal of the same confirmation loses on the unique key and is ignored."""
    case = case or Case(engine, instance_id)
    pending = confirmations(case)
    if not pending:
        return 0
    with engine.db.read() as session:
        done = set(session.scalars(select(DocumentVersion.confirmed_seq).where(
            DocumentVersion.instance_id == instance_id, DocumentVersion.kind == KIND)))
    rows = []
    for step in pending:
        if step["seq"] not in done:
            try:
                rows.append((step, {**report(case, upto=step["seq"]), "child": case.child()}))
            except LookupError:   # a confirmation with no report before it: nothing to keep
                continue
    if not rows:
        return 0
    try:
        with engine.db.transaction() as session:
            version = session.scalar(select(func.max(DocumentVersion.version)).where(
                DocumentVersion.instance_id == instance_id, DocumentVersion.kind == KIND)) or 0
            for number, (step, data) in enumerate(rows, start=version + 1):
                text = json.dumps(data, ensure_ascii=False, default=str)
                session.add(DocumentVersion(instance_id=instance_id, kind=KIND, version=number,
                                            confirmed_seq=step["seq"], confirmed_by=step["actor"],
                                            confirmed_at=step["at"], data=text,
                                            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest()))
    except IntegrityError:
        log.info("case %s: its report was sealed concurrently", instance_id)
        return 0
    return len(rows)


def seal_after(engine, instance_id: int, element_id: str) -> int:
    """``seal`` after a completion of ``element_id`` when it is the report's confirmation;
    a failure is logged, never the completion's (``build`` seals again before showing)."""
    if element_id != "confirm_report":
        return 0
    return seal_logged(seal, engine, instance_id, "the confirmed report")


def seal_logged(sealer, engine, instance_id: int, what: str) -> int:
    """``sealer(engine, instance_id)`` (the version kept, 0 for none) after the step that
    completes a document; a failure is logged, never the completion's: the step is done and
    the document's page seals again before showing it."""
    try:
        return sealer(engine, instance_id)
    except Exception:  # noqa: BLE001 - see the docstring
        log.exception("case %s: %s was not kept yet", instance_id, what)
        return 0


def versions(engine, instance_id: int) -> list[dict]:
    """[{version, confirmed_seq, confirmed_by, confirmed_at, data}] of the case, oldest first."""
    with engine.db.read() as session:
        rows = session.scalars(select(DocumentVersion).where(
            DocumentVersion.instance_id == instance_id, DocumentVersion.kind == KIND).order_by(DocumentVersion.version))
        return [{"version": r.version, "confirmed_seq": r.confirmed_seq, "confirmed_by": r.confirmed_by,
                 "confirmed_at": r.confirmed_at, "data": json.loads(r.data)} for r in rows]


def confirmed_cases(engine) -> list[dict]:
    """Every case with a confirmed report, latest version each, newest first:
    [{instance_id, version, confirmed_at, child_name, school, class_name, report_no, sent_on}]
    (masked data only: the list of the county bureau, ``api.web.documents``)."""
    with engine.db.read() as session:
        latest = select(DocumentVersion.instance_id, func.max(DocumentVersion.version).label("v")).where(
            DocumentVersion.kind == KIND).group_by(DocumentVersion.instance_id).subquery()
        rows = session.scalars(select(DocumentVersion).join(latest, (DocumentVersion.instance_id == latest.c.instance_id)
                                                            & (DocumentVersion.version == latest.c.v))
                               .where(DocumentVersion.kind == KIND).order_by(DocumentVersion.confirmed_at.desc()))
        found = []
        for r in rows:
            data = json.loads(r.data)
            child = data.get("child") or {}
            found.append({"instance_id": r.instance_id, "version": r.version, "confirmed_at": r.confirmed_at,
                          "child_id": child.get("id"), "child_name": mask_name(child.get("name", "")),
                          "school": child.get("school", ""), "class_name": child.get("class_name", ""),
                          "report_no": data.get("report_no", ""), "sent_on": data.get("sent_on", "")})
        return found
