"""The persuasion attempts recorded in a case: one row per completed attempt task.

An attempt record says when, who, how, whom they met, and what came of it (MoE 2024
guidance on 劝返 records: time, person, method, result; DOMAIN-REFERENCE §3.5). Each
attempt task's form writes them under a per-task prefix ``p`` (the helpers' shared
convention, docs/processes.md "Attempt records"):

  ``{p}_on`` (date), ``{p}_time`` (HH:MM), ``{p}_participants`` (who went, with roles),
  ``{p}_method`` (``phone`` | ``home_visit`` | ``door_check`` | ``summons`` | ``joint``),
  ``{p}_met`` (whom they met), ``{p}_attitude`` (``supportive`` | ``hesitant`` |
  ``refusing`` | ``not_met``), ``{p}_result`` (text), ``{p}_next_step`` (text).

Prefixes: phone_call → ``call``, home_visit → ``visit``, village_check → ``village``,
joint_persuasion → ``joint``, legal_education → ``legal``. Forms change independently of
this module, so every field may be missing: the date falls back to the day the task was
completed (local time), the people to who completed it, the method to the task's own, and
the result to what the older forms recorded (``call_reached``, ``visit_outcome``, ``cause``
…). Nothing here reads Flask or writes anything.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Callable, Iterable

# element id: (prefix, measure as printed, the method when the form does not say)
ATTEMPT_TASKS = {
    "phone_call": ("call", "电话联系监护人", "phone"),
    "home_visit": ("visit", "家访", "home_visit"),
    "village_check": ("village", "村级入户核实", "door_check"),
    "joint_persuasion": ("joint", "镇村校联合劝返", "joint"),
    "legal_education": ("legal", "法治教育", "summons"),
}
METHODS = {"phone": "电话", "home_visit": "家访", "door_check": "入户", "summons": "约谈", "joint": "联合劝返"}
ATTITUDES = {"supportive": "支持返校", "hesitant": "犹豫观望", "refusing": "拒绝送返", "not_met": "未见到监护人"}
# Older forms' people fields, read when ``{p}_participants`` is missing.
_LEGACY_PEOPLE = {"village_check": "grid_workers"}


@dataclass(frozen=True)
class Attempt:
    """One attempt: ``on`` the day it happened (ISO date), ``time`` HH:MM or "", the rest text
    in the form's words; ``seq`` the audit sequence of its completion (orders same-day rows)."""

    element_id: str
    measure: str
    on: str
    time: str
    people: str
    method: str
    method_title: str
    met: str
    attitude: str
    attitude_title: str
    result: str
    next_step: str
    seq: int

    def as_dict(self) -> dict:
        return asdict(self)


def from_steps(steps: Iterable[dict], zone, *, title: Callable[[dict, str], str] | None = None,
               person: Callable[[str | None], str] | None = None) -> list[Attempt]:
    """Attempts of completed steps, in the order they happened (date, time, then sequence).

    ``steps``: ``[{seq, element_id, actor, at (aware datetime), submitted (dict)}]``, e.g.
    ``ledger.documents``'s reading of the audit history; steps that are not attempt tasks
    are skipped. ``title(step, field)`` turns a stored option into its form's words (the
    raw value without it); ``person(username)`` a username into a display name."""
    title = title or (lambda step, field: str(step["submitted"].get(field) or ""))
    person = person or (lambda username: username or "")
    found = [_attempt(step, zone, title, person) for step in steps if step.get("element_id") in ATTEMPT_TASKS]
    return sorted(found, key=lambda a: (a.on, a.time, a.seq))


def _attempt(step: dict, zone, title, person) -> Attempt:
    element_id, got = step["element_id"], step.get("submitted") or {}
    p, measure, default_method = ATTEMPT_TASKS[element_id]
    text = lambda field: _text(got.get(f"{p}_{field}"))  # noqa: E731
    on = _iso(got.get(f"{p}_on")) or _done_on(step.get("at"), zone)
    method = text("method") or default_method
    attitude = text("attitude") or _text(got.get("visit_guardian_attitude") or got.get("legal_guardian_attitude"))
    people = text("participants") or _text(got.get(_LEGACY_PEOPLE.get(element_id, ""))) or person(step.get("actor"))
    return Attempt(element_id=element_id, measure=measure, on=on, time=text("time"), people=people,
                   method=method, method_title=METHODS.get(method, method), met=text("met"),
                   attitude=attitude, attitude_title=ATTITUDES.get(attitude, attitude),
                   result=text("result") or _legacy_result(element_id, step, title), next_step=text("next_step"),
                   seq=int(step.get("seq") or 0))


def _legacy_result(element_id: str, step: dict, title) -> str:
    """What the forms before the shared convention recorded, as one sentence."""
    got = step.get("submitted") or {}
    pick = lambda field: title(step, field) if got.get(field) not in (None, "", []) else ""  # noqa: E731
    if element_id == "phone_call":
        if "call_reached" not in got:
            return pick("call_notes")
        heard = f"（接听：{got['call_answered_by']}）" if got.get("call_answered_by") else ""
        promised = got.get("call_promised_return") and f"承诺{_cn(got['call_promised_return'])}返校"
        parts = [("已" if got.get("call_reached") else "未") + "联系上监护人" + heard, pick("call_reason"),
                 got.get("call_notes"), promised]
    elif element_id == "home_visit":
        attitude = pick("visit_guardian_attitude")
        parts = [pick("visit_outcome"), attitude and "监护人" + attitude, got.get("visit_record")]
    elif element_id == "village_check":
        cause, plan = pick("cause"), pick("plan_measures")
        parts = [cause and "核实原因：" + cause, got.get("cause_detail"), plan and "帮扶措施：" + plan]
    elif element_id == "legal_education":
        parts = [got.get("legal_content")]
    else:
        parts = [pick("joint_method"), got.get("joint_result")]
    return "；".join(str(p) for p in parts if p)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(str(v) for v in value if v not in (None, ""))
    return str(value).strip()


def _iso(value) -> str:
    """An ISO date from a form value, "" when it is not one (then the completion day counts)."""
    try:
        return date.fromisoformat(str(value)[:10]).isoformat() if value else ""
    except ValueError:
        return ""


def _done_on(at, zone) -> str:
    return at.astimezone(zone).date().isoformat() if isinstance(at, datetime) else ""


def _cn(value) -> str:
    iso = _iso(value)
    if not iso:
        return str(value)
    day = date.fromisoformat(iso)
    return f"{day.year}年{day.month}月{day.day}日"
