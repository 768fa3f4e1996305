"""The texts of the responsibility agreements (issue 12): templates kept as files in the
repository (``processes/templates/agreement_<kind>.txt``), rendered with the parties and
targets, and the signed document (the text plus each party's confirmation with its time)
as PDF-ready HTML and .docx.

A template is plain text with Jinja placeholders (``{{ party_a }}``, ``{{ party_b }}``,
``{{ school_year }}``, ``{{ town_name }}``, ``{{ dropout_target }}``, ``{{ return_target }}``),
rendered in Jinja's sandbox: the first line is the title, blank lines separate paragraphs.
"""
from __future__ import annotations

import hashlib
from io import BytesIO
from pathlib import Path

from docx import Document
from docx.shared import Pt
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

TEMPLATES = Path(__file__).resolve().parent.parent / "processes" / "templates"
# kind: (title of the kind, tier)
KINDS = {
    "town_school": ("镇政府—学校 控辍保学目标责任书", 1),
    "town_village": ("镇政府—村（场、社区） 控辍保学目标责任书", 1),
    "school_head_teacher": ("学校—班主任 校内控辍保学责任书", 2),
    "village_grid_worker": ("村（场、社区）—网格员 辖区控辍保学责任书", 2),
}
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def template_source(kind: str) -> str:
    """The template file's text; KeyError for an unknown kind."""
    if kind not in KINDS:
        raise KeyError(kind)
    return (TEMPLATES / f"agreement_{kind}.txt").read_text(encoding="utf-8")


def render_text(kind: str, context: dict) -> str:
    """The agreement's text for ``context`` (party_a, party_b, school_year, town_name,
    dropout_target, return_target). A missing placeholder value raises (StrictUndefined):
    no agreement is ever issued with a gap in it."""
    return _ENV.from_string(template_source(kind)).render(**{k: _number(v) for k, v in context.items()})


# What each placeholder stands for, as the texts page shows it (issue 17: no internal words).
PLACEHOLDERS = {"party_a": "甲方", "party_b": "乙方", "school_year": "学年", "town_name": "乡镇名称",
                "dropout_target": "辍学率控制目标", "return_target": "劝返复学目标"}


def preview(kind: str) -> str:
    """The template with each placeholder shown as 【its meaning】 (``PLACEHOLDERS``), for
    reading before a campaign. KeyError for an unknown kind; a template naming a placeholder
    not in PLACEHOLDERS raises (StrictUndefined), as signing it would."""
    return render_text(kind, {name: f"【{word}】" for name, word in PLACEHOLDERS.items()})


def _number(value):
    """0.0 → "0", 99.5 → "99.5": targets read as people write them."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def signed_text(text: str, confirmations: list[tuple[str, str]]) -> str:
    """The document as kept: the agreement's text, then one line per confirmation
    ``(party label, "name (account) confirmed ... at time")``."""
    lines = [text.rstrip(), "", "确认记录"]
    lines += [f"{label}：{what}" for label, what in confirmations]
    return "\n".join(lines) + "\n"


def sha256(text: str) -> str:
    """The SHA-256 (hex) of the document's UTF-8 text, as written to the audit chain."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def paragraphs(text: str) -> tuple[str, list[str]]:
    """(title, paragraphs): the first line is the title, each further line a paragraph."""
    lines = [line.strip() for line in text.splitlines()]
    title = next((line for line in lines if line), "")
    body = lines[lines.index(title) + 1:] if title else lines
    return title, [line for line in body if line]


def to_docx(text: str) -> bytes:
    """The document as .docx: the title centred and bold, a paragraph per line."""
    title, body = paragraphs(text)
    document = Document()
    heading = document.add_paragraph()
    heading.alignment = 1
    run = heading.add_run(title)
    run.bold, run.font.size = True, Pt(16)
    for line in body:
        document.add_paragraph(line)
    out = BytesIO()
    document.save(out)
    return out.getvalue()
