"""What every exported workbook shares: tables with a frozen, bold header row and columns as wide
as their content (a CJK character counting double), numbers as numbers, instants in Asia/Shanghai,
safe sheet names, and the download's headers."""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.worksheet.worksheet import Worksheet  # type: ignore[import-untyped]

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PERCENT = "0.00%"
HOURS = "0.0"
DATE = "yyyy-mm-dd"
INSTANT = "yyyy-mm-dd hh:mm:ss"
MAX_WIDTH = 60
BOLD = Font(bold=True)
SHEET_NAME_MAX = 31
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Column:
    header: str
    number_format: str | None = None  # for the column's numbers, dates and instants


def display_width(text: str) -> int:
    """How many narrow characters' room `text` takes (wide and full-width characters: two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def number(value: Decimal | int | float) -> int | float:
    """A number a cell holds as a number: whole ones as integers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def local(at: datetime) -> datetime:
    """An instant as the Asia/Shanghai wall-clock time a cell shows (cells hold no offset)."""
    return at.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)


def _shown(value: Any, number_format: str | None) -> str:
    """The text a cell shows, for its width."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return "2000-01-01 00:00:00"
    if isinstance(value, date):
        return "2000-01-01"
    if isinstance(value, float) and number_format == PERCENT:
        return f"{value * 100:.2f}%"
    return str(value)


def sheet_name(label: str, used: Iterable[str]) -> str:
    """`label` as a sheet name: without []:*?/\\, at most 31 characters, unlike the names `used`."""
    base = _NOT_IN_SHEET_NAMES.sub("_", label).strip("'") or "表"
    taken = {name.lower() for name in used}
    name = base[:SHEET_NAME_MAX]
    n = 2
    while name.lower() in taken:
        suffix = f"({n})"
        name = base[:SHEET_NAME_MAX - len(suffix)] + suffix
        n += 1
    return name


def _cell(sheet: Worksheet, value: Any, number_format: str | None) -> Any:
    """A value as written: a cell with its number format for numbers, dates and instants."""
    if isinstance(value, datetime):
        number_format = number_format or INSTANT
    elif isinstance(value, date):
        number_format = number_format or DATE
    elif not isinstance(value, (int, float)) or isinstance(value, bool):
        return value
    if number_format is None:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def table(sheet: Worksheet, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> None:
    """Write a table on an empty sheet of a write-only workbook (a county's sheets are hundreds of
    thousands of rows: streamed, not held as cells): the header bold and frozen, every column as
    wide as its widest cell (a write-only sheet takes widths and panes before its rows)."""
    body = [list(row) for row in rows]
    widths = [display_width(column.header) for column in columns]
    for row in body:
        for i, (value, column) in enumerate(zip(row, columns, strict=True)):
            widths[i] = max(widths[i], display_width(_shown(value, column.number_format)))
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = min(width + 2, MAX_WIDTH)
    sheet.freeze_panes = "A2"
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = BOLD
        header.append(cell)
    sheet.append(header)
    for row in body:
        sheet.append([_cell(sheet, value, column.number_format) for value, column in zip(row, columns, strict=True)])


def notes(sheet: Worksheet, lines: Sequence[tuple[str, Any]]) -> None:
    """A sheet of (item, value) lines: what the workbook is, as of when, how to read its columns."""
    table(sheet, [Column("项目"), Column("内容")], [(item, value) for item, value in lines])


def new_workbook() -> Workbook:
    return Workbook(write_only=True)


def workbook_bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def content_disposition(name: str, fallback: str) -> str:
    """An attachment named `name` (RFC 5987 `filename*`, UTF-8) with an ASCII `fallback` for
    clients that read only `filename`."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", fallback) or "export.xlsx"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
