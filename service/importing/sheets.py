"""Reading spreadsheets for `trainrec import`: CSV (UTF-8, UTF-8 with BOM, GB18030/GBK, UTF-16) and
XLSX, row numbers as Excel shows them, and the cell parsers (dates, numbers, choices) rows share.

Pure: no application, no store. `service.importing.importer` maps the rows onto the service's commands.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
from openpyxl.utils import column_index_from_string  # type: ignore[import-untyped]

from domain.errors import Invalid
from domain.rules.programme_definition import SessionPlan
from domain.vocabulary import AssessmentResult, Form, Level, SchoolBasedContent, Selection

Cell = str | date
"""A cell as the importer sees it: stripped text, or a date from an Excel date cell."""

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls


class ImportFileError(Invalid):
    """The file as a whole cannot be imported (unreadable, no header, ambiguous columns): nothing
    is recorded (exit status 2 of `trainrec import`, 422 over HTTP)."""


class RowError(Exception):
    """One row cannot become a command: reported with a stable `code`, nothing is recorded."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


HEADER_SEARCH_ROWS = 10
"""How many non-blank rows a sheet may have above its header (title rows such as
"XX县2025年教师名单", an office's name, a date line)."""


def read_rows(path: Path, known: Collection[str] = ()) -> Iterator[tuple[int, dict[str, Cell]]]:
    """The data rows of the file's first sheet as (row number as Excel shows it, {header: cell}).

    The header is the first non-blank row, or, given the `known` header names (compared by
    `header_key`), the first of the first HEADER_SEARCH_ROWS non-blank rows holding at least two of
    them (or one, for a one-column sheet): the rows above it are titles and are skipped, as blank
    rows are (still counted, so the numbers match what Excel shows); cells under a blank header are
    dropped; "" is an empty cell.
    """
    keys = {header_key(name) for name in known}
    header: list[str] | None = None
    pending: list[tuple[int, list[Cell]]] = []  # non-blank rows read while looking for the header
    for number, cells in _raw_rows(path):
        if not any(cells):
            continue
        if header is None:
            if not keys:
                header = _header(cells)
                continue
            pending.append((number, cells))
            found = next((i for i, (_, row) in enumerate(pending) if _is_header(row, keys)), None)
            if found is None and len(pending) < HEADER_SEARCH_ROWS:
                continue
            found = 0 if found is None else found  # no row names the columns: the first is the header
            header = _header(pending[found][1])
            for later_number, later in pending[found + 1 :]:
                yield later_number, _cells(header, later)
            continue
        yield number, _cells(header, cells)
    if header is None and pending:
        found = next((i for i, (_, row) in enumerate(pending) if _is_header(row, keys)), 0)
        header = _header(pending[found][1])
        for later_number, later in pending[found + 1 :]:
            yield later_number, _cells(header, later)
    if header is None:
        raise ImportFileError("no_header", f"{path.name} has no header row")


def _header(cells: list[Cell]) -> list[str]:
    return _unique([normalise_text(c if isinstance(c, str) else c.isoformat()) for c in cells])


def _cells(header: list[str], cells: list[Cell]) -> dict[str, Cell]:
    padded = list(cells) + [""] * (len(header) - len(cells))
    return {name: value for name, value in zip(header, padded, strict=False) if name}


def _is_header(cells: list[Cell], keys: set[str]) -> bool:
    """Does the row name the kind's columns: two known headers, or one in a row of one cell?"""
    texts = [c for c in cells if isinstance(c, str) and c]
    matches = sum(1 for c in texts if header_key(c) in keys)
    return matches >= 2 or (matches == 1 and len(texts) == 1 and len(keys) == 1)


def _unique(header: list[str]) -> list[str]:
    """A repeated header gets " (2)", " (3)": kept apart, yet still matching its field (the importer
    then refuses two columns for one field)."""
    seen: dict[str, int] = {}
    unique: list[str] = []
    for name in header:
        seen[name] = seen.get(name, 0) + 1
        unique.append(f"{name} ({seen[name]})" if name and seen[name] > 1 else name)
    return unique


def _raw_rows(path: Path) -> Iterator[tuple[int, list[Cell]]]:
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic == XLSX_MAGIC:
        yield from _xlsx_rows(path)
    elif magic == OLE_MAGIC:
        raise ImportFileError("unsupported_file", f"{path.name} is an old .xls workbook: save it as .xlsx or CSV")
    else:
        yield from _csv_rows(path.read_bytes())


def decode_text(data: bytes) -> str:
    """UTF-8 with or without BOM, UTF-16 with BOM, else GB18030 (a superset of GBK, as Excel on
    Chinese Windows saves "CSV")."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFileError("unreadable_text", "the file is neither UTF-8 nor GB18030/GBK text") from None


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Cell]]]:
    try:
        text = decode_text(data)
    except UnicodeDecodeError:
        raise ImportFileError("unreadable_text", "the file is not valid text in its declared encoding") from None
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        # Each record is one spreadsheet row, even when a quoted cell spans several lines.
        for number, record in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            yield number, [normalise_text(c) for c in record]
    except csv.Error as error:
        raise ImportFileError("unreadable_csv", f"the CSV cannot be read: {error}") from None


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Cell]]]:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise ImportFileError("unreadable_xlsx", f"the workbook cannot be read: {error}") from None
    try:
        sheet = workbook.worksheets[0]
        merges = _vertical_merges(path, getattr(sheet, "_worksheet_path", ""))
        carried: dict[int, tuple[int, Cell]] = {}  # column index → (last row of its merge, value)
        sheet.reset_dimensions()  # some writers store wrong dimensions; read the rows as they are
        for row in sheet.iter_rows():
            number = next((c.row for c in row if getattr(c, "row", None) is not None), None)
            if number is None:
                continue
            cells = [xlsx_cell(c.value) for c in row]
            for column, last in merges.get(number, ()):
                if column < len(cells) and cells[column] != "":
                    carried[column] = (last, cells[column])
            for column, (last, value) in list(carried.items()):
                if number > last:
                    del carried[column]
                    continue
                cells += [""] * (column + 1 - len(cells))
                if cells[column] == "":
                    cells[column] = value
            yield number, cells
    finally:
        workbook.close()


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')


def _vertical_merges(path: Path, member: str) -> dict[int, list[tuple[int, int]]]:
    """The sheet's merged ranges spanning rows, as {first row: [(column index, last row)]}: a cell
    merged down several rows (项目编号 or 场次 once for a block of lines) gives its value to each of
    them. Merges across columns only (titles) are left alone: their other cells stay empty."""
    if not member:
        return {}
    try:
        with zipfile.ZipFile(path) as archive:
            xml = archive.read(member)
    except (KeyError, OSError, zipfile.BadZipFile):
        return {}
    merges: dict[int, list[tuple[int, int]]] = {}
    for first_col, first_row, _, last_row in _MERGE.findall(xml):
        if int(last_row) > int(first_row):
            merges.setdefault(int(first_row), []).append(
                (column_index_from_string(first_col.decode()) - 1, int(last_row)))
    return merges


def xlsx_cell(value: object) -> Cell:
    """An Excel value as text, except dates; 12.0 (how Excel stores 12) becomes "12"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, time):
        return value.isoformat()
    return normalise_text(str(value))


def normalise_text(text: str) -> str:
    return text.replace("\ufeff", "").strip()


def header_key(text: str) -> str:
    """A header as compared with the documented names: no spaces, `*` or bracketed notes, lower case."""
    text = re.sub(r"[（(【\[].*?[)）】\]]", "", text)
    return re.sub(r"[\s*＊:：]", "", text).lower()


_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)


def parse_date(cell: Cell, what: str) -> date:
    """2025-03-04, 2025/3/4, 2025.3.4, 2025年3月4日 (an optional time is ignored) or an Excel date cell."""
    if isinstance(cell, date):
        return cell
    match = _DATE.match(cell)
    if match is not None:
        year, month, day = (int(g) for g in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            pass
    raise RowError("invalid_date", f"{what}: {cell!r} is not a date (2025-03-04, 2025/3/4 or 2025年3月4日)")


def parse_int(cell: Cell, what: str) -> int:
    text = str(cell)
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number != number.to_integral_value():
        raise RowError("invalid_number", f"{what}: {text!r} is not a whole number")
    return int(number)


def parse_decimal(cell: Cell, what: str) -> Decimal:
    text = str(cell).replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise RowError("invalid_number", f"{what}: {text!r} is not a number")
    return number


def parse_choice(cell: Cell, what: str, choices: Mapping[str, str]) -> str:
    """The value `choices` maps the cell to (keys compared in lower case, without spaces)."""
    text = re.sub(r"\s", "", str(cell)).lower()
    if text in choices:
        return choices[text]
    accepted = " / ".join(dict.fromkeys(choices))
    raise RowError("unknown_value", f"{what}: {str(cell)!r} is not one of {accepted}")


# --- vocabularies: the Chinese words (and the API's values) a cell may hold ---------------------
def _choices(pairs: dict[str, Iterable[str]]) -> dict[str, str]:
    """{value: aliases} → {alias or value (lower case): value}."""
    return {alias.lower(): value for value, aliases in pairs.items() for alias in (value, *aliases)}


LEVELS = _choices({
    Level.NATIONAL: ("国家", "国家级", "国培"), Level.PROVINCIAL: ("省", "省级", "省培"),
    Level.CITY: ("市", "市级"), Level.COUNTY: ("县", "县级"), Level.SCHOOL: ("校", "校级", "校本"),
})
FORMS = _choices({
    Form.CONCENTRATED: ("集中", "集中培训"), Form.ONLINE: ("网络", "网络研修", "网络培训"),
    Form.SCHOOL_BASED: ("校本", "校本研修"), Form.OUTREACH: ("送教下乡",), Form.WORKSHOP: ("工作坊",),
    Form.SHADOWING: ("跟岗", "影子", "跟岗/影子", "跟岗研修"),
})
SELECTIONS = _choices({
    Selection.SELF_SELECTED: ("自主选课",), Selection.MANDATED: ("指令性",),
    Selection.SCHOOL_BASED: ("校本",),
})
CONTENTS = _choices({SchoolBasedContent.DESIGNATED: ("指定",), SchoolBasedContent.ELECTIVE: ("自选",)})
RESULTS = _choices({
    AssessmentResult.EXCELLENT: ("优秀",), AssessmentResult.GOOD: ("良好",),
    AssessmentResult.PASS: ("合格",), AssessmentResult.FAIL: ("不合格",),
})
PRESENCE = _choices({
    "1": ("是", "出席", "出勤", "到", "已到", "√", "✓", "✔", "y", "yes", "true", "present"),
    "0": ("否", "缺席", "缺勤", "缺", "未到", "×", "✗", "✘", "n", "no", "false", "absent"),
})


def parse_sessions(cell: Cell) -> list[SessionPlan]:
    """场次安排: "1@2025-03-04@8;2@2025-03-05@8" (no@date@hours), or "2025-03-04@8;2025-03-05@8"
    numbered in order; `;`, `；` or a line break between sessions."""
    plans: list[SessionPlan] = []
    items = [item.strip() for item in re.split(r"[;；\n]", str(cell)) if item.strip()]
    for position, item in enumerate(items, start=1):
        parts = [part.strip() for part in re.split(r"[@＠]", item)]
        if len(parts) == 2:
            no, (on, hours) = position, parts
        elif len(parts) == 3:
            no, on, hours = parse_int(parts[0], "场次安排 session number"), parts[1], parts[2]
        else:
            raise RowError("invalid_sessions", f"场次安排: {item!r} is not no@date@hours, e.g. 1@2025-03-04@8")
        plans.append(SessionPlan(no, parse_date(on, f"场次安排 session {no}"),
                                 parse_decimal(hours, f"场次安排 session {no} hours")))
    if not plans:
        raise RowError("invalid_sessions", "场次安排 names no session")
    return plans
