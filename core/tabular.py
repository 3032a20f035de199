"""Rows as a spreadsheet: CSV that Excel reads (UTF-8 with a BOM, RFC 4180) and XLSX in openpyxl's write-only mode,
for every export (a survey's responses, the service desk's ledger). The rows are the caller's; this module only
writes them safely.

- What people wrote cannot become a formula: `neutralised` gives a cell that starts with = + - @ (or a tab or
  carriage return, OWASP's list) a leading apostrophe; the callers pass every free text through it.
- XML 1.0 cannot carry most control characters, and openpyxl refuses a string holding one: they are dropped from
  XLSX cells.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

CSV_MEDIA_TYPE = "text/csv"  # UTF-8: the web layer adds "; charset=utf-8" to any text/* type (Litestar does)
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"  # without it Excel reads a CSV as the machine's code page and garbles Chinese
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | bool | datetime | date | None


def neutralised(text: str) -> str:
    """`text`, made unable to start a formula in a spreadsheet."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def attachment(filename: str, display_name: str) -> str:
    """A Content-Disposition naming the file `filename` (ASCII), and (RFC 5987/6266) `display_name` for clients
    that read filename* (a Chinese name, say)."""
    return f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(display_name, safe='')}"


def _csv_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, date):  # a datetime too
        return cell.isoformat()
    return str(cell)


def csv_lines(rows: Iterable[Sequence[Cell]]) -> bytes:
    """`rows` as UTF-8 CSV lines (quoted as needed, CRLF line ends); the first chunk of a file starts with BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([_csv_text(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode()


def _xlsx_cell(cell: Cell) -> Cell:
    return ILLEGAL_CHARACTERS_RE.sub("", cell) if isinstance(cell, str) else cell


def append_rows(sheet: WriteOnlyWorksheet, rows: Iterable[Sequence[Cell]]) -> None:
    """Append `rows` to a write-only sheet (CPU work: call it off the event loop)."""
    for row in rows:
        sheet.append([_xlsx_cell(cell) for cell in row])


def workbook_bytes(workbook: Workbook) -> bytes:
    """The saved workbook (CPU work: call it off the event loop)."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
