"""A case's history as a file reads: what happened, about what, in the order it happened.

Each entry says what it is about in plain Chinese: which task was completed or cancelled (and
why it was cancelled), which deadline a timer was for (the task it watches), which day an
absence message reports. Entries are ordered by business time, then by the order they were
recorded; a message that reports an earlier day than the one it was recorded on (attendance
entered late) sits on the day it reports and says when it was recorded (issue 17).
"""
from __future__ import annotations

import json
from datetime import date, datetime, time

from sqlalchemy import select

from engine.persistence.models import HumanTask
from ledger import task_photos
from ledger.message_names import AUTOMATIC, STEP_MESSAGES, message_label
from ledger.directory import role_name, unit_names
from ledger.form_choices import display_names, named
from ledger.models import User
from ledger.privacy import MASKS

from .web.forms import build_fields

HISTORY_KINDS = {"task_completed", "task_cancelled", "instance_started", "timer_fired", "message_received",
                 "message_uncorrelatable", "task_claimed", "task_unclaimed", "task_assigned", "error", "retried",
                 "incident_resolved", "variables_set", "message_sent", "instance_suspended", "instance_resumed",
                 "instance_terminated", "instance_migrated"}
LABELS = {"instance_started": "流程启动", "task_completed": "办结", "task_cancelled": "已取消",
          "task_claimed": "认领", "task_unclaimed": "退回待认领", "task_assigned": "改派",
          "timer_fired": "到期", "message_received": "收到消息", "message_sent": "发出消息",
          "message_uncorrelatable": "无法接收消息，等待系统管理员补全案件数据",
          "error": "流程出错，等待系统管理员处理", "retried": "系统管理员重试成功",
          "incident_resolved": "系统管理员已处理故障", "variables_set": "案件数据更新",
          "instance_suspended": "系统管理员暂停了案件", "instance_resumed": "系统管理员恢复了案件",
          "instance_terminated": "案件终止", "instance_migrated": "案件迁移到新版本流程"}
# The full audit timeline (``full=True``: the trace of a case for those who check it) adds
# the engine's bookkeeping a file does not need: tasks made ready, documents sealed with
# their hash, the case's end. The path records (``path``) are drawn on the diagram instead.
FULL_KINDS = {"task_ready", "instance_completed", "document_sealed",
              "agreement_document_stored", "photo_stored"}
LABELS.update({"task_ready": "生成待办", "instance_completed": "案件结束",
               "document_sealed": "文书定稿", "agreement_document_stored": "责任书存档",
               "photo_stored": "照片存档"})
DOCUMENT_NAMES = {"ht-plan": "个别化教育计划"}
SYSTEM_ACTORS = {"timer": "系统（到期自动）", "ledger": "系统（台账登记）", "init": "系统（初始化部署）",
                 "cli": "系统管理员（命令行）"}


def system_actor(actor: str | None) -> str | None:
    """The Chinese words for an actor that is not a person (None, a timer, the ledger, another
    case that sent a message: ``instance:<id>``), or None for a username. Pages never show
    the engine's internal actor names (issue 17 "No English or internal words on pages")."""
    if not actor:
        return "系统"
    if actor.startswith("instance:"):
        return f"系统（由关联案件 {actor.removeprefix('instance:')} 发出）"
    return SYSTEM_ACTORS.get(actor)


# What ends a task that nobody completed: the event recorded in the same step just before.
_CAUSES = {"message_received", "timer_fired", "task_completed", "incident_resolved", "retried"}
_UNCLAIM_REASONS = {"role revoked": "岗位已撤销", "account disabled": "账号已停用"}
# Case data the attendance ledger updates while the case is not waiting for an absence
# message (ledger.case_handoff: a count corrected, a further day while a task is open).
_VARIABLE_WORDS = {"absence_days": "连续无故缺课（教学日）", "first_absence": "首次缺课日",
                   "recent_absences": "近期无故缺课（教学日）"}


def case_history(engine, instance_id: int, *, definition_id: int | None = None, full: bool = False) -> list[dict]:
    """The case's steps, oldest first: ``[{kind, label, title, detail, at, recorded_at, late,
    actor, actor_name, element_id, role_name, org_unit_name, task_id, answers}]``.

    ``title`` names what the entry is about (the task, the timer's deadline, the message in
    its Chinese name), ``detail`` adds what it carried (the day an absence message reports,
    why a task was cancelled, the note of an unclaim). ``at`` is the business time the entry
    is sorted by (ISO); ``recorded_at`` when it was written; ``late`` is True when it was
    written on a later day than the day it reports. For a completed task ``answers`` is
    ``[{label, value, photos?}]`` in the words of its form (a photo field: how many, and the
    photos to show, ``task_photos.listed``: served by ``/instances/<id>/photos/<n>`` under
    the case's access rule, every view logged). An error's technical message is never shown.

    ``full`` adds the entries of ``FULL_KINDS`` (a document's entry carries its SHA-256 in
    ``detail``). Callers show it only to people who may view a task of the case
    (``taskactions.visible_task``) or trace it.
    """
    kinds = HISTORY_KINDS | FULL_KINDS if full else HISTORY_KINDS
    # A sent message is a step of the case when pages have a name for it (a hand-over to another
    # process); what a case tells the ledger (case_event) is bookkeeping, not a step.
    events = [e for e in engine.history.events(instance_id) if e.kind in kinds
              and (e.kind != "message_sent" or json.loads(e.data or "{}").get("name") in STEP_MESSAGES)]
    task_ids = {e.task_id for e in events if e.task_id}
    actors = {e.actor for e in events if e.actor}
    with engine.db.read() as session:
        # One query for every task the history names (a row gone: the entry keeps its own data).
        rows = {row.id: row for row in session.scalars(select(HumanTask).where(HumanTask.id.in_(task_ids)))} \
            if task_ids else {}
        names = unit_names(session, {r.org_unit for r in rows.values()})
        people = dict(session.execute(select(User.username, User.display_name)
                                      .where(User.username.in_(actors))).all()) if actors else {}
    if definition_id is None:
        definition_id = engine.runtime.get(instance_id).definition_id
    elements = _Elements(engine, definition_id)
    form_fields = _FormFields(engine, definition_id)
    photos = _Photos(engine, instance_id)
    zone = engine.zone
    history, cause = [], None
    for event in events:
        row = rows.get(event.task_id)
        data = json.loads(event.data or "{}")
        entry = {
            "kind": event.kind, "label": LABELS[event.kind], "at": event.at, "recorded_at": event.at.isoformat(),
            "late": False, "actor": event.actor,
            "actor_name": system_actor(event.actor) or people.get(event.actor),
            "system": system_actor(event.actor) is not None,
            "element_id": event.element_id, "title": (row.name if row else None) or data.get("name"),
            "detail": None, "role_name": role_name(row.candidate_role) if row else None,
            "org_unit_name": names.get(row.org_unit) if row else None,
            "task_id": event.task_id, "answers": [],
        }
        if event.kind == "task_completed" and row is not None and row.form_key:
            entry["answers"] = labelled_answers(form_fields(row.form_key, row.ui_form_key), data.get("submitted"),
                                                people=lambda usernames: _names(engine, usernames),
                                                photos=photos().get(event.task_id, []))
        elif event.kind == "incident_resolved" and data.get("note"):
            entry["answers"] = [{"label": "处理说明", "value": str(data["note"])}]   # the administrator's words
        elif event.kind in ("instance_suspended", "instance_resumed", "instance_terminated") and data.get("reason"):
            # A failed start abandoned says why in the administrator's note (engine: ResolveIncident).
            entry["answers"] = [{"label": "原因", "value": str(data.get("note") or data["reason"])}]
        elif event.kind == "instance_migrated":
            entry["detail"] = f"第 {data.get('from_version')} 版 → 第 {data.get('to_version')} 版"
        elif event.kind == "instance_started":
            entry["title"] = elements.process_name
        elif event.kind == "timer_fired":
            entry["title"] = elements.deadline(event.element_id, start=bool(data.get("start")))
        elif event.kind == "message_received":
            _message(entry, data, zone)
        elif event.kind == "message_sent":
            entry["title"] = message_label(data["name"])
        elif event.kind == "message_uncorrelatable":
            entry["title"] = message_label(data.get("name"))
            entry["detail"] = "缺少" + "、".join(data.get("missing") or [])
        elif event.kind == "variables_set":
            _variables(entry, data.get("variables") or {})
        elif event.kind in ("document_sealed", "agreement_document_stored"):
            name = DOCUMENT_NAMES.get(data.get("kind"), "责任书" if "agreement_ref" in data else "文书")
            entry["title"] = f"{name} 第{data.get('version')}版"
            entry["detail"] = f"SHA-256 {data['sha256']}" if data.get("sha256") else None
        elif event.kind == "photo_stored":
            entry["title"], entry["detail"] = "照片", f"SHA-256 {data.get('sha256')}"
        elif event.kind == "task_ready":
            # Made ready by the engine, for the task's post: naming that post beside the person
            # whose step caused it would say they acted in it.
            where = " ".join(p for p in (entry["role_name"], entry["org_unit_name"]) if p)
            due = f"期限 {row.due_at.astimezone(zone):%Y-%m-%d %H:%M}" if row is not None and row.due_at else None
            entry["detail"] = "；".join(p for p in (f"交{where}办理" if where else None, due) if p) or None
            entry.update(actor=None, actor_name="系统", system=True, role_name=None, org_unit_name=None)
        elif event.kind == "task_cancelled":
            entry["detail"] = _cancel_reason(cause, event.at)
        elif event.kind == "task_unclaimed" and data.get("reason"):
            entry["detail"] = _UNCLAIM_REASONS.get(data["reason"], data["reason"])
        if event.kind in ("task_cancelled", "task_unclaimed"):
            # The actor caused it from another post (an attendance report, an administrator):
            # naming the task's post beside them would say they acted in it.
            entry["role_name"] = entry["org_unit_name"] = None
        if event.kind in _CAUSES:
            cause = entry
        history.append(entry)
    history.sort(key=lambda h: h["at"])   # stable: equal times keep the recorded order
    for entry in history:
        entry["at"] = entry["at"].isoformat()
    return history


def _names(engine, usernames) -> dict[str, str]:
    with engine.db.read() as session:
        return display_names(session, usernames)


def _message(entry: dict, data: dict, zone) -> None:
    """Name the message in Chinese and say which day it reports (``payload.date``; an
    absence also its count of consecutive days)."""
    payload = data.get("payload") or {}
    entry["title"] = message_label(data.get("name"))
    try:
        day = date.fromisoformat(str(payload.get("date")))
    except ValueError:
        return
    parts = [f"第{payload['count']}天" if isinstance(payload.get("count"), int) else None,
             f"{day.month}月{day.day}日"]
    entry["detail"] = "，".join(p for p in parts if p)
    if day < entry["at"].astimezone(zone).date():
        # Reported on a later day: it belongs to the day it reports (its end, after that
        # day's own steps), and says when it was entered.
        entry["at"] = datetime.combine(day, time(23, 59, 59), zone)
        entry["late"] = True


def _variables(entry: dict, variables: dict) -> None:
    """Say which case data changed and to what, for the data the words above know; other
    variables are only counted (their values may be anything a process keeps)."""
    known = [f"{_VARIABLE_WORDS[k]}：{v}" for k, v in variables.items() if k in _VARIABLE_WORDS]
    others = len([k for k in variables if k not in _VARIABLE_WORDS])
    entry["title"] = "考勤更新" if known and not others else "案件数据"
    entry["detail"] = "；".join(known + ([f"另有 {others} 项数据"] if others else [])) or None


def _cancel_reason(cause: dict | None, at: datetime) -> str:
    """Why a task was cancelled: the event of the same step that moved the case on."""
    if cause is None or cause["recorded_at"] != at.isoformat():   # one step's entries share its time
        return "流程已转入其他步骤，此任务不再需要办理"
    what = {"message_received": f"收到“{cause['title']}”", "timer_fired": f"“{cause['title']}”",
            "task_completed": f"“{cause['title']}”已办结",
            "incident_resolved": "系统管理员处理了故障", "retried": "系统管理员重试了失败的步骤"}[cause["kind"]]
    return f"{what}，流程转入其他步骤，此任务不再需要办理"


class _Elements:
    """Names of a version's elements, and the task each boundary timer watches."""

    def __init__(self, engine, definition_id):
        self.names: dict[str, str | None] = {}
        self.attached: dict[str, str] = {}
        self.process_name: str | None = None
        try:
            definition = engine.repository.get(definition_id)
            spec, subprocess_specs = engine.repository.specs(definition)
        except Exception:  # noqa: BLE001 - an unreadable version: entries keep their ids only
            return
        self.process_name = definition.name or definition.process_key
        for process in (spec, *(s for s in subprocess_specs.values() if s is not None)):
            for ts in process.task_specs.values():
                bpmn_id = getattr(ts, "bpmn_id", None)
                if bpmn_id:
                    self.names[bpmn_id] = ts.bpmn_name
                if type(ts).__name__ == "BoundaryEvent" and ts.inputs:
                    host = next((o for o in ts.inputs[0].outputs if type(o).__name__ != "BoundaryEvent"), None)
                    if host is not None and getattr(host, "bpmn_id", None):
                        self.attached[bpmn_id] = host.bpmn_name or host.bpmn_id

    def deadline(self, element_id: str | None, *, start: bool = False) -> str:
        """``“电话联系监护人”逾期`` for a timer on a task, else the timer's own name."""
        if start:
            return "定时启动"
        name = self.names.get(element_id or "") or "期限"
        host = self.attached.get(element_id or "")
        return f"“{host}”{name}" if host else name


class _FormFields:
    """The fields of the forms of one process version: each form file read once per
    ``case_history`` call, however many steps use it."""

    def __init__(self, engine, definition_id):
        self.forms = engine.repository.forms(definition_id) if definition_id is not None else None
        self.schemas: dict[str, dict | None] = {}
        self.fields: dict[tuple, list] = {}

    def __call__(self, form_key: str, ui_form_key: str | None):
        key = (form_key, ui_form_key)
        if key not in self.fields:
            schema = self._schema(form_key)
            self.fields[key] = build_fields(schema, self._schema(ui_form_key)) if schema else []
        return self.fields[key]

    def _schema(self, name: str | None) -> dict | None:
        if not name or self.forms is None:
            return None
        if name not in self.schemas:
            try:
                self.schemas[name] = self.forms.schema(name)
            except Exception:  # noqa: BLE001 - a form file gone or unreadable: no answers, not a failed page
                self.schemas[name] = None
        return self.schemas[name]


class _Photos:
    """The case's photos by task (``task_photos.listed``), read once per history, and only
    if a completed step has a form."""

    def __init__(self, engine, instance_id):
        self.engine, self.instance_id, self.found = engine, instance_id, None

    def __call__(self) -> dict[str, list[dict]]:
        if self.found is None:
            self.found = task_photos.listed(self.engine, self.instance_id)
        return self.found


YES_NO_TEXT = {True: "是", False: "否"}


def labelled_answers(fields, submitted, people=None, photos=None) -> list[dict]:
    """[{label, value}] of the submitted data, one per form field in the form's order.

    Choices show their option titles (several joined by "、"), booleans 是/否; people chosen
    in an ``x-choicesFrom`` field their display names (``people(usernames) -> {username:
    name}``; without it 已删除账号, never a login); fields left empty are omitted, and keys
    the form does not define are never shown. A photo field (``x-photos``) says how many
    photos were sent, never their hashes, and carries ``photos``: those of ``photos`` (the
    step's, ``task_photos.listed``) that belong to it.
    """
    if not isinstance(submitted, dict):
        return []
    answers = []
    for f in fields:
        if f.widget == "photos":
            sent = submitted.get(f.name)
            if isinstance(sent, list) and sent:
                answers.append({"label": f.label, "value": f"{len(sent)} 张照片",
                                "photos": [p for p in photos or [] if p["field"] == f.name]})
            continue
        value = _person(submitted.get(f.name), people) if f.offered else _display(f, submitted.get(f.name))
        if value:
            answers.append({"label": f.label, "value": value})
    return answers


def _person(value, people) -> str:
    listed = [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str) and v]
    return named(listed, people(listed) if people and listed else {})


def _display(f, value) -> str:
    if value is None or value == "" or value == []:
        return ""
    if getattr(f, "mask", None) in MASKS and isinstance(value, str):
        return MASKS[f.mask](value)      # x-mask: recorded IDs and phones are shown masked
    titles = dict(f.options)
    if isinstance(value, list):
        parts = [_scalar(v, titles) for v in value]
        return "、".join(p for p in parts if p)
    return _scalar(value, titles)


def _scalar(value, titles: dict) -> str:
    if isinstance(value, (dict, list)) or value is None:
        return ""  # nested objects have no form of their own here: not dumped raw
    key = ("true" if value else "false") if isinstance(value, bool) else str(value)
    if key in titles:
        return titles[key]
    if isinstance(value, bool):
        return YES_NO_TEXT[value]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def waiting_for(engine, instance_id: int) -> list[str]:
    """What a case with no open task waits for, in plain Chinese: each message it can take
    (``又一天无故缺课（考勤自动送达）``), each it cannot (its key is missing: an administrator
    must complete the case's data) and each timer with its due day (``“限期返校”期满，
    12月03日``). Empty when it waits for nothing (it has ended)."""
    from engine.persistence.models import MessageSubscription, TimerJob
    with engine.db.read() as session:
        subscriptions = session.execute(select(MessageSubscription.message_name, MessageSubscription.status,
                                               MessageSubscription.missing).where(
            MessageSubscription.instance_id == instance_id)).all()
        timers = session.execute(select(TimerJob.element_id, TimerJob.due_at).where(
            TimerJob.instance_id == instance_id, TimerJob.status == "waiting").order_by(TimerJob.due_at)).all()
    elements = _Elements(engine, engine.runtime.get(instance_id).definition_id)
    waiting = sorted({name for name, status, _ in subscriptions if status == "waiting"})
    told = [f"“{message_label(name)}”" + AUTOMATIC.get(name, "") for name in waiting]
    # A catch whose key the case lacks can never be reached: say so instead of promising it.
    told += [f"无法接收“{message_label(name)}”：案件缺少{missing or '关联数据'}，需系统管理员补全"
             for name, status, missing in sorted(set(subscriptions)) if status != "waiting"]
    told += [f"{elements.deadline(element_id)}，{due.astimezone(engine.zone):%m月%d日 %H:%M} 到期"
             for element_id, due in timers]
    return told
