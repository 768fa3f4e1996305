"""Printable papers of a quarterly inspection round (issue 13), as plain dicts for the pages
(``api.web.inspections``); no Flask here.

* 《通报批评》 (``notice``): drafted from a unit's findings (the failed items and their notes,
  the inspectors' remarks once revised), a draft until the task-force leader approves it; the
  approval's day is the notice's date and the rectification deadline is
  ``RECTIFY_WORKING_DAYS`` working days after it (as processes/inspection_unit.bpmn counts).
  The approved notice is kept as issued (``seal``: a ``document_version`` with the SHA-256 of
  its text, the hash appended to the round's audit chain as ``document_sealed``), as a
  confirmed dropout report is; later steps (the rectification) never change it.
* 季度督查总结报告 (``summary``): every unit's findings, notice, rectification rounds and
  overdue escalations, with the inspectors' summary and the leader's approval.

Both read the round's completed steps (``ledger.document_case.Case``: ``task_completed`` audit
events) and which unit each step was about (``ledger.inspection_tasks``). Who may open them:
``may_see``; every view is logged (``record_view``).
"""
from __future__ import annotations

import hashlib
import json
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.audit import append_event, instance_stream
from engine.calendar import add_working_days
from engine.persistence.models import HumanTask, ProcessInstance

from . import access
from .access_log import log_access
from .document_case import Case, cn_date
from .document_models import DocumentVersion
from .document_versions import seal_logged
from .inspection import PROCESS_KEY, RECTIFY_WORKING_DAYS, round_variables
from .inspection_tasks import task_units

log = logging.getLogger(__name__)
NOTICE = "inspection-notice"     # document_version.kind: one version per approval, the unit in its data
ITEMS = (("census", "摸底排查"), ("monitoring", "日常监测"), ("persuasion", "劝返工作"), ("duties", "责任落实"),
         ("records", "台账资料"))
HEADS = {"school": "校长", "village": "村（场、社区）书记"}


def may_see(engine, principal, instance_id: int, unit_code: str | None = None) -> bool:
    """Who traces the round (the inspectors, the task force, the town: ``access``), or, for one
    unit's notice, who may view a task of that unit in it (its head, for the rectification)."""
    if not 0 < instance_id <= 2**31 - 1:
        return False
    with engine.db.read() as session:
        instance = session.get(ProcessInstance, instance_id)
        if instance is None or instance.process_key != PROCESS_KEY:
            return False
        if access.can_trace_instance(session, principal, instance_id):
            return True
        if unit_code is None:
            return False
        rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)))
        units = task_units(session, rows)
        return any(units.get(r.id) == unit_code and access.can_work(principal, r) for r in rows)


def _unit_steps(case: Case) -> dict[str, list[dict]]:
    with case.engine.db.read() as session:
        rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == case.instance_id)))
        units = task_units(session, rows)
    found: dict[str, list[dict]] = {}
    for step in case.steps:
        unit = units.get(step["task_id"])
        if unit:
            found.setdefault(unit, []).append(step)
    return found


def _latest(steps: list[dict], element_id: str) -> dict | None:
    return next((s for s in reversed(steps) if s["element_id"] == element_id), None)


def _unit_record(case: Case, code: str, steps: list[dict]) -> dict:
    """One unit's inspection as the papers tell it."""
    name, kind, _parent = case.units.get(code, (code, "", None))
    found = _latest(steps, "inspect_unit")
    got = found["submitted"] if found else {}
    failings = [{"item": label, "note": got.get(f"note_{key}", "")} for key, label in ITEMS
                if got.get(f"check_{key}") == "fail"]
    approved = next((s for s in reversed(steps) if s["element_id"] == "approve_notice"
                     and s["submitted"].get("notice_decision") == "approve"), None)
    revised = _latest(steps, "revise_notice")
    issued_on = case.done_on(approved)
    verified = [s for s in steps if s["element_id"] == "verify_rectification"]
    accepted = next((s for s in verified if s["submitted"].get("verify_decision") == "accepted"), None)
    return {
        "code": code, "name": name, "kind": kind, "head": HEADS.get(kind, "负责人"),
        "inspected": bool(found), "inspected_on": cn_date(got.get("inspected_on")),
        "inspector": case.person(found["actor"]) if found else "", "remarks": got.get("inspection_remarks", ""),
        "items": [(label, {"pass": "合格", "fail": "不合格"}.get(got.get(f"check_{key}"), "—"),
                   got.get(f"note_{key}", "")) for key, label in ITEMS],
        "failings": failings,
        "notice_remarks": revised["submitted"].get("notice_remarks", "") if revised else "",
        "notice_returns": sum(s["element_id"] == "approve_notice" and s["submitted"].get("notice_decision") == "return"
                              for s in steps),
        "notice_issued": approved is not None, "notice_issued_on": cn_date(issued_on),
        "notice_approver": case.person(approved["actor"]) if approved else "",
        "rectify_deadline": cn_date(add_working_days(issued_on, RECTIFY_WORKING_DAYS)) if issued_on else "",
        "rectification_reports": len([s for s in steps if s["element_id"] == "rectify"]),
        "rejections": [s["submitted"].get("verify_note", "") for s in verified
                       if s["submitted"].get("verify_decision") == "rejected"],
        "rectified_on": cn_date(case.done_on(accepted)) if accepted else "",
        "escalations": len([s for s in steps if s["element_id"] == "oversee_rectification"]),
    }


def _round(case: Case) -> dict:
    data = round_variables(case.engine, case.instance_id)
    return {"round_ref": data.get("round_ref", ""), "quarter_label": data.get("quarter_label", ""),
            "town_name": data.get("town_name", ""), "units": data.get("units") or []}


def notice(engine, instance_id: int, unit_code: str) -> dict:
    """《通报批评》 of one unit: ``{kind, title, instance_id, unit, round_ref, quarter_label,
    town_name, notice_no, draft, unit_record (``_unit_record``)}``. LookupError: the unit was
    not inspected in this round, or had no failings (no notice)."""
    case = Case(engine, instance_id)
    head = _round(case)
    if unit_code not in {u["code"] for u in head["units"]}:
        raise LookupError(unit_code)
    seal(engine, instance_id, case)          # an approval not kept yet (safety net)
    kept = _kept(engine, instance_id).get(unit_code)
    if kept is not None:
        return {**json.loads(kept.data), "draft": False, "version": kept.version, "sha256": kept.sha256}
    record = _unit_record(case, unit_code, _unit_steps(case).get(unit_code, []))
    if not record["failings"]:
        raise LookupError(f"{unit_code} has no failings")
    return _notice(case, head, unit_code, record)


def _notice(case: Case, head: dict, unit_code: str, record: dict) -> dict:
    return {**head, "kind": NOTICE, "title": f"关于对{record['name']}控辍保学工作的通报批评",
            "instance_id": case.instance_id, "unit": unit_code, "draft": not record["notice_issued"],
            "notice_no": notice_number(head, unit_code), "record": record, "version": None, "sha256": None}


def notice_number(head: dict, unit_code: str) -> str:
    """The notice's document number in the usual form, 督查〔2026〕4-3号: year, quarter and the
    unit's place in the round (its code is an internal word, never printed)."""
    year, _, quarter = head["round_ref"].partition("Q")
    place = next((i for i, u in enumerate(head["units"], 1) if u.get("code") == unit_code), 0)
    return f"督查〔{year}〕{quarter}-{place}号"


def _kept(engine, instance_id: int) -> dict[str, DocumentVersion]:
    """``{unit code: its latest kept notice}``."""
    with engine.db.read() as session:
        rows = list(session.scalars(select(DocumentVersion).where(
            DocumentVersion.instance_id == instance_id, DocumentVersion.kind == NOTICE).order_by(DocumentVersion.version)))
        session.expunge_all()
    return {json.loads(row.data)["unit"]: row for row in rows}


def seal(engine, instance_id: int, case: Case | None = None) -> int:
    """Keep every approved notice of the round not kept yet (see the module doc); returns how
    many. A concurrent seal of the same approval loses on the unique key."""
    case = case or Case(engine, instance_id)
    with engine.db.read() as session:
        done = set(session.scalars(select(DocumentVersion.confirmed_seq).where(
            DocumentVersion.instance_id == instance_id, DocumentVersion.kind == NOTICE)))
    steps = _unit_steps(case)
    approvals = [(unit, s) for unit, unit_steps in steps.items() for s in unit_steps
                 if s["element_id"] == "approve_notice" and s["submitted"].get("notice_decision") == "approve"
                 and s["seq"] not in done]
    if not approvals:
        return 0
    head = _round(case)
    try:
        with engine.db.transaction() as session:
            number = len(done)
            for unit, step in sorted(approvals, key=lambda pair: pair[1]["seq"]):
                upto = [s for s in steps[unit] if s["seq"] <= step["seq"]]
                doc = {**_notice(case, head, unit, _unit_record(case, unit, upto)), "draft": False}
                text = json.dumps(doc, ensure_ascii=False, sort_keys=True, default=str)
                digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
                number += 1
                session.add(DocumentVersion(instance_id=instance_id, kind=NOTICE, version=number,
                                            confirmed_seq=step["seq"], confirmed_by=step["actor"],
                                            confirmed_at=step["at"], data=text, sha256=digest))
                append_event(session, instance_stream(instance_id), "document_sealed", at=engine.clock(),
                             actor=step["actor"], instance_id=instance_id, task_id=step["task_id"],
                             data={"kind": NOTICE, "unit": unit, "version": number, "sha256": digest})
    except IntegrityError:
        log.info("round %s: its notices were sealed concurrently", instance_id)
        return 0
    return len(approvals)


def seal_after(engine, instance_id: int, element_id: str) -> int:
    """``seal`` after the leader's decision on a notice; a failure is logged, never the
    completion's (the notice's page seals again before showing it)."""
    if element_id != "approve_notice":
        return 0
    return seal_logged(seal, engine, instance_id, "the approved notice")


def summary(engine, instance_id: int) -> dict:
    """季度督查总结报告: ``{kind, title, instance_id, round_ref, quarter_label, town_name,
    records: [_unit_record], counts {units, inspected, failed, notices, rectified, escalations},
    summary_text, next_steps, prepared_by, prepared_on, approved, approved_by, approved_on,
    draft}``."""
    case = Case(engine, instance_id)
    head = _round(case)
    steps = _unit_steps(case)
    records = [_unit_record(case, u["code"], steps.get(u["code"], [])) for u in head["units"]]
    prepared = case.latest("prepare_summary")
    approval = case.latest("approve_summary")
    approved = approval is not None and approval["submitted"].get("summary_decision") == "approve" and (
        prepared is None or approval["seq"] > prepared["seq"])
    got = prepared["submitted"] if prepared else {}
    return {**head, "kind": "inspection-summary", "title": f"{head['quarter_label']}控辍保学督查总结报告",
            "instance_id": instance_id, "records": records,
            "counts": {"units": len(records), "inspected": sum(r["inspected"] for r in records),
                       "failed": sum(bool(r["failings"]) for r in records),
                       "notices": sum(r["notice_issued"] for r in records),
                       "rectified": sum(bool(r["rectified_on"]) for r in records),
                       "escalations": sum(r["escalations"] for r in records)},
            "summary_text": got.get("summary_text", ""), "next_steps": got.get("next_steps", ""),
            "prepared_by": case.person(prepared["actor"]) if prepared else "",
            "prepared_on": cn_date(got.get("summary_on")), "approved": approved,
            "approved_by": case.person(approval["actor"]) if approved else "",
            "approved_on": cn_date(case.done_on(approval)) if approved else "", "draft": not approved}


def available(engine, instance_id: int, principal, unit_code: str | None) -> list[dict]:
    """The round's papers for a task page (``ledger.documents.available``'s shape): the
    unit's notice on its tasks once its findings have failings; the summary on the round's own
    tasks (those about no unit) and for whoever traces the round."""
    found = []
    if unit_code:
        try:
            doc = notice(engine, instance_id, unit_code)
        except LookupError:
            doc = None
        if doc is not None and may_see(engine, principal, instance_id, unit_code):
            url = f"/instances/{instance_id}/inspection/notice/{unit_code}"
            found.append({"kind": doc["kind"], "title": "通报批评" + ("（草稿）" if doc["draft"] else ""),
                          "step_name": "审批通报批评", "url": url, "docx_url": f"{url}.docx", "pending": False,
                          "guardian_url": None})
    if may_see(engine, principal, instance_id):
        found.append({"kind": "inspection-summary", "title": "季度督查总结报告", "step_name": "撰写季度督查总结报告",
                      "url": f"/instances/{instance_id}/inspection/summary", "docx_url": None, "pending": False,
                      "guardian_url": None})
    return found


def record_view(engine, username: str, doc: dict, action: str = "view") -> None:
    """The ``AccessLog`` row of one view (``action`` "view") or .docx download ("export") of a
    paper of the round (subject ``instance:<id>``, detail {instance_id, document, unit})."""
    with engine.db.transaction() as session:
        log_access(session, username, action, f"instance:{doc['instance_id']}",
                   {"instance_id": doc["instance_id"], "document": doc["kind"], "unit": doc.get("unit")}, engine.clock())
