"""Rows as a spreadsheet: CSV that Excel reads (UTF-8 with a BOM, RFC 4180) and XLSX written with XlsxWriter (about
half openpyxl's time for the ledger of a month), for every export (a survey's responses, the service desk's
ledger). The rows are the caller's; this module only writes them safely.

- What people wrote cannot become a formula: `neutralised` gives a cell that starts with = + - @ (or a tab or
  carriage return, OWASP's list) a leading apostrophe; the callers pass every free text through it.
- XML 1.0 cannot carry most control characters (XlsxWriter would escape them as _xHHHH_, which openpyxl, the
  importer, reads back as text): they are dropped from XLSX cells.
- A cell's type is its value's: text, a number, a boolean, a datetime (shown yyyy-mm-dd hh:mm) or a date (shown
  yyyy-mm-dd), both real date cells; None and "" leave the cell empty. A datetime with a zone is refused
  (TypeError): the callers give wall-clock times, the zone named in the heading.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from urllib.parse import quote

import xlsxwriter
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

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


# Text is always text: no formulas, links or numbers read into what people wrote.
_OPTIONS: dict[str, bool | str] = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "default_date_format": "yyyy-mm-dd hh:mm",
}


class Sheet:
    """A worksheet that rows are appended to, in order (CPU work: call `append` off the event loop)."""

    def __init__(self, worksheet: Worksheet, day_format: Format) -> None:
        self._worksheet = worksheet
        self._day_format = day_format
        self._row = 0

    def append(self, rows: Iterable[Sequence[Cell]]) -> None:
        """Append `rows`, each from the first column; an empty row leaves an empty line."""
        # typed writes, not write_row: about 10% faster (write_row finds each cell's type again)
        write_string, write_number = self._worksheet.write_string, self._worksheet.write_number
        write_datetime, write_boolean = self._worksheet.write_datetime, self._worksheet.write_boolean
        for row in rows:
            number = self._row
            for column, cell in enumerate(row):
                if cell is None or cell == "":
                    continue
                if isinstance(cell, str):
                    write_string(number, column, ILLEGAL_CHARACTERS_RE.sub("", cell))
                elif isinstance(cell, datetime):
                    write_datetime(number, column, cell)  # the workbook's default date format
                elif isinstance(cell, bool):  # before int: a bool is an int
                    write_boolean(number, column, cell)
                elif isinstance(cell, int | float):
                    write_number(number, column, cell)
                else:  # a date: its midnight, the same serial number (XlsxWriter's hints name datetime only)
                    write_datetime(number, column, datetime.combine(cell, time()), self._day_format)
            self._row += 1


class Book:
    """An XLSX workbook built in memory: `sheet` for each sheet in order, then `to_bytes` once."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self._workbook = xlsxwriter.Workbook(self._buffer, _OPTIONS)
        self._day_format = self._workbook.add_format({"num_format": "yyyy-mm-dd"})

    def sheet(self, name: str, *, frozen_rows: int = 0) -> Sheet:
        """A new sheet named `name`, its first `frozen_rows` rows frozen (the heading stays in view)."""
        worksheet = self._workbook.add_worksheet(name)
        if frozen_rows:
            worksheet.freeze_panes(frozen_rows, 0)
        return Sheet(worksheet, self._day_format)

    def to_bytes(self) -> bytes:
        """The saved workbook (CPU work: call it off the event loop); the book takes no more rows after it."""
        self._workbook.close()
        return self._buffer.getvalue()
