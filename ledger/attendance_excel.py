"""A school's day of attendance from an Excel file (.xlsx, issue 4 "Attendance").

The first sheet. Its header is the first row, among the first five non-blank ones (title
rows above it are common), with the columns ``学生ID`` (required), ``姓名``, ``班级``,
``状态`` (required: 到校 | 请假 | 无故缺课, or the API codes) and ``原因``; a header may
carry a hint (``状态（到校/请假/无故缺课）``). ``姓名`` and ``班级`` (class code or name),
when filled, must match the register: they catch a mistyped ID. School and date come with the upload, not from the sheet.

Every problem is reported at once, keyed ``rows.<n>`` with ``n`` the spreadsheet's row
number (message ``第n行：…``), or ``file`` for the file itself; a file with any bad row
stores nothing (InvalidInput, 422). Limits: ``MAX_BYTES`` (413), ``MAX_UNPACKED`` bytes
unzipped (a zip bomb is refused before openpyxl reads it; ``zipfile`` never inflates a
member past its declared size), ``MAX_ROWS`` data rows. An XML part with a DTD (entity
expansion, "billion laughs", external entities) is refused before openpyxl reads it (422);
openpyxl itself parses with ``defusedxml`` when it is installed, as it is here.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date
from xml.etree.ElementTree import ParseError

import openpyxl
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from engine.errors import EngineError, InvalidInput, TooLarge

from .attendance import MAX_RECORDS, AttendanceResult, record_day
from .attendance_models import EXCUSED, PRESENT, STATUSES, UNEXCUSED

MAX_BYTES = 2 * 1024 * 1024
MAX_UNPACKED = 10 * 1024 * 1024
MAX_ROWS = MAX_RECORDS
MAX_SCANNED = MAX_ROWS + 1000        # physical rows read, blank ones included
MAX_COLUMNS = 30
STATUS_LABELS = {"到校": PRESENT, "请假": EXCUSED, "无故缺课": UNEXCUSED, **{s: s for s in STATUSES}}
COLUMNS = {"学生id": "child_id", "姓名": "name", "班级": "class", "状态": "status", "原因": "reason"}
REQUIRED = ("学生ID", "状态")
MAX_TITLE_ROWS = 5
MISSING_HEADER = f"前 {MAX_TITLE_ROWS} 行中找不到表头：应有 学生ID、状态 两列（以及 姓名、班级、原因）"
NOT_XLSX = "只接受 Excel 工作簿（.xlsx）；.xls、.csv 等格式请在 Excel 中另存为 .xlsx"
DAMAGED = "工作簿已损坏或格式不正确，无法读取；请在 Excel 中打开后重新另存为 .xlsx"
HAS_DTD = "工作簿含有 XML 文档类型声明（DTD），出于安全考虑不予读取；请在 Excel 中重新另存为 .xlsx"
XML_PARTS = (".xml", ".rels", ".vml")   # the parts openpyxl parses as XML
_UNKNOWN_ENCODING = 18                  # expat's XML_ERROR_UNKNOWN_ENCODING


_ROW_REF = re.compile(r"rows\.(\d+)")


@dataclass
class Sheet:
    rows: list[dict] = field(default_factory=list)      # {child_id, status, reason?, name?, class?}
    keys: list[str] = field(default_factory=list)       # rows.<n> for each row
    errors: dict[str, str] = field(default_factory=dict)


def record_upload(engine, school_code: str, day: date, data: bytes, filename: str | None, reported_by: str,
                  **options) -> AttendanceResult:
    """Read the file and ``record_day`` it (``options`` as there); all row errors or none stored."""
    sheet = read_sheet(data, filename)
    if sheet.errors and not sheet.rows:
        raise InvalidInput("文件有误，未保存任何记录 (nothing was stored)", errors=_numbered(sheet.errors))
    if not sheet.rows:
        raise InvalidInput("文件中没有数据行", errors={"file": "文件中没有数据行"})
    try:
        return record_day(engine, school_code, day, sheet.rows, reported_by, row_keys=sheet.keys,
                          known_errors=sheet.errors, **options)
    except InvalidInput as err:
        raise InvalidInput(err.message, errors=_numbered(err.errors or {})) from None


def read_sheet(data: bytes, filename: str | None) -> Sheet:
    """Parse the upload; raises for the file as a whole, collects row problems in ``errors``."""
    if filename and not filename.lower().endswith(".xlsx"):
        raise InvalidInput(NOT_XLSX, errors={"file": NOT_XLSX})
    if len(data) > MAX_BYTES:
        raise TooLarge(f"文件超过 {MAX_BYTES // (1024 * 1024)} MB", errors={"file": "文件过大"})
    _check_zip(data)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - anything openpyxl cannot read is "not a workbook" to the user
        raise InvalidInput(NOT_XLSX, errors={"file": NOT_XLSX}) from None
    try:
        if not book.worksheets:
            raise InvalidInput("工作簿中没有工作表", errors={"file": "工作簿中没有工作表"})
        return _read_rows(book.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True))
    except EngineError:
        raise
    except Exception:  # noqa: BLE001 - the sheet is parsed lazily, row by row: a broken part shows here
        raise InvalidInput(DAMAGED, errors={"file": DAMAGED}) from None
    finally:
        book.close()


def _check_zip(data: bytes) -> None:
    """Refuse, before openpyxl reads anything: not a zip, more than ``MAX_UNPACKED`` bytes
    unzipped (413), an XML part with a DTD (422)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            if unpacked > MAX_UNPACKED:
                raise TooLarge("文件解压后过大", errors={"file": f"文件解压后超过 {MAX_UNPACKED // (1024 * 1024)} MB"})
            for info in archive.infolist():
                if info.filename.lower().endswith(XML_PARTS):
                    _check_prolog(archive, info)
    except (zipfile.BadZipFile, zipfile.LargeZipFile):
        raise InvalidInput(NOT_XLSX, errors={"file": NOT_XLSX}) from None
    except (OSError, EOFError, RuntimeError, NotImplementedError, ValueError):
        # a damaged or encrypted member, an unknown compression method
        raise InvalidInput(DAMAGED, errors={"file": DAMAGED}) from None


def _check_prolog(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """A DTD can only stand before the root element: parse up to it, refusing any DTD."""
    with archive.open(info) as part:
        try:
            for _ in iterparse(part, events=("start",), forbid_dtd=True):
                return
        except DefusedXmlException:
            raise InvalidInput(HAS_DTD, errors={"file": HAS_DTD}) from None
        except LookupError:   # an encoding Python does not know: its prolog cannot be checked
            raise InvalidInput(DAMAGED, errors={"file": DAMAGED}) from None
        except ParseError as exc:
            if exc.code == _UNKNOWN_ENCODING:   # one expat cannot read (multi-byte): the same
                raise InvalidInput(DAMAGED, errors={"file": DAMAGED}) from None
            # Malformed after any DTD would have been met (Excel's VML parts often are):
            # whether the part matters is openpyxl's call.
            return


def _read_rows(rows) -> Sheet:
    sheet, header, skipped = Sheet(), None, 0
    for number, values in enumerate(rows, start=1):
        if number > MAX_SCANNED:
            raise InvalidInput("文件行数过多", errors={"file": f"文件超过 {MAX_SCANNED} 行"})
        if all(_blank(v) for v in values):
            continue
        if header is None:   # a title row or two above the header is common: skip them
            header, skipped = _header(values), skipped + 1
            if header is None and skipped >= MAX_TITLE_ROWS:
                raise InvalidInput(MISSING_HEADER, errors={"file": MISSING_HEADER})
            continue
        if len(sheet.rows) + len(sheet.errors) >= MAX_ROWS:
            raise InvalidInput("数据行过多", errors={"file": f"每个文件最多 {MAX_ROWS} 行数据"})
        cells = {name: values[index] if index < len(values) else None for name, index in header.items()}
        row, problem = _row(cells)
        if problem:
            sheet.errors[f"rows.{number}"] = problem
        else:
            sheet.rows.append(row)
            sheet.keys.append(f"rows.{number}")
    if header is None:
        raise InvalidInput(MISSING_HEADER, errors={"file": MISSING_HEADER})
    return sheet


def _header(values) -> dict[str, int] | None:
    """Column positions if ``values`` holds the required labels, else None."""
    found: dict[str, int] = {}
    for index, value in enumerate(values):
        text = str(value).strip().lower() if value is not None else ""
        for label, name in COLUMNS.items():
            if text.startswith(label) and name not in found:
                found[name] = index
    return found if all(COLUMNS[label.lower()] in found for label in REQUIRED) else None


def _row(cells: dict) -> tuple[dict, str | None]:
    child_id = _integer(cells["child_id"])
    if child_id is None:
        return {}, f"学生ID {_show(cells['child_id'])} 不是有效的编号"
    status = STATUS_LABELS.get(_text(cells["status"]))
    if status is None:
        return {}, f"儿童 {child_id} 的状态 {_show(cells['status'])} 无效（应为 到校、请假 或 无故缺课）"
    row = {"child_id": child_id, "status": status}
    for name in ("reason", "name", "class"):
        if _text(cells.get(name)):
            row[name] = _text(cells[name])
    return row, None


def _integer(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _text(value)
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() if value is not None else ""


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _show(value) -> str:
    text = _text(value)
    return f"“{text[:20]}”" if text else "（空）"


def _numbered(errors: dict) -> dict:
    """``rows.<n>`` messages start with ``第n行：`` (the key alone is easy to miss in a list)."""
    return {key: _ROW_REF.sub(r"第\1行", f"第{key.split('.', 1)[1]}行：{message}" if key.startswith("rows.") else message)
            for key, message in errors.items()}
