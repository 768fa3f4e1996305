"""What a person sees of one task: form, data, instructions, and the case so far.

Instructions (``instructionsForEndUser``) are a Jinja template over the task data, rendered
in Jinja's sandbox, then Markdown with raw HTML disabled: a diagram author cannot inject
markup or reach Python objects through them.
"""
from __future__ import annotations

from uuid import UUID

from jinja2 import pass_context
from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt
from sqlalchemy import select

from engine.persistence.models import HumanTask
from ledger import access, agreement_tasks, inspection_tasks
from ledger.form_choices import display_names, named
from ledger.inbox import CANDIDATE_FIELDS, describe_tasks, needed_fields
from ledger.privacy import MASK_KEYWORD, MASKS

from .casehistory import case_history, labelled_answers  # noqa: F401 - labelled_answers: part of this view's API

_jinja = SandboxedEnvironment(autoescape=False)


@pass_context
def _people_filter(context, usernames) -> str:
    listed = usernames if isinstance(usernames, list) else [usernames]
    lookup = context.get("_people")
    return named(usernames, lookup([u for u in listed if isinstance(u, str)]) if lookup else {})


_jinja.filters["people"] = _people_filter
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


def render_instructions(template: str, data: dict, people=None) -> tuple[str, str]:
    """(text, safe HTML). A template error shows the raw text rather than failing the page.
    ``{{ plan_teacher | people }}``: a username, or a list of them (a field chosen from
    ``x-choicesFrom`` accounts), as display names; ``people(usernames) -> {username: name}``
    looks them up (``form_choices.named``: a login is never shown)."""
    try:
        text = _jinja.from_string(template).render(
            **{k: v for k, v in data.items() if k.isidentifier() and k != "_people"}, _people=people)
    except Exception:  # noqa: BLE001 - any template problem: show it unrendered
        text = template
    return text, _markdown.render(text)


def task_detail(engine, row, principal) -> dict:
    """The task as its page shows it (``describe_task`` plus form ``{schema, ui_schema,
    choices}``, data, instructions, history, answers, documentation, ``traceable``: whether
    the caller may open the whole case). An agreement task's history is its own agreement's
    (``ledger.agreement_tasks.history_scope``). The task's candidates see its child unmasked as far as
    the task needs (``subject.shown``; docs/privacy.md); the caller logs it with
    ``log_case_view(..., fields=detail["subject"]["shown"])``."""
    workflow = engine.runtime.workflow(row.instance_id)
    try:
        task = workflow.get_task_from_id(UUID(row.id))
    except Exception:  # noqa: BLE001 - finished tasks may be pruned from old states
        task = None
    extensions = (getattr(task.task_spec, "extensions", None) or {}) if task is not None else {}
    view = describe_tasks(engine, [row], engine.clock(), shown=shown_fields(principal, row, extensions))[0]
    data = engine.store.to_json_safe(dict(task.data)) if task is not None else {}
    text, html = render_instructions(extensions.get("instructionsForEndUser") or "", data,
                                     people=lambda usernames: _display_names(engine, usernames))
    definition_id = engine.runtime.get(row.instance_id).definition_id
    forms = engine.repository.forms(definition_id)
    data = masked_data(data, forms)
    history = case_history(engine, row.instance_id, definition_id=definition_id)
    with engine.db.read() as session:
        scope = agreement_tasks.history_scope(session, principal, row)   # an agreement's own steps only
        if scope is None:
            scope = inspection_tasks.history_scope(session, principal, row)   # a unit's own inspection only
        traceable = access.can_trace_instance(session, principal, row.instance_id)
    if scope is not None:
        history = [entry for entry in history if entry["task_id"] in scope]
    view.update({
        "form": {"schema": forms.schema(row.form_key) if row.form_key else None,
                 "ui_schema": forms.schema(row.ui_form_key) if row.ui_form_key else None,
                 "choices": form_choices(engine, row)},
        "data": data, "instructions": text, "instructions_html": html,
        "history": history, "traceable": traceable,
        # What was submitted on this very task (a completed one); [] while it is open.
        "answers": next((h["answers"] for h in reversed(history)
                         if h["kind"] == "task_completed" and h["task_id"] == row.id), []),
        "documentation": getattr(task.task_spec, "documentation", None) if task is not None else None,
    })
    return view


def masked_data(data, forms):
    """``data`` (a dict, at any depth) with every value a form of this version marks ``x-mask`` shown masked
    (``ledger.privacy.MASKS``: an ID-bearing certificate number, a phone), as the pages show
    recorded values: the REST task detail never hands a candidate more than the page does."""
    return _masked(data, _masks(forms))


def _masked(value, masks: dict[str, str]):
    if isinstance(value, dict):
        return {name: MASKS[masks[name]](item) if name in masks and isinstance(item, str) else _masked(item, masks)
                for name, item in value.items()}
    if isinstance(value, list):
        return [_masked(item, masks) for item in value]
    return value


def _masks(forms) -> dict[str, str]:
    found = {}
    for name in forms.names():
        schema = forms.schema(name)
        properties = schema.get("properties") if isinstance(schema, dict) else None
        for field, prop in (properties or {}).items() if isinstance(properties, dict) else ():
            if isinstance(prop, dict) and prop.get(MASK_KEYWORD) in MASKS:
                found[field] = prop[MASK_KEYWORD]
    return found


def _display_names(engine, usernames) -> dict[str, str]:
    with engine.db.read() as session:
        return display_names(session, usernames)


def form_choices(engine, row) -> dict[str, list[dict]]:
    """``{field: [{value, label}]}``: what the open task's ``x-choicesFrom`` fields offer
    (``engine.tasks.choices``; people by display name, ``ledger.form_choices``); ``{}``
    once the task is closed."""
    if row.status != "open" or not row.form_key:
        return {}
    return {name: [{"value": value, "label": label} for value, label in offered]
            for name, offered in engine.tasks.choices(row.id).items()}


def shown_fields(principal, row, extensions: dict) -> frozenset[str]:
    """What of the task's child ``principal`` sees unmasked (docs/privacy.md "What a task shows
    of its child"): nothing unless a candidate; a candidate the name and gender, and while the
    task is open the contact fields it declares (``subjectFields``)."""
    if not access.can_work(principal, row):
        return frozenset()
    if row.status != "open":
        return CANDIDATE_FIELDS
    return CANDIDATE_FIELDS | needed_fields(extensions.get("properties") or {})


def log_case_view(engine, username: str, instance_id: int, view: str, task_id: str | None = None,
                  fields: list[str] | None = None, extra: dict | None = None, action: str | None = None) -> None:
    """Append the access-log row of one look at a case: a task (``view`` = ``task``: its data,
    instructions and the case so far) or the case's events (``case_events``). A case shows
    causes (poverty, disability) and guardians' names, so every look is logged (DOMAIN.md
    "Personal data"; issue 8). Subject ``child:<id>`` when the case is about a child, else
    ``instance:<id>``; detail ``{view, instance_id, task_id?, fields?, **extra}`` (``fields``:
    the child's values shown unmasked; the action is then ``reveal``; ``extra``: what else was
    seen, e.g. a photo's id and hash; ``action``: ``export`` or ``print`` for a copy taken
    away). Runs in its own short
    transaction through ``ledger.access.log_access`` (never around a page render)."""
    with engine.db.transaction() as session:
        child_id = session.scalar(select(HumanTask.subject_id).where(
            HumanTask.instance_id == instance_id, HumanTask.subject_id.is_not(None)).limit(1))
        detail = {"view": view, "instance_id": instance_id, **({"task_id": task_id} if task_id else {}),
                  **({"fields": list(fields)} if fields else {}), **(extra or {})}
        access.log_access(session, username, action or ("reveal" if fields else "view"),
                          f"child:{child_id}" if child_id else f"instance:{instance_id}", detail, engine.clock())
