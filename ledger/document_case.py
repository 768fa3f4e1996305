"""One case read once for its documents (``ledger.documents``, ``ledger.ht_documents``): its completed
steps (``task_completed`` audit events, in order), the forms' option titles, people's
display names, the child as the register has it, and the org units. No Flask here."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from engine.persistence.models import HumanTask

from . import attempts
from .models import Child, OrgUnit, User
from .privacy import mask_id, mask_phone


def cn_date(value) -> str:
    """``2025-10-17`` (or a date) as ``2025年10月17日``; "" for none; anything else as given."""
    if not value:
        return ""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{day.year}年{day.month}月{day.day}日"


class Case:
    """``steps``: ``[{seq, element_id, task_id, actor, at, submitted}]``; ``row``: the child's
    register row as a dict (None when the case names no known child)."""

    def __init__(self, engine, instance_id: int):
        self.engine, self.instance_id, self.zone = engine, instance_id, engine.zone
        self.forms = engine.repository.forms(engine.runtime.get(instance_id).definition_id)
        events = engine.history.events(instance_id)
        started = next((json.loads(e.data or "{}") for e in events if e.kind == "instance_started"), {})
        child_id = (started.get("variables") or {}).get("child_id")
        key = started.get("business_key") or ""
        if child_id is None and key.startswith("child:") and key[6:].isdigit():   # a message start
            child_id = int(key[6:])
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

    def latest(self, element_id: str, *, before: int | None = None) -> dict | None:
        """The latest completion of ``element_id`` (with a sequence below ``before``)."""
        return next((s for s in reversed(self.steps) if s["element_id"] == element_id
                     and (before is None or s["seq"] < before)), None)

    def all(self, element_id: str) -> list[dict]:
        return [s for s in self.steps if s["element_id"] == element_id]

    def attempts(self, *, before: int | None = None) -> list[attempts.Attempt]:
        """The recorded persuasion attempts (``ledger.attempts``) completed before ``before``."""
        steps = [s for s in self.steps if before is None or s["seq"] < before]
        return attempts.from_steps(steps, self.zone, title=self.title, person=self.person)

    def done_on(self, step: dict | None) -> str:
        """The local day a step was completed (ISO), "" for none."""
        return step["at"].astimezone(self.zone).date().isoformat() if step else ""

    def person(self, username: str | None) -> str:
        return self.people.get(username, username) if username else ""

    def persons(self, usernames: list[str]) -> str:
        """People a form named (a plan's teachers) by display name, joined by "、"; an
        account gone reads 已删除账号, never its login (``ledger.form_choices.named``)."""
        from .form_choices import named
        missing = [u for u in usernames if u not in self.people]
        if missing:
            with self.engine.db.read() as session:
                self.people.update(session.execute(select(User.username, User.display_name)
                                                   .where(User.username.in_(missing))).all())
        return named(list(usernames), self.people)

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

    def unit(self, code: str | None) -> str:
        return self.units[code][0] if code in self.units else ""

    def child(self, *, id_number: str = "masked") -> dict:
        """{id, name, gender, birth_date, id_number, registry_no, school, class_name, village,
        address, hukou, guardian: {name, relation, phone (masked)}}; "" where the register has
        nothing (a line to fill in by hand). ``id_number``: "masked" (the file copy), "full",
        or "none" (the guardian's copy carries no ID number, issue 10 §7); the 学籍号 is
        masked like the ID number (it is "G" + the ID number, DOMAIN-REFERENCE §2)."""
        c = self.row
        if c is None:
            return {"id": None, "guardian": {}}
        class_name, grade = self.unit(c["class_code"]), self.units.get(c["class_code"], (None, None, None))[2]
        if grade in self.units and self.units[grade][1] == "grade" and not class_name.startswith(self.unit(grade)):
            class_name = self.unit(grade) + class_name
        shown = {"masked": mask_id, "full": lambda v: v or "", "none": lambda v: ""}[id_number]
        registry = c.get("registry_no") or (f"G{c['id_number']}" if c["id_number"] else "")
        return {"id": c["id"], "name": c["name"], "gender": c["gender"], "birth_date": cn_date(c["birth_date"]),
                "id_number": shown(c["id_number"]), "registry_no": shown(registry),
                "school": self.unit(c["school_code"]), "class_name": class_name, "village": self.unit(c["village_code"]),
                "address": c["address"] or "", "hukou": c.get("hukou_place") or "",
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
