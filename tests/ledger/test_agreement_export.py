"""The register's Excel export keeps typed text as text (``ledger.agreement_views.export_xlsx``):
a refusal reason or a name starting with "=" must not become a formula in the reader's Excel."""
from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from ledger.agreement_views import EXPORT_COLUMNS, export_xlsx

TYPED = '=HYPERLINK("http://example.invalid","张龙")'


def test_typed_text_starting_with_an_equals_sign_is_exported_as_text():
    item = {key: None for _, key in EXPORT_COLUMNS if key}
    item.update(tier=2, kind_name="班主任责任书", unit_name="蛟潭中学", status_name="有异议", signer_name=TYPED,
                refusal_reason="=1+2", settle_note="@SUM(A1:A9)",
                party={"name": "+段雪", "username": "head_teacher-ez-8-1", "role_name": "班主任", "org_unit_name": "八年级一班"})
    sheet = load_workbook(BytesIO(export_xlsx({"school_year": "2025-2026", "items": [item]}))).active
    row = {title: cell for (title, _), cell in zip(EXPORT_COLUMNS, sheet[2])}
    for title, value in (("确认人", TYPED), ("异议理由", "=1+2"), ("异议处理", "@SUM(A1:A9)"), ("签订人", "+段雪")):
        assert row[title].data_type == "s" and row[title].value == value, title
    assert row["层级"].value == 2 and row["层级"].data_type == "n"
