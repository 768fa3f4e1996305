"""A case's document as a .docx for the paper file (issue 10 §6), from the docxtpl templates
in ``ledger/doc_templates`` (made by ``ledger/doc_templates/make_templates.py``). The context
is ``ledger.documents.build``'s dict: the same data, copies and masking as the page."""
from __future__ import annotations

from io import BytesIO
from pathlib import Path

from docxtpl import DocxTemplate

TEMPLATES = Path(__file__).resolve().parent / "doc_templates"
BLANK = "＿＿＿＿＿＿"


def render(doc: dict) -> bytes:
    """The .docx bytes of ``doc`` (``kind`` picks the template). Raises KeyError for a kind
    with no template."""
    path = TEMPLATES / f"{doc['kind']}.docx"
    if not path.exists():
        raise KeyError(doc["kind"])
    template = DocxTemplate(str(path))
    template.render({"doc": doc, "blank": BLANK}, autoescape=True)
    out = BytesIO()
    template.save(out)
    return out.getvalue()
