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

from ledger.directory import role_name, unit_names
from ledger.inbox import describe_tasks

_jinja = SandboxedEnvironment(autoescape=False)
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")
HISTORY_KINDS = {"task_completed", "instance_started", "timer_fired", "message_received", "task_claimed",
                 "task_assigned"}


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
    view.update({
        "form": {"schema": forms.schema(row.form_key) if row.form_key else None,
                 "ui_schema": forms.schema(row.ui_form_key) if row.ui_form_key else None},
        "data": data, "instructions": text, "instructions_html": html,
        "history": case_history(engine, row.instance_id),
        "documentation": getattr(task.task_spec, "documentation", None) if task is not None else None,
    })
    return view


def case_history(engine, instance_id: int) -> list[dict]:
    """Earlier steps of the case: what, who (role and unit), when."""
    events = [e for e in engine.history.events(instance_id) if e.kind in HISTORY_KINDS]
    task_ids = {e.task_id for e in events if e.task_id}
    rows = {}
    for task_id in task_ids:
        try:
            rows[task_id] = engine.tasks.get(task_id)
        except Exception:  # noqa: BLE001
            continue
    with engine.db.read() as session:
        names = unit_names(session, {r.org_unit for r in rows.values()})
    history = []
    for event in events:
        row = rows.get(event.task_id)
        data = json.loads(event.data or "{}")
        history.append({
            "kind": event.kind, "at": event.at.isoformat(), "actor": event.actor,
            "element_id": event.element_id, "title": (row.name if row else None) or data.get("name"),
            "role_name": role_name(row.candidate_role) if row else None,
            "org_unit_name": names.get(row.org_unit) if row else None,
        })
    return history
