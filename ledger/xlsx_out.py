"""Writing Excel exports safely: text stays text, times read as the town's clock.

Shared by every export (the agreement register, the case list) so the formula-injection
guard and the time-zone rule are written once.
"""
from __future__ import annotations

from datetime import datetime

LOCAL_TIME_FORMAT = "yyyy-mm-dd hh:mm"


def append_text(sheet, values: list) -> None:
    """One row whose text stays text: openpyxl makes a string starting with "=" a formula, so a
    typed refusal reason or name like ``=HYPERLINK(...)`` would run in the reader's Excel
    (formula injection); every string cell is written as a string."""
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def excel_local(value, zone):
    """An aware datetime or ISO date-time (UTC, as kept) as the naive local date-time Excel
    shows (Excel has no time zones: the cell reads as the town's clock, ``zone``)."""
    if not value:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)
