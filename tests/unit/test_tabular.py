"""core/tabular.py's XLSX, read back with openpyxl (as the importer and a person's Excel would read it): each cell
keeps its type, text stays text, and what XML cannot carry is dropped."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import openpyxl
import pytest

from core.tabular import Book, neutralised


def read_back(content: bytes) -> dict[str, list[list[object]]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {name: [list(row) for row in book[name].iter_rows(values_only=True)] for name in book.sheetnames}


def test_cells_keep_their_types_and_text_stays_text() -> None:
    book = Book()
    first = book.sheet("工单台账", frozen_rows=1)
    second = book.sheet("Scores")
    first.append([["时间 Time", "日期 Day", "数 Number", "是否 Flag", "文字 Text"]])
    first.append(
        [
            [datetime(2025, 6, 2, 9, 0, 15), date(2025, 3, 1), 3, True, neutralised("=HYPERLINK(1)")],
            [None, "", 1.5, False, "a\x01b\x1fc\x00 http://x.test 123"],
        ]
    )
    second.append([["rate", 0.25], [], ["after an empty row", 2**40]])
    content = book.to_bytes()

    sheets = read_back(content)
    assert list(sheets) == ["工单台账", "Scores"]
    assert sheets["工单台账"] == [
        ["时间 Time", "日期 Day", "数 Number", "是否 Flag", "文字 Text"],
        # a date is a date cell too (openpyxl reads every date cell as a datetime)
        [datetime(2025, 6, 2, 9, 0, 15), datetime(2025, 3, 1), 3, True, "'=HYPERLINK(1)"],
        [None, None, 1.5, False, "abc http://x.test 123"],
    ]
    assert sheets["Scores"] == [["rate", 0.25], [None, None], ["after an empty row", 2**40]]
    sheet = openpyxl.load_workbook(io.BytesIO(content))["工单台账"]
    assert sheet.freeze_panes == "A2"
    assert (sheet["A2"].number_format, sheet["B2"].number_format) == ("yyyy-mm-dd hh:mm", "yyyy-mm-dd")


def test_a_time_with_a_zone_is_refused() -> None:
    """The callers give wall-clock times (the heading names the zone); an offset would be silently lost."""
    sheet = Book().sheet("Ledger")
    with pytest.raises(TypeError):
        sheet.append([[datetime(2025, 6, 2, 1, 0, tzinfo=timezone(timedelta(hours=8)))]])
