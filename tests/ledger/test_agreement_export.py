"""The register's Excel export (``ledger.agreement_views.export_xlsx``) keeps typed text as text
(a refusal reason or a name starting with "=" must not become a formula in the reader's Excel) and
writes times as local Excel date-times."""
from __future__ import annotations

from io import BytesIO

from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from ledger.agreement_views import EXPORT_COLUMNS, export_xlsx

SHANGHAI = ZoneInfo("Asia/Shanghai")
TYPED = '=HYPERLINK("http://example.invalid","张龙")'


def test_typed_text_starting_with_an_equals_sign_is_exported_as_text():
    item = {key: None for _, key in EXPORT_COLUMNS if key}
    item.update(tier=2, kind_name="班主任责任书", unit_name="蛟潭中学", status_name="有异议", confirmer_name=TYPED,
                refusal_reason="=1+2", settlement="@SUM(A1:A9)",
                party={"name": "+段雪", "username": "head_teacher-ez-8-1", "role_name": "班主任", "org_unit_name": "八年级一班"})
    sheet = load_workbook(BytesIO(export_xlsx({"school_year": "2025-2026", "items": [item]}, SHANGHAI))).active
    row = {title: cell for (title, _), cell in zip(EXPORT_COLUMNS, sheet[2])}
    for title, value in (("确认人", TYPED), ("异议理由", "=1+2"), ("异议处理", "@SUM(A1:A9)"), ("签订人", "+段雪")):
        assert row[title].data_type == "s" and row[title].value == value, title
    assert row["层级"].value == 2 and row["层级"].data_type == "n"


def test_times_are_local_excel_date_times():
    """Review M8: 确认时间 16:30 UTC is 00:30 the next day in Shanghai, written as a real
    date-time (a number Excel can sort and filter), not a UTC string."""
    item = {key: None for _, key in EXPORT_COLUMNS if key}
    item.update(tier=1, signed_at="2025-09-10T16:30:00+00:00", countersigned_at="2025-09-11T01:05:00+00:00",
                due_at="2025-09-19T15:59:59+00:00", party={"name": "蛟潭中心学校", "username": None,
                                                           "role_name": "校长", "org_unit_name": "蛟潭中心学校"})
    sheet = load_workbook(BytesIO(export_xlsx({"school_year": "2025-2026", "items": [item]}, SHANGHAI))).active
    row = {title: cell for (title, _), cell in zip(EXPORT_COLUMNS, sheet[2])}
    assert row["确认时间"].value == datetime(2025, 9, 11, 0, 30) and row["确认时间"].is_date
    assert row["会签时间"].value == datetime(2025, 9, 11, 9, 5) and row["截止"].value == datetime(2025, 9, 19, 23, 59, 59)
    assert row["确认时间"].number_format == "yyyy-mm-dd hh:mm"
