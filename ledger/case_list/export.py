"""The case list as an Excel workbook: what the page lists, every line, masked as on the page."""
from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from ..xlsx_out import LOCAL_TIME_FORMAT, append_text, excel_local

EXPORT_MAX = 20_000      # lines in one export; more: narrow the filters (the workbook is built in memory)
COLUMNS = (("案件编号", "id"), ("流程", "process_name"), ("版本", "version"), ("状态", "status_name"),
           ("结案结果", "outcome_label"), ("学生", None), ("学校", None), ("村（社区）", None),
           ("当前环节", None), ("最近期限", "due_at"), ("逾期", None), ("发起时间", "started_at"), ("结案时间", "closed_at"),
           ("发起人", "started_by_name"))
TIMES = frozenset({"started_at", "closed_at", "due_at"})


def export_xlsx(data: dict, zone) -> bytes:
    """``query.case_list``'s dict (every line) as an .xlsx workbook, one row per case: the
    child's masked name only (as listed), times as local date-times (``zone``)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "案件清单"
    append_text(sheet, [title for title, _ in COLUMNS])
    for item in data["items"]:
        child = item["child"] or {}
        extra = {"学生": child.get("name") or "—", "学校": child.get("school_name") or "",
                 "村（社区）": child.get("village_name") or "", "当前环节": "、".join(item["current_steps"]),
                 "逾期": "是" if item["overdue"] else ""}
        append_text(sheet, [extra[title] if key is None else excel_local(item[key], zone) if key in TIMES
                            else item[key] for title, key in COLUMNS])
        for (_, key), cell in zip(COLUMNS, sheet[sheet.max_row]):
            if key in TIMES and cell.value is not None:
                cell.number_format = LOCAL_TIME_FORMAT
    for index, (_, key) in enumerate(COLUMNS, start=1):
        if key in TIMES:
            sheet.column_dimensions[get_column_letter(index)].width = 17
    out = BytesIO()
    book.save(out)
    return out.getvalue()
