"""What a person sees of one task: form, data, instructions, and the case so far.

Instructions (``instructionsForEndUser``) are a Jinja template over the task data, rendered
in Jinja's sandbox, then Markdown with raw HTML disabled: a diagram author cannot inject
markup or reach Python objects through them.
"""
from __future__ import annotations

import json
from uuid import UUID

from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt
from sqlalchemy import select

from engine.persistence.models import HumanTask
from ledger import access
from ledger.directory import role_name, unit_names
from ledger.inbox import describe_tasks
from ledger.models import User

from .web.forms import build_fields

_jinja = SandboxedEnvironment(autoescape=False)
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")
HISTORY_KINDS = {"task_completed", "instance_started", "timer_fired", "message_received", "task_claimed",
                 "task_assigned", "error", "retried", "incident_resolved"}


def render_instructions(template: str, data: dict) -> tuple[str, str]:
    """(text, safe HTML). A template error shows the raw text rather than failing the page."""
    try:
        text = _jinja.from_string(template).render(**{k: v for k, v in data.items() if k.isidentifier()})
    except Exception:  # noqa: BLE001 - any template problem: show it unrendered
        text = template
    return text, _markdown.render(text)


def task_detail(engine, row, principal) -> dict:
    view = describe_tasks(engine, [row], engine.clock())[0]
    workflow = engine.runtime.workflow(row.instance_id)
    try:
        task = workflow.get_task_from_id(UUID(row.id))
    except Exception:  # noqa: BLE001 - finished tasks may be pruned from old states
        task = None
    data = engine.store.to_json_safe(dict(task.data)) if task is not None else {}
    extensions = (getattr(task.task_spec, "extensions", None) or {}) if task is not None else {}
    text, html = render_instructions(extensions.get("instructionsForEndUser") or "", data)
    definition_id = engine.runtime.get(row.instance_id).definition_id
    forms = engine.repository.forms(definition_id)
    history = case_history(engine, row.instance_id, definition_id=definition_id)
    view.update({
        "form": {"schema": forms.schema(row.form_key) if row.form_key else None,
                 "ui_schema": forms.schema(row.ui_form_key) if row.ui_form_key else None},
        "data": data, "instructions": text, "instructions_html": html,
        "history": history,
        # What was submitted on this very task (a completed one); [] while it is open.
        "answers": next((h["answers"] for h in reversed(history)
                         if h["kind"] == "task_completed" and h["task_id"] == row.id), []),
        "documentation": getattr(task.task_spec, "documentation", None) if task is not None else None,
    })
    return view


def log_case_view(engine, username: str, instance_id: int, view: str, task_id: str | None = None) -> None:
    """Append the access-log row of one look at a case: a task (``view`` = ``task``: its data,
    instructions and the case so far) or the case's events (``case_events``). A case shows
    causes (poverty, disability) and guardians' names, so every look is logged (DOMAIN.md
    "Personal data"; issue 8). Subject ``child:<id>`` when the case is about a child, else
    ``instance:<id>``; detail ``{view, instance_id, task_id?}``. Runs in its own short
    transaction through ``ledger.access.log_access`` (never around a page render)."""
    with engine.db.transaction() as session:
        child_id = session.scalar(select(HumanTask.subject_id).where(
            HumanTask.instance_id == instance_id, HumanTask.subject_id.is_not(None)).limit(1))
        detail = {"view": view, "instance_id": instance_id, **({"task_id": task_id} if task_id else {})}
        access.log_access(session, username, "view", f"child:{child_id}" if child_id else f"instance:{instance_id}",
                          detail, engine.clock())


def case_history(engine, instance_id: int, *, definition_id: int | None = None) -> list[dict]:
    """Earlier steps of the case: what, who (role, unit, display name), when, and for a
    completed task what was submitted, as ``answers`` [{label, value}] in the words of its form.
    A failed step (``error``), its retry (``retried``) and its resolution without retry
    (``incident_resolved``, with the administrator's note as the answer 处理说明) are steps too;
    an error's technical message is never part of the history.

    Callers show it only to people who may view a task of the case (``taskactions.visible_task``).
    """
    events = [e for e in engine.history.events(instance_id) if e.kind in HISTORY_KINDS]
    task_ids = {e.task_id for e in events if e.task_id}
    rows = {}
    for task_id in task_ids:
        try:
            rows[task_id] = engine.tasks.get(task_id)
        except Exception:  # noqa: BLE001
            continue
    actors = {e.actor for e in events if e.actor}
    with engine.db.read() as session:
        names = unit_names(session, {r.org_unit for r in rows.values()})
        people = dict(session.execute(select(User.username, User.display_name)
                                      .where(User.username.in_(actors))).all()) if actors else {}
    if definition_id is None and any(e.kind == "task_completed" for e in events):
        definition_id = engine.runtime.get(instance_id).definition_id
    form_fields = _FormFields(engine, definition_id)
    history = []
    for event in events:
        row = rows.get(event.task_id)
        data = json.loads(event.data or "{}")
        answers = []
        if event.kind == "task_completed" and row is not None and row.form_key:
            answers = labelled_answers(form_fields(row.form_key, row.ui_form_key), data.get("submitted"))
        elif event.kind == "incident_resolved" and data.get("note"):
            answers = [{"label": "处理说明", "value": str(data["note"])}]   # the administrator's words
        history.append({
            "kind": event.kind, "at": event.at.isoformat(), "actor": event.actor,
            "actor_name": people.get(event.actor) if event.actor else None,
            "element_id": event.element_id, "title": (row.name if row else None) or data.get("name"),
            "role_name": role_name(row.candidate_role) if row else None,
            "org_unit_name": names.get(row.org_unit) if row else None,
            "task_id": event.task_id, "answers": answers,
        })
    return history


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


YES_NO_TEXT = {True: "是", False: "否"}


def labelled_answers(fields, submitted) -> list[dict]:
    """[{label, value}] of the submitted data, one per form field in the form's order.

    Choices show their option titles (several joined by "、"), booleans 是/否; fields left
    empty are omitted, and keys the form does not define are never shown.
    """
    if not isinstance(submitted, dict):
        return []
    answers = []
    for f in fields:
        value = _display(f, submitted.get(f.name))
        if value:
            answers.append({"label": f.label, "value": value})
    return answers


def _display(f, value) -> str:
    if value is None or value == "" or value == []:
        return ""
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
