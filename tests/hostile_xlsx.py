"""Hostile .xlsx files for upload tests, built from a real workbook with ``zipfile``."""
from __future__ import annotations

import io
import zipfile

import openpyxl

SHEET = "xl/worksheets/sheet1.xml"
WORKBOOK = "xl/workbook.xml"
_LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
BILLION_LAUGHS = f'<!DOCTYPE worksheet [<!ENTITY lol0 "lol">{_LAUGHS}]>'
EXTERNAL_ENTITY = '<!DOCTYPE worksheet [<!ENTITY lol9 SYSTEM "file:///etc/passwd">]>'


def workbook(*rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewritten(data: bytes, member: str, change) -> bytes:
    """``data`` with ``member``'s bytes replaced by ``change(old bytes)``."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info, change(content) if info.filename == member else content)
    return out.getvalue()


def with_doctype(data: bytes, doctype: str, member: str = SHEET, encoding: str = "utf-8") -> bytes:
    """A DTD before the root element of ``member``; the first cell's text uses entity
    ``lol9`` (a billion "lol"s, or the external file)."""
    def change(content: bytes) -> bytes:
        text = content.decode("utf-8")
        if text.startswith("<?xml"):
            text = text[text.index("?>") + 2:]
        text = text.replace("<t>", "<t>&lol9;", 1)
        return f'<?xml version="1.0" encoding="{encoding}"?>{doctype}{text}'.encode(encoding)
    return rewritten(data, member, change)


def zip_bomb(data: bytes, unpacked: int) -> bytes:
    """The sheet padded with ``unpacked`` bytes of blanks (they compress about 1000:1)."""
    def change(content: bytes) -> bytes:
        return content.replace(b"<sheetData>", b" " * unpacked + b"<sheetData>", 1)
    return rewritten(data, SHEET, change)


def lying_sizes(data: bytes) -> bytes:
    """The sheet's declared unpacked size (local header and central directory) says less
    than its data holds: what a zip bomb does to get past a check of declared sizes."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo(SHEET)
    patched = bytearray(data)
    small = (info.file_size // 2).to_bytes(4, "little")
    patched[info.header_offset + 22:info.header_offset + 26] = small          # local file header
    central = archive.start_dir
    while True:                                                                  # central directory entry
        name_len = int.from_bytes(patched[central + 28:central + 30], "little")
        if patched[central + 46:central + 46 + name_len].decode() == SHEET:
            patched[central + 24:central + 28] = small
            return bytes(patched)
        extra = int.from_bytes(patched[central + 30:central + 32], "little")
        comment = int.from_bytes(patched[central + 32:central + 34], "little")
        central += 46 + name_len + extra + comment
