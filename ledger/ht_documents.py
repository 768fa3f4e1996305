"""Printable documents of a home-teaching case (送教上门, issue 11): the 个别化教育计划 (一人一案)
here, the term record of visits in ``ledger.ht_visit_record``. Plain dicts for the pages
(``api.web.ht_documents``); no Flask here.

The plan as approved is a kept document: when the federation countersigns (the last of the
approvals: guardian, principal, federation), ``seal`` stores the plan as it reads then as the
case's next ``ht-plan`` version (``document_version``, as the confirmed dropout report is
kept: ``ledger.document_versions``) with the SHA-256 of its text, and appends that hash to
the case's audit chain (``document_sealed``). A plan changed after a term review is
countersigned again: the next version; no kept version changes. Before the first
countersignature the page shows the plan as drawn so far, marked as a draft.

Masking (docs/privacy.md): the child's ID number and 学籍号, the disability certificate
number (the ID number and two digits) and the guardian's phone are masked as on every
printed paper (``ledger.privacy``); the name is printed, as on the persuasion documents.

Who may open them: who may trace the case (``may_see``: its tasks' holders and supervisors,
the discipline inspector, the town's task force); every view is logged (``record_view``).
"""
from __future__ import annotations

import hashlib
import json
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.audit import append_event, instance_stream
from engine.persistence.models import HumanTask, ProcessInstance

from . import access
from .document_case import Case, cn_date
from .document_models import DocumentVersion
from .document_versions import seal_logged
from .home_teaching import PLACEMENTS, VISIT_ELEMENTS, plan_teachers
from .privacy import mask_id

log = logging.getLogger(__name__)
PROCESS_KEY = "home_teaching"
PLAN = "ht-plan"
TITLE = "个别化教育计划（一人一案）"
PLAN_STEPS = ("draw_plan", "draw_inclusive_plan")
GOALS = (("goal_life_skills", "生活自理"), ("goal_communication", "沟通交流"), ("goal_academic", "学科知识"),
         ("goal_motor", "运动康复"), ("goal_social", "社会适应"))
ABILITIES = (("ability_self_care", "生活自理"), ("ability_communication", "沟通交流"),
             ("ability_mobility", "行动"), ("ability_learning", "学习"))


def may_see(engine, principal, instance_id: int) -> bool:
    """Is ``instance_id`` a home-teaching case this person may trace? False for no such case."""
    if not 0 < instance_id <= 2**31 - 1:
        return False
    with engine.db.read() as session:
        instance = session.get(ProcessInstance, instance_id)
        return instance is not None and instance.process_key == PROCESS_KEY and access.can_trace_instance(
            session, principal, instance_id)


def available(engine, instance_id: int, principal=None) -> list[dict]:
    """The case's documents for its task and case pages (``ledger.documents.available``'s
    shape: ``[{kind, title, step_name, url, docx_url, pending, guardian_url}]``; no Word file,
    no guardian's copy): the plan once drawn (``pending`` while its drawing is open: the
    approvers and the federation read it from their tasks), the term record once a visit is
    recorded. Only for who may see them (``may_see``), else ``[]``."""
    if principal is not None and not may_see(engine, principal, instance_id):
        return []
    with engine.db.read() as session:
        steps = set(session.execute(select(HumanTask.element_id, HumanTask.status).where(
            HumanTask.instance_id == instance_id, HumanTask.status.in_(("open", "completed")),
            HumanTask.element_id.in_(PLAN_STEPS + VISIT_ELEMENTS))).all())
    done = {element for element, status in steps if status == "completed"}
    found = []
    if any(element in PLAN_STEPS for element, _status in steps):
        url = f"/instances/{instance_id}/home-teaching/plan" if done & set(PLAN_STEPS) else None
        found.append({"kind": PLAN, "title": TITLE, "step_name": "制定个别化教育计划", "url": url,
                      "docx_url": None, "pending": url is None, "guardian_url": None})
    if done & set(VISIT_ELEMENTS):
        found.append({"kind": "ht-visits", "title": "送教上门学期记录", "step_name": "送教上门并登记",
                      "url": f"/instances/{instance_id}/home-teaching/visits", "docx_url": None, "pending": False,
                      "guardian_url": None})
    return found


def countersigned(case: Case) -> list[dict]:
    """The federation's countersignatures of a plan (not send-backs), in order."""
    return [s for s in case.all("countersign_plan") if s["submitted"].get("countersign_decision") == "countersign"]


def plan(case: Case, upto: int | None = None) -> dict | None:
    """The plan as it stood before audit sequence ``upto`` (all steps if None): {placement,
    assessment, plan, approvals, child}; None while no plan has been drawn."""
    drawn = _latest(case, PLAN_STEPS, upto)
    if drawn is None:
        return None
    placed, school, federation = (case.latest(e, before=upto) for e in ("placement", "assess_school",
                                                                           "assess_federation"))
    given = drawn["submitted"]
    after = [s for s in case.steps if s["seq"] > drawn["seq"] and (upto is None or s["seq"] < upto)]
    return {
        "child": case.child(),
        "placement": _placement(case, placed),
        "assessment": _assessment(case, school, federation),
        "plan": {"inclusive": drawn["element_id"] == "draw_inclusive_plan",
                 "goals": [(label, given.get(key, "")) for key, label in GOALS],
                 "teachers": case.persons(plan_teachers(given)), "content": given.get("plan_content", ""),
                 "support": given.get("plan_support", ""), "weekdays": case.title(drawn, "plan_weekdays"),
                 "time": "–".join(filter(None, (given.get("plan_visit_start"), given.get("plan_visit_end")))),
                 "visits_per_month": given.get("plan_visits_per_month"),
                 "periods_per_visit": given.get("plan_periods_per_visit"),
                 "from": cn_date(given.get("plan_from")), "until": cn_date(given.get("plan_until")),
                 "drawn_by": case.person(drawn["actor"]), "drawn_at": _at(case, drawn)},
        "approvals": [_approval(case, s) for s in after if s["element_id"] in APPROVALS],
    }


def _latest(case: Case, elements, upto: int | None) -> dict | None:
    return next((s for s in reversed(case.steps) if s["element_id"] in elements
                 and (upto is None or s["seq"] < upto)), None)


def _placement(case: Case, step: dict | None) -> dict:
    given = (step or {}).get("submitted") or {}
    return {"label": PLACEMENTS.get(given.get("placement"), ""), "committee_ref": given.get("committee_ref", ""),
            "committee_on": cn_date(given.get("committee_on")), "institution": given.get("placement_institution", ""),
            "note": given.get("placement_note", "")}


def _assessment(case: Case, school: dict | None, federation: dict | None) -> dict:
    by_school, by_federation = (school or {}).get("submitted") or {}, (federation or {}).get("submitted") or {}
    return {"on": cn_date(by_school.get("assessed_on")), "by": by_school.get("assessed_by", ""),
            "abilities": [(label, case.title(school, key) if school else "") for key, label in ABILITIES],
            "ability_note": by_school.get("ability_note", ""),
            "guardian_wish": case.title(school, "guardian_wish") if school else "",
            "guardian_wish_note": by_school.get("guardian_wish_note", ""),
            "disability": case.title(federation, "disability_type") if federation else "",
            "grade": case.title(federation, "disability_grade") if federation else "",
            "certificate_no": mask_id(by_federation.get("certificate_no")),
            "certificate_on": cn_date(by_federation.get("certificate_on"))}


# step: (what, the form's date field, the decision field or None, the reason field)
APPROVALS = {"guardian_agreement": ("监护人意见", "agreement_on", "guardian_agrees", "refusal_reason"),
             "approve_plan": ("校长审批", "approval_on", "approval_decision", "approval_reason"),
             "countersign_plan": ("镇残联会签", "countersign_on", "countersign_decision", "countersign_reason")}


def _approval(case: Case, step: dict) -> dict:
    what, on, decision, reason = APPROVALS[step["element_id"]]
    given = step["submitted"]
    who = given.get("guardian_name") if step["element_id"] == "guardian_agreement" else ""
    return {"what": what, "who": who or case.person(step["actor"]), "on": cn_date(given.get(on)),
            "decision": case.title(step, decision), "reason": given.get(reason, ""),
            "support": given.get("countersign_support", ""), "recorded_by": case.person(step["actor"]),
            "recorded_at": _at(case, step)}


def _at(case: Case, step: dict) -> str:
    return step["at"].astimezone(case.zone).strftime("%Y-%m-%d %H:%M")


def seal(engine, instance_id: int, case: Case | None = None) -> int:
    """Keep every countersigned plan of the case not kept yet (with its hash, on the audit
    chain too); returns how many. A concurrent seal of the same one loses on the unique key."""
    case = case or Case(engine, instance_id)
    with engine.db.read() as session:
        done = set(session.scalars(select(DocumentVersion.confirmed_seq).where(
            DocumentVersion.instance_id == instance_id, DocumentVersion.kind == PLAN)))
    pending = [(s, plan(case, upto=s["seq"] + 1)) for s in countersigned(case) if s["seq"] not in done]
    pending = [(s, doc) for s, doc in pending if doc is not None]
    if not pending:
        return 0
    try:
        with engine.db.transaction() as session:
            number = len(done)
            for step, doc in pending:
                number += 1
                text = json.dumps(doc, ensure_ascii=False, sort_keys=True, default=str)
                digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
                session.add(DocumentVersion(instance_id=instance_id, kind=PLAN, version=number,
                                            confirmed_seq=step["seq"], confirmed_by=step["actor"],
                                            confirmed_at=step["at"], data=text, sha256=digest))
                append_event(session, instance_stream(instance_id), "document_sealed", at=engine.clock(),
                             actor=step["actor"], instance_id=instance_id, task_id=step["task_id"],
                             data={"kind": PLAN, "version": number, "sha256": digest})
    except IntegrityError:
        log.info("case %s: its plan was sealed concurrently", instance_id)
        return 0
    return len(pending)


def seal_after(engine, instance_id: int, element_id: str) -> int:
    """``seal`` after a countersignature; a failure is logged, never the completion's (the
    page seals again before showing the plan)."""
    if element_id != "countersign_plan":
        return 0
    return seal_logged(seal, engine, instance_id, "the countersigned plan")


def plan_document(engine, instance_id: int, version: int | None = None) -> dict:
    """The plan page's dict: ``plan``'s keys plus {kind, title, instance_id, draft, version,
    versions, latest, sha256, norm: (visits, periods)}. The latest kept version (or ``version``);
    the plan as drawn, marked draft, when none is kept yet, or a newer plan waits for its
    approvals. Raises KeyError for no such version, LookupError while no plan is drawn."""
    case = Case(engine, instance_id)
    seal(engine, instance_id, case)
    with engine.db.read() as session:
        kept = list(session.scalars(select(DocumentVersion).where(
            DocumentVersion.instance_id == instance_id, DocumentVersion.kind == PLAN)
            .order_by(DocumentVersion.version)))
    numbers = [k.version for k in kept]
    drawn = _latest(case, PLAN_STEPS, None)
    if version is not None:
        chosen = next((k for k in kept if k.version == version), None)
        if chosen is None:
            raise KeyError(version)
    else:
        chosen = kept[-1] if kept and drawn and kept[-1].confirmed_seq > drawn["seq"] else None
    if chosen is not None:
        doc = {**json.loads(chosen.data), "draft": False, "version": chosen.version, "sha256": chosen.sha256}
    else:
        doc = plan(case)
        if doc is None:
            raise LookupError("no plan drawn yet")
        doc.update(draft=True, version=None, sha256="")
    norm = engine.runtime.variables(instance_id, "init")
    doc.update(kind=PLAN, title=TITLE, instance_id=instance_id, versions=numbers,
               latest=chosen is None or chosen is kept[-1],
               norm=(norm.get("norm_visits_per_month"), norm.get("norm_periods_per_visit")))
    return doc


def record_view(engine, username: str, doc: dict) -> None:
    """The ``AccessLog`` row of one view of a home-teaching document, own transaction:
    subject ``child:<id>``, detail {instance_id, document, version | term, format}."""
    detail = {"instance_id": doc["instance_id"], "document": doc["kind"], "format": "html",
              **({"term": doc["term"]} if "term" in doc else {"version": doc.get("version")})}
    with engine.db.transaction() as session:
        access.log_access(session, username, "view", f"child:{doc['child'].get('id')}", detail, engine.clock())
