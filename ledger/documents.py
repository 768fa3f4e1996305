"""Printable documents of a persuasion case (issue 4): what each page shows, as plain dicts.

* 《义务教育阶段学生辍学情况报告单》 (``dropout-report``, DOMAIN-REFERENCE §3.3) exists once the
  school has filed it (step ``dropout_report``); the principal's number and date
  (``confirm_report``) are blank lines until confirmed.
* 《限期返校通知书》 (``return-notice``, §3.4, §5.1) exists once the town has served it (step
  ``issue_notice``); its deadline is the process's ``return_deadline`` (3 working days
  after service, §6), recomputed the same way only if missing.

Answers are each step's ``submitted`` data in the audit history (a step's latest
completion; the report's measures: every completed call, visit, village check and joint
persuasion), choices in their forms' words. The child's ID number is masked on every copy
but the one served to the guardian, which only ``GUARDIAN_COPY_ROLES`` may print; each view
goes to ``AccessLog`` (DOMAIN.md "Personal data"; §7.2 items 1, 4, 5). No Flask here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from engine.calendar import add_working_days
from engine.errors import Conflict
from engine.persistence.models import HumanTask, ProcessInstance

from . import access
from .models import Child, OrgUnit, User
from .privacy import mask_id, mask_phone

PROCESS_KEY = "persuasion"
MAX_ID = 2**31 - 1
GUARDIAN_COPY_ROLES = ("town_government", "task_force_leader", "task_force_deputy", "livelihood_office")
MEASURES = {  # step: (measure, its date field or None = the day it was done, its people field)
    "phone_call": ("电话联系监护人", "call_on", "call_participants"), "home_visit": ("家访", "visit_on", "visit_participants"),
    "village_check": ("村级入户核实", "village_on", "village_participants"),
    "joint_persuasion": ("联合劝返", "joint_on", "joint_participants")}


@dataclass(frozen=True)
class Kind:
    title: str
    step: str        # the step whose completion creates the document
    step_name: str
    copies: tuple    # "file" (masked); a notice also "guardian" (served to the guardian, unmasked)


KINDS = {"dropout-report": Kind("义务教育阶段学生辍学情况报告单", "dropout_report", "填报辍学情况报告单", ("file",)),
         "return-notice": Kind("限期返校通知书", "issue_notice", "签发并送达限期返校通知书", ("file", "guardian"))}


class NotReady(Conflict):
    """The document does not exist yet (409); ``message`` says which step creates it."""


def may_see(engine, principal, instance_id: int) -> bool:
    """May this person open the documents of ``instance_id``: trace the case or view one of
    its tasks (``ledger.access``)? False too when there is no such persuasion case."""
    if not 0 < instance_id <= MAX_ID:
        return False
    with engine.db.read() as session:
        instance = session.get(ProcessInstance, instance_id)
        if instance is None or instance.process_key != PROCESS_KEY:
            return False
        if access.can_trace_instance(session, principal, instance_id):
            return True
        tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id))
        return any(access.can_view_task(session, principal, t) for t in tasks)


def may_unmask(principal) -> bool:
    """May print the guardian's copy (full ID number): the town government, the task-force
    leader or deputy, or the livelihood office, who serve the notice (§3.4)."""
    return any(principal.holds(role) for role in GUARDIAN_COPY_ROLES)


def available(engine, instance_id: int, principal=None) -> list[dict]:
    """The case's documents, for its task pages: ``[{kind, title, step_name, url, pending,
    guardian_url}]``. A document exists once its step is completed; while that step is open
    it is ``pending`` (url None). ``guardian_url`` only for those who ``may_unmask``."""
    if engine.runtime.get(instance_id).process_key != PROCESS_KEY:
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
            guardian = url and "guardian" in spec.copies and principal is not None and may_unmask(principal)
            found.append({"kind": kind, "title": spec.title, "step_name": spec.step_name, "url": url,
                          "pending": url is None, "guardian_url": f"{url}?copy=guardian" if guardian else None})
    return found


def build(engine, instance_id: int, kind: str, *, copy: str = "file") -> dict:
    """Document ``kind`` of the case, as its template renders it: {kind, title, instance_id,
    copy, unmasked, child: see ``_Case.child``} plus ``_report``'s or ``_notice``'s keys.
    Raises KeyError (no such kind or copy), NotReady (its step is not completed yet)."""
    spec = KINDS[kind]
    if copy not in spec.copies:
        raise KeyError(copy)
    case = _Case(engine, instance_id)
    draft = case.latest(spec.step) is None
    if draft and not (kind == "return-notice" and case.latest("confirm_report")):
        raise NotReady(f"《{spec.title}》尚未生成：“{spec.step_name}”办结后才能查看和打印。")
    # The notice is printed before it is served: once the report is confirmed, a draft with
    # blanks (文号, dates, service) to fill by hand; the step then records what was served.
    doc = _report(case) if kind == "dropout-report" else _notice(case, draft=draft)
    doc["draft"] = draft
    doc.update(kind=kind, title=spec.title, instance_id=instance_id, copy=copy, unmasked=copy == "guardian",
               child=case.child(unmasked=copy == "guardian"))
    return doc


def record_view(engine, username: str, doc: dict) -> None:
    """Append the ``AccessLog`` row of one view (own transaction): subject ``child:<id>``,
    action ``reveal`` for an unmasked copy else ``view``, detail {instance_id, document,
    copy, unmasked}."""
    with engine.db.transaction() as session:
        access.log_access(session, username, "reveal" if doc["unmasked"] else "view", f"child:{doc['child']['id']}",
                          {"instance_id": doc["instance_id"], "document": doc["kind"], "copy": doc["copy"],
                           "unmasked": doc["unmasked"]}, engine.clock())


def _report(case: "_Case") -> dict:
    """{report_no, sent_on, received_by, last_attended_on, absent_days, reason, whereabouts,
    suggestion, filed_by, measures: [{measure, date, people, result}]}; dates as 2025年10月17日."""
    filed, confirmed = case.latest("dropout_report"), case.latest("confirm_report")
    if confirmed is not None and confirmed["seq"] < filed["seq"]:
        confirmed = None   # it confirmed an earlier round's report (the case reopened)
    got, sure = filed["submitted"], (confirmed or {}).get("submitted", {})
    return {"report_no": sure.get("report_no", ""), "sent_on": cn_date(sure.get("report_sent_on")),
            "received_by": sure.get("report_received_by", ""),
            "last_attended_on": cn_date(got.get("report_last_attended_on")),
            "absent_days": got.get("report_absent_days"), "reason": got.get("report_reason", ""),
            "whereabouts": case.title(filed, "report_whereabouts"), "suggestion": got.get("report_suggestion", ""),
            "filed_by": case.person(filed["actor"]), "measures": [_measure(case, s) for s in case.measures()]}


def _measure(case: "_Case", step: dict) -> dict:
    """One row of 已采取措施: {measure, date, people, result}, in the words of the step's form."""
    measure, date_field, people_field = MEASURES[step["element_id"]]
    got, title, kind = step["submitted"], lambda field: case.title(step, field), step["element_id"]  # noqa: E731
    if kind == "phone_call":
        heard = f"（接听：{got['call_met']}）" if got.get("call_met") else ""
        promised = got.get("call_promised_return") and f"承诺{cn_date(got['call_promised_return'])}返校"
        parts = [("已" if got.get("call_reached") else "未") + "联系上监护人" + heard, title("cause"),
                 got.get("call_result"), promised]
    elif kind == "home_visit":
        parts = [title("visit_outcome"), "监护人" + title("visit_attitude"), got.get("visit_result")]
    elif kind == "village_check":
        parts = ["核实原因：" + title("cause"), got.get("cause_detail"), "帮扶措施：" + title("plan_measures")]
    else:
        parts = [title("joint_method"), got.get("joint_result")]
    on = got.get(date_field) if date_field else step["at"].astimezone(case.engine.zone).date()  # the day it was done
    return {"measure": measure, "date": cn_date(on), "result": "；".join(p for p in parts if p),
            "people": (got.get(people_field) if people_field else None) or case.person(step["actor"])}


def _notice(case: "_Case", draft: bool = False) -> dict:
    """{notice_no, recipient, first_absence, last_attended_on, absent_days, deadline,
    deadline_computed, issuer, issued_on, service: {method, served_on, recipient, witness,
    refusal_note}}; dates as 2025年10月17日. A ``draft`` (issue_notice still open) has the
    notice's own fields blank."""
    issued = case.latest("issue_notice") if not draft else {"submitted": {}, "task_id": None}
    got = issued["submitted"]
    data = case.engine.runtime.variables(case.instance_id, "confirm_report" if draft else "issue_notice")
    deadline, computed = data.get("return_deadline") if not draft else None, False
    if not deadline and got.get("notice_served_on"):
        deadline, computed = add_working_days(got["notice_served_on"], 3), True   # as the postScript does
    reported = (case.latest("dropout_report") or {}).get("submitted", {})
    return {"notice_no": got.get("notice_no", ""), "recipient": got.get("notice_recipient", ""),
            "first_absence": cn_date(data.get("first_absence")),   # none when it began as a tendency
            "last_attended_on": cn_date(reported.get("report_last_attended_on")),
            "absent_days": reported.get("report_absent_days"), "deadline": cn_date(deadline),
            "deadline_computed": computed, "issuer": case.issuer(), "issued_on": cn_date(got.get("notice_issued_on")),
            "service": {"method": case.title(issued, "notice_service_method"),
                        "served_on": cn_date(got.get("notice_served_on")), "recipient": got.get("notice_recipient", ""),
                        "witness": got.get("notice_witness", ""), "refusal_note": got.get("notice_refusal_note", "")}}


def cn_date(value) -> str:
    """``2025-10-17`` (or a date) as ``2025年10月17日``; "" for none; anything else as given."""
    if not value:
        return ""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{day.year}年{day.month}月{day.day}日"


class _Case:
    """One case, read once: its completed steps (``task_completed`` audit events, in order),
    the forms' option titles, people's display names, the child and the org units."""

    def __init__(self, engine, instance_id: int):
        self.engine, self.instance_id = engine, instance_id
        self.forms = engine.repository.forms(engine.runtime.get(instance_id).definition_id)
        events = engine.history.events(instance_id)
        started = next((json.loads(e.data or "{}") for e in events if e.kind == "instance_started"), {})
        child_id = (started.get("variables") or {}).get("child_id")
        self.steps = [{"seq": e.seq, "element_id": e.element_id, "task_id": e.task_id, "actor": e.actor,
                       "at": e.at, "submitted": json.loads(e.data or "{}").get("submitted") or {}}
                      for e in events if e.kind == "task_completed"]
        actors = {s["actor"] for s in self.steps if s["actor"]}
        with engine.db.read() as session:
            self.form_keys = dict(session.execute(select(HumanTask.id, HumanTask.form_key)
                                                  .where(HumanTask.instance_id == instance_id)).all())
            self.people = dict(session.execute(select(User.username, User.display_name).where(
                User.username.in_(actors))).all()) if actors else {}
            self.units = {u.code: (u.name, u.kind, u.parent_code) for u in session.scalars(select(OrgUnit))}
            row = session.get(Child, child_id) if isinstance(child_id, int) else None
            self.row = {c.key: getattr(row, c.key) for c in Child.__table__.columns} if row is not None else None
        self._titles: dict[str, dict] = {}

    def latest(self, element_id: str) -> dict | None:
        return next((s for s in reversed(self.steps) if s["element_id"] == element_id), None)

    def measures(self) -> list[dict]:
        return [s for s in self.steps if s["element_id"] in MEASURES]

    def person(self, username: str | None) -> str:
        return self.people.get(username, username) if username else ""

    def title(self, step: dict, field: str) -> str:
        """The submitted value of ``field`` in its form's words (several joined by 、)."""
        value = step["submitted"].get(field)
        titles = self._form_titles(self.form_keys.get(step["task_id"])).get(field, {})
        values = value if isinstance(value, list) else [] if value in (None, "") else [value]
        return "、".join(titles.get(str(v), str(v)) for v in values)

    def _form_titles(self, form_key: str | None) -> dict:
        if form_key and form_key not in self._titles:
            try:
                props = self.forms.schema(form_key).get("properties") or {}
            except Exception:  # noqa: BLE001 - a form gone from the version: raw values, not a failed page
                props = {}
            self._titles[form_key] = {name: {str(o.get("const")): o.get("title") or str(o.get("const"))
                                             for o in p.get("oneOf") or (p.get("items") or {}).get("oneOf") or []}
                                      for name, p in props.items() if isinstance(p, dict)}
        return self._titles.get(form_key, {})

    def child(self, unmasked: bool = False) -> dict:
        """{id, name, gender, birth_date, id_number (masked unless ``unmasked``), school,
        class_name, village, address, hukou, guardian: {name, relation, phone (masked)}};
        "" where the register has nothing (a line to fill in by hand)."""
        c = self.row
        if c is None:
            return {"id": None, "guardian": {}}
        name = lambda code: self.units[code][0] if code in self.units else ""  # noqa: E731
        class_name, grade = name(c["class_code"]), self.units.get(c["class_code"], (None, None, None))[2]
        if grade in self.units and self.units[grade][1] == "grade" and not class_name.startswith(name(grade)):
            class_name = name(grade) + class_name
        return {"id": c["id"], "name": c["name"], "gender": c["gender"], "birth_date": cn_date(c["birth_date"]),
                "id_number": c["id_number"] if unmasked else mask_id(c["id_number"]),
                "school": name(c["school_code"]), "class_name": class_name, "village": name(c["village_code"]),
                "address": c["address"] or "", "hukou": "",   # the register keeps no 户籍地
                "guardian": {"name": c["guardian_name"] or "", "relation": c["guardian_relation"] or "",
                             "phone": mask_phone(c["guardian_phone"])}}

    def issuer(self) -> str:
        """The town's people's government (镇人民政府), named after the town above the child."""
        code, seen = (self.row or {}).get("village_code") or (self.row or {}).get("school_code"), set()
        while code in self.units and self.units[code][1] != "town" and code not in seen:
            seen.add(code)
            code = self.units[code][2]
        town = self.units[code][0] if code in self.units else next(
            (n for n, kind, parent in self.units.values() if kind == "town" and parent is None), "")
        return town if not town or town.endswith("人民政府") else town + "人民政府"
