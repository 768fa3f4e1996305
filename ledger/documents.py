"""Printable documents of a persuasion case (issues 4, 10 §6, 17): who may open them and
what each shows, as plain dicts for the page (``api.web.documents``) and the .docx
(``ledger.document_docx``). No Flask here.

* 《义务教育阶段学生辍学情况报告单》 (``dropout-report``, DOMAIN-REFERENCE §3.3;
  ``ledger.document_report``) exists once the school has filed it (``dropout_report``).
  While the principal has not confirmed the latest filing it is a draft; once confirmed,
  every later view shows the confirmed version (``ledger.document_versions``), whatever
  was recorded after it; older versions stay readable (``version=``).
* 《限期返校通知书》 (``return-notice``, §3.4, §5.1; ``ledger.document_notice``): a draft to
  print once the report is confirmed, the served notice once ``issue_notice`` is done.

Copies: the file copy masks the ID number and the 学籍号; the notice's copy served to the
guardian carries no ID number at all (issue 10 §7) and is printed by those who serve it
(``GUARDIAN_COPY_ROLES``). Who may open a case's documents: ``may_see``. Every view and
download goes to ``AccessLog`` (``record_view``; DOMAIN.md "Personal data").
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select

from engine.errors import Conflict
from engine.persistence.models import HumanTask, ProcessInstance

from . import access, document_versions, ht_documents
from .document_case import Case, cn_date  # noqa: F401 - cn_date is part of this module's surface
from .document_models import DocumentVersion
from .document_notice import notice
from .document_report import receipt, report

PROCESS_KEY = "persuasion"
MAX_ID = 2**31 - 1
GUARDIAN_COPY_ROLES = ("town_government", "task_force_leader", "task_force_deputy", "livelihood_office")
COUNTY_BUREAU = "county_bureau"


@dataclass(frozen=True)
class Kind:
    title: str
    step: str        # the step whose completion creates the document
    step_name: str
    copies: tuple    # "file" (masked); a notice also "guardian" (served to the guardian, no ID number)


KINDS = {"dropout-report": Kind("义务教育阶段学生辍学情况报告单", "dropout_report", "填报辍学情况报告单", ("file",)),
         "return-notice": Kind("限期返校通知书", "issue_notice", "签发并送达限期返校通知书", ("file", "guardian"))}


class NotReady(Conflict):
    """The document does not exist yet (409); ``message`` says which step creates it."""


def may_see(engine, principal, instance_id: int) -> bool:
    """May this person open the documents of ``instance_id``?

    * the candidates and supervisors of one of its tasks, the inspector and the town's task
      force (``ledger.access``: trace the case or view one of its tasks);
    * the town: the town government and the livelihood office, for every case of the town;
    * the county bureau, read-only, once the school's report is confirmed (its copy reached
      the county: DOMAIN-REFERENCE §3.3 "sent to the county and the 乡镇").
    False too when there is no such persuasion case."""
    if not 0 < instance_id <= MAX_ID:
        return False
    with engine.db.read() as session:
        instance = session.get(ProcessInstance, instance_id)
        if instance is None or instance.process_key != PROCESS_KEY:
            return False
        if any(principal.holds(role) for role in access.TOWN_ACTORS):
            return True
        if principal.holds(COUNTY_BUREAU):
            if session.scalar(select(DocumentVersion.id).where(DocumentVersion.instance_id == instance_id)
                              .limit(1)) is not None:
                return True
            # The county traces every case (access.CASE_READERS), but its copy of a document is
            # only what was sent to it: its other roles, if any, decide the rest.
            principal = replace(principal, assignments=tuple(
                a for a in principal.assignments if a.role != COUNTY_BUREAU))
        if access.can_trace_instance(session, principal, instance_id):
            return True
        tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id))
        return any(access.can_view_task(session, principal, t) for t in tasks)


def may_print_guardian_copy(principal) -> bool:
    """The guardian's copy of the notice: the town government, the task-force leader or
    deputy, or the livelihood office, who serve it (§3.4)."""
    return any(principal.holds(role) for role in GUARDIAN_COPY_ROLES)


def available(engine, instance_id: int, principal=None) -> list[dict]:
    """The case's documents, for its task pages: ``[{kind, title, step_name, url, docx_url,
    pending, guardian_url}]``. A document exists once its step is completed (the notice: a
    draft once the report is confirmed); while that step is open it is ``pending`` (url
    None). ``guardian_url`` only for those who ``may_print_guardian_copy``. A home-teaching
    case lists its own (``ht_documents.available``: the plan, the term record)."""
    process_key = engine.runtime.get(instance_id).process_key
    if process_key == ht_documents.PROCESS_KEY:
        return ht_documents.available(engine, instance_id, principal)
    if process_key != PROCESS_KEY:
        return []
    done = {e.element_id for e in engine.history.events(instance_id) if e.kind == "task_completed"}
    with engine.db.read() as session:
        open_steps = set(session.scalars(select(HumanTask.element_id).where(
            HumanTask.instance_id == instance_id, HumanTask.status == "open")))
    found = []
    for kind, spec in KINDS.items():
        if spec.step in done or spec.step in open_steps:
            ready = spec.step in done or (kind == "return-notice" and "confirm_report" in done)   # a draft
            url = f"/instances/{instance_id}/documents/{kind}" if ready else None
            guardian = url and "guardian" in spec.copies and principal is not None and may_print_guardian_copy(principal)
            found.append({"kind": kind, "title": spec.title, "step_name": spec.step_name, "url": url,
                          "docx_url": f"{url}.docx" if url else None, "pending": url is None,
                          "guardian_url": f"{url}?copy=guardian" if guardian else None})
    return found


def build(engine, instance_id: int, kind: str, *, copy: str = "file", version: int | None = None) -> dict:
    """Document ``kind`` of the case, as its template renders it: {kind, title, instance_id,
    copy, draft, child: ``Case.child``} plus the report's keys (``document_report.report``,
    and {confirmed, version, versions, received_by, received_on}) or the notice's
    (``document_notice.notice``). ``version``: a confirmed version of the report.
    Raises KeyError (no such kind, copy or version), NotReady (its step is not done yet)."""
    spec = KINDS[kind]
    if copy not in spec.copies or (version is not None and kind != "dropout-report"):
        raise KeyError(copy if copy not in spec.copies else version)
    case = Case(engine, instance_id)
    document_versions.seal(engine, instance_id, case)     # a confirmation not kept yet (safety net)
    kept = document_versions.versions(engine, instance_id)
    if kind == "dropout-report":
        if case.latest("dropout_report") is None:
            raise NotReady(f"《{spec.title}》尚未生成：“{spec.step_name}”办结后才能查看和打印。")
        doc = _report(case, kept, version)
    else:
        draft = case.latest("issue_notice") is None
        if draft and not kept:
            raise NotReady(f"《{spec.title}》尚未生成：校长审核报送辍学情况报告单后才能打印草稿。")
        doc = {**notice(case, kept[-1]["data"] if kept else None, draft=draft), "draft": draft}
        doc["child"] = case.child(id_number="none" if copy == "guardian" else "masked")
    doc.update(kind=kind, title=spec.title, instance_id=instance_id, copy=copy)
    return doc


def _report(case: Case, kept: list[dict], version: int | None) -> dict:
    """The confirmed version asked for, else the latest confirmed one unless a filing newer
    than it waits for the principal (then that draft, marked unconfirmed)."""
    numbers = [v["version"] for v in kept]
    if version is not None:
        chosen = next((v for v in kept if v["version"] == version), None)
        if chosen is None:
            raise KeyError(version)
    else:
        chosen = kept[-1] if kept and kept[-1]["data"]["filed_seq"] >= case.latest("dropout_report")["seq"] else None
    if chosen is None:
        doc = {**report(case), "child": case.child(), "confirmed": False, "version": None,
               "received_by": "", "received_on": ""}
    else:
        doc = {**chosen["data"], "confirmed": True, "version": chosen["version"],
               **receipt(case, after=chosen["confirmed_seq"])}
    doc.update(versions=numbers, draft=chosen is None, latest=chosen is None or chosen is kept[-1])
    return doc


def record_view(engine, username: str, doc: dict, action: str = "view") -> None:
    """Append the ``AccessLog`` row of one view (``action`` "view") or .docx download
    ("export"), own transaction: subject ``child:<id>``, detail {instance_id, document,
    copy, version, format}. No copy shows a full ID number, so none is a "reveal".

    The guardian's copy of the notice (``copy == "guardian"``) is the paper served on the
    guardian: opening or downloading it issues a copy that leaves the office, so it is logged
    as ``print`` (detail ``issued_to: guardian``), never as a mere view or export: the log
    must show who printed copies for a family and how often (DOMAIN-REFERENCE §7.2 4-5)."""
    fmt = "docx" if action == "export" else "html"
    detail = {"instance_id": doc["instance_id"], "document": doc["kind"], "copy": doc["copy"],
              "version": doc.get("version"), "format": fmt}
    if doc["copy"] == "guardian":
        action, detail["issued_to"] = "print", "guardian"
    with engine.db.transaction() as session:
        access.log_access(session, username, action, f"child:{doc['child']['id']}", detail, engine.clock())
