"""A task's JSON Schema + UI schema as HTML form fields, and the posted strings back as JSON.

``build_fields(schema, ui_schema)`` gives one ``Field`` per top-level property, in
``ui:order`` (``"*"`` = the rest) or else the schema's order. The widget is chosen so:

=========================================================  ==============================
schema (and UI schema)                                      widget
=========================================================  ==============================
boolean with ``const: true`` (a confirmation)               ``confirm``: one checkbox
boolean                                                     ``yesno``: 是/否 radio
array whose ``items`` have ``enum`` / ``oneOf``             ``checkboxes``
array marked ``x-photos`` (``ledger.task_photos``)          ``photos``: a file input (sent apart)
``enum`` / ``oneOf`` / ``anyOf`` of ``{const, title}``      ``radio`` if ``ui:widget: radio``
                                                            or ≤ 4 options, else ``select``
integer / number                                            ``number`` (step 1 / any)
``format: date`` or ``ui:widget: date``                     ``date``
``ui:widget: textarea``                                     ``textarea``
other strings                                               ``text``
objects, free arrays                                        ``unsupported`` (shown, not sent)
=========================================================  ==============================

A field marked ``x-choicesFrom`` (on a string, or on an array's ``items``) offers what the
task's ``choices`` say (``engine.tasks.choices``: people of the school, say, labelled by
their display name): a string as the choices above (``ui:widget: select`` for a list), an
array as ``checkboxes``. The engine accepts only those values.

``parse_submission(fields, form)`` turns the posted strings back into the schema's types.
Empty fields are left out, so a missing required field gets the engine's "此项为必填项";
a value that does not parse (``"abc"`` for an integer) is passed on as the string so the
engine's validation reports it in Chinese like every other error: the form is validated
in one place only (``engine.runtime``, with ``ledger.form_messages``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from engine.formschema import CHOICES_KEYWORD
from ledger.task_photos import KEYWORD as PHOTOS
from ledger.privacy import MASK_KEYWORD   # "id" | "phone" | "registry": a recorded value is shown masked
from ledger.task_photos import MAX_BYTES, photo_fields

CHOICE_RADIO_MAX = 4
YES_NO = [("true", "是"), ("false", "否")]
NOBODY_OFFERED = "暂无可选人员：请系统管理员先为本单位开通相应岗位的账号。"


@dataclass
class Field:
    """One form field: ``name`` is the JSON property; ``options`` are (value, label) strings."""

    name: str
    widget: str
    label: str
    kind: str                                  # JSON type the value is sent as
    required: bool = False
    help: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    item_kind: str | None = None               # for checkboxes: the items' JSON type
    offered: bool = False                      # options from the task's choices (x-choicesFrom)
    attrs: dict = field(default_factory=dict)  # extra HTML attributes (min, max, step, maxlength)
    default: object = None
    mask: str | None = None                    # x-mask: how a recorded value is shown (ledger.privacy.MASKS)


def build_fields(schema: dict | None, ui_schema: dict | None = None,
                 choices: dict[str, list[tuple[str, str]]] | None = None) -> list[Field]:
    """The fields of a form, in display order; ``[]`` for a task without a form.
    ``choices``: ``{field: [(value, label)]}`` of its ``x-choicesFrom`` fields (the task's,
    ``engine.tasks.choices``); such a field without them offers nothing."""
    if not isinstance(schema, dict):
        return []
    ui_schema = ui_schema if isinstance(ui_schema, dict) else {}
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    fields_ = []
    for name in _ordered(list(properties), ui_schema.get("ui:order")):
        prop = properties[name] if isinstance(properties[name], dict) else {}
        ui = ui_schema.get(name) if isinstance(ui_schema.get(name), dict) else {}
        if ui.get("ui:widget") == "hidden":
            continue  # rjsf's convention: filled by the process, not by the person
        fields_.append(_field(name, prop, ui, name in required, (choices or {}).get(name)))
        fields_[-1].mask = prop.get(MASK_KEYWORD) if isinstance(prop.get(MASK_KEYWORD), str) else None
    return fields_


def _ordered(names: list[str], order) -> list[str]:
    """rjsf's ``ui:order``: listed names first, ``"*"`` stands for all others in schema order."""
    if not isinstance(order, list):
        return names
    listed = [n for n in order if n in names]
    rest = [n for n in names if n not in listed]
    if "*" not in order:
        return listed + rest
    star = order.index("*")
    before = [n for n in order[:star] if n in names]
    after = [n for n in order[star + 1:] if n in names]
    return before + [n for n in names if n not in before and n not in after] + after


def _json_type(prop: dict) -> str:
    kind = prop.get("type")
    if isinstance(kind, list):  # ["string", "null"]: the non-null one is what a person enters
        kind = next((k for k in kind if k != "null"), "string")
    if kind is None and "const" in prop:
        kind = {bool: "boolean", int: "integer", float: "number"}.get(type(prop["const"]), "string")
    return kind or "string"


def _choices(prop: dict) -> list[tuple[str, str]]:
    """(value as posted, label) for ``enum`` (labels from ``enumNames``) or ``oneOf``/``anyOf`` consts."""
    if isinstance(prop.get("enum"), list):
        names = prop.get("enumNames") if isinstance(prop.get("enumNames"), list) else []
        return [(_text(v), str(names[i]) if i < len(names) else _text(v)) for i, v in enumerate(prop["enum"])
                if v is not None]
    for key in ("oneOf", "anyOf"):
        options = prop.get(key)
        if isinstance(options, list) and options and all(isinstance(o, dict) and "const" in o for o in options):
            return [(_text(o["const"]), str(o.get("title", _text(o["const"])))) for o in options]
    return []


def _text(value) -> str:
    """A JSON value as a form posts it back (booleans as ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _field(name: str, prop: dict, ui: dict, required: bool, offered: list | None = None) -> Field:
    items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
    if CHOICES_KEYWORD in prop or CHOICES_KEYWORD in items:
        # Offered by the task: a list of its choices, as if the schema had listed them.
        options = [{"const": value, "title": label} for value, label in offered or []]
        listed = {k: v for k, v in prop.items() if k != CHOICES_KEYWORD}
        if _json_type(prop) == "array":
            listed["items"] = {**{k: v for k, v in items.items() if k != CHOICES_KEYWORD}, "oneOf": options}
        else:
            listed["oneOf"] = options
        made = _field(name, listed, ui, required)
        made.offered = True
        if not options:   # an empty list, never a free text box in its place
            made.widget, made.help = ("checkboxes" if made.kind == "array" else "select"), NOBODY_OFFERED
        return made
    kind = _json_type(prop)
    label = str(ui.get("ui:title") or prop.get("title") or name)
    help_ = ui.get("ui:help") or prop.get("description")
    made = Field(name=name, widget="text", label=label, kind=kind, required=required,
                 help=str(help_) if help_ else None, default=prop.get("default"))
    widget = ui.get("ui:widget")
    if ui.get("ui:placeholder"):
        made.attrs["placeholder"] = str(ui["ui:placeholder"])
    if kind == "boolean":
        made.widget = "confirm" if prop.get("const") is True else "yesno"
        made.options = [] if made.widget == "confirm" else list(YES_NO)
    elif kind == "array" and prop.get(PHOTOS):
        made.widget = "photos"
        made.attrs.update(accept="image/jpeg,image/png", multiple="multiple")
        most = photo_fields({"properties": {name: prop}})[name]
        # checked in the browser before sending (static/photo_limits.js), and again by the server
        made.attrs.update({"data-max-bytes": str(MAX_BYTES), "data-max-files": str(most)})
        made.help = made.help or f"JPEG 或 PNG 照片，每张不超过 {MAX_BYTES // (1024 * 1024)} MB，最多 {most} 张。"
    elif kind == "array":
        items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
        made.options = _choices(items)
        made.widget = "checkboxes" if made.options else "unsupported"
        made.item_kind = _json_type(items)
    elif _choices(prop):
        made.options = _choices(prop)
        made.widget = "radio" if widget == "radio" or (widget != "select" and len(made.options) <= CHOICE_RADIO_MAX) \
            else "select"
    elif kind in ("integer", "number"):
        made.widget = "number"
        made.attrs["step"] = "1" if kind == "integer" else "any"
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if isinstance(prop.get(key), (int, float)):
                made.attrs[attr] = prop[key]
    elif kind == "string":
        if prop.get("format") == "date" or widget == "date":
            made.widget = "date"
        elif widget == "textarea":
            made.widget = "textarea"
        if isinstance(prop.get("maxLength"), int):
            made.attrs["maxlength"] = prop["maxLength"]
    else:
        made.widget = "unsupported"
    return made


def initial_values(fields_: list[Field]) -> dict:
    """Values to show on a fresh form: the schema's ``default``s, as strings (lists for checkboxes)."""
    values = {}
    for f in fields_:
        if f.default is None:
            continue
        if f.widget == "checkboxes":
            values[f.name] = [_text(v) for v in f.default] if isinstance(f.default, list) else [_text(f.default)]
        else:
            values[f.name] = _text(f.default)
    return values


def posted_values(fields_: list[Field], form) -> dict:
    """What the person entered, to show again next to the errors (``form`` is a MultiDict).
    Files cannot be shown again: a photo field is chosen anew."""
    return {f.name: form.getlist(f.name) if f.widget == "checkboxes" else form.get(f.name, "")
            for f in fields_ if f.widget != "photos"}


def parse_submission(fields_: list[Field], form) -> dict:
    """Posted strings → JSON data for ``complete_task``; empty optional fields are left out.
    Photo fields come as files (``api.uploads``), never from here."""
    data = {}
    for f in fields_:
        if f.widget in ("unsupported", "photos"):
            continue
        if f.widget == "checkboxes":
            chosen = [_coerce(v, f.item_kind or "string") for v in form.getlist(f.name) if v.strip()]
            if chosen:
                data[f.name] = chosen
            continue
        if f.widget == "confirm":
            if form.get(f.name):
                data[f.name] = True
            elif f.required:
                data[f.name] = False  # unticked: the engine answers "请确认此项" for const true
            continue
        # Browsers post textarea line breaks as CRLF; the data should not depend on the browser.
        raw = form.get(f.name, "").replace("\r\n", "\n").strip()
        if raw:
            data[f.name] = _coerce(raw, f.kind)
    return data


def _coerce(raw: str, kind: str):
    """The JSON value of one posted string; the string itself when it does not parse."""
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind in ("integer", "number"):
        try:
            number = Decimal(raw)
        except InvalidOperation:
            return raw
        # 1e999999999 is a finite Decimal but a gigabyte-sized int: such input is not a number here.
        if not number.is_finite() or abs(number.adjusted()) > 300:
            return raw
        if number == number.to_integral_value():
            return int(number)
        return raw if kind == "integer" else float(number)
    return raw
