"""read_sheet and parse_rows, without a database: headings, cell checks, encodings and hostile files."""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest
from openpyxl import Workbook

from core.errors import Invalid
from core.places import imports
from core.places.imports import MAX_COLUMNS, MAX_ROWS, ImportRow, parse_rows, read_sheet

ZH = ["楼栋", "房号", "楼层", "面积", "业主姓名", "联系电话"]


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewrite_sheet(content: bytes, change) -> bytes:
    """The same XLSX with xl/worksheets/sheet1.xml passed through `change` (for files openpyxl would not write)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = change(data.decode()).encode()
            target.writestr(item, data)
    return out.getvalue()


def errors_of(cells: list[list[str]]) -> list[tuple[int | None, str]]:
    return [(e.row, e.field) for e in parse_rows(cells)[1]]


def test_chinese_headings_give_typed_rows():
    rows, errors = parse_rows(
        [
            ZH,
            ["1号楼", "301", "3", "88.5", "王芳", "138-0013-8000"],
            ["", "", "", "", "", ""],  # a blank line is skipped, and does not renumber the rows after it
            [" 2号楼 ", "0101", "-1", "120", "", ""],
        ]
    )
    assert errors == []
    assert rows == [
        ImportRow(
            row=2, building="1号楼", unit="301", floor=3, area_m2=88.5, owner_name="王芳", owner_phone="13800138000"
        ),
        ImportRow(row=4, building="2号楼", unit="0101", floor=-1, area_m2=120.0),
    ]


def test_english_headings_any_case_and_unknown_columns_ignored():
    rows, errors = parse_rows(
        [
            ["Notes", "BUILDING", "Unit", "Owner_Email", "owner"],
            ["call first", "A", "1", "Li.Wei@Example.com", "Li Wei"],
        ]
    )
    assert errors == []
    assert rows == [ImportRow(row=2, building="A", unit="1", owner_name="Li Wei", owner_email="li.wei@example.com")]


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        (["楼层", "面积"], ["building", "unit"]),
        (["楼栋", "面积"], ["unit"]),
        (["building", "floor"], ["unit"]),
    ],
)
def test_missing_required_columns_name_row_1(header, missing):
    with pytest.raises(Invalid) as caught:
        parse_rows([header, ["x", "y"]])
    assert [(e.row, e.field) for e in caught.value.errors] == [(1, c) for c in missing]


@pytest.mark.parametrize("cells", [[], [[]], [["", "  "]]], ids=["no-rows", "empty-row", "blank-header"])
def test_an_empty_sheet_is_invalid(cells):
    with pytest.raises(Invalid, match="empty"):
        parse_rows(cells)


@pytest.mark.parametrize(("floor", "expected"), [("3", 3), ("3.0", 3), ("-10", -10), ("300", 300), ("3e1", 30)])
def test_whole_floors_are_read(floor, expected):
    rows, errors = parse_rows([["building", "unit", "floor"], ["A", "1", floor]])
    assert errors == [] and rows[0].floor == expected


@pytest.mark.parametrize(("area", "expected"), [("88.5", 88.5), ("88.555", 88.56), ("0.005", 0.01), ("1e2", 100.0)])
def test_areas_are_kept_to_the_cent_the_column_stores(area, expected):
    rows, errors = parse_rows([["building", "unit", "area"], ["A", "1", area]])
    assert errors == [] and rows[0].area_m2 == expected


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("floor", "abc"),
        ("floor", "2.5"),
        ("floor", "NaN"),
        ("floor", "sNaN"),
        ("floor", "Infinity"),
        ("floor", "-inf"),
        ("floor", "301"),
        ("floor", "-11"),
        ("floor", "1e999999999"),
        ("floor", "0x10"),
        ("area_m2", "abc"),
        ("area_m2", "0"),
        ("area_m2", "-1"),
        ("area_m2", "0.004"),
        ("area_m2", "100000.01"),
        ("area_m2", "NaN"),
        ("area_m2", "sNaN"),
        ("area_m2", "Infinity"),
        ("area_m2", "1e999999999"),
        ("owner_phone", "12ab"),
        ("owner_phone", "12345"),
        ("owner_email", "not-an-email"),
    ],
)
def test_a_bad_cell_is_a_row_error_naming_its_column(column, value):
    started = time.monotonic()
    row = {"building": "A", "unit": "1", "owner_name": "王芳", "owner_phone": "13800138000", column: value}
    header = list(row)
    assert errors_of([header, [row[c] for c in header]]) == [(2, column)]
    assert time.monotonic() - started < 1  # "1e999999999" must not be expanded into a billion digits


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"building": "A", "unit": "", "floor": "1"}, [(2, "unit")]),
        ({"building": "", "unit": "1", "floor": "1"}, [(2, "building")]),
        ({"building": "A" * 201, "unit": "1"}, [(2, "building")]),
        ({"building": "A", "unit": "1" * 41}, [(2, "unit")]),
        ({"building": "A", "unit": "1", "owner_phone": "13800138000"}, [(2, "owner_name")]),
        ({"building": "A", "unit": "1", "owner_name": "王芳"}, [(2, "owner_phone")]),
        ({"building": "", "unit": "", "floor": "x"}, [(2, "building"), (2, "unit"), (2, "floor")]),
    ],
)
def test_required_and_dependent_cells(row, expected):
    header = ["building", "unit", "floor", "owner_name", "owner_phone"]
    assert sorted(errors_of([header, [row.get(c, "") for c in header]])) == sorted(expected)


def test_duplicates_within_the_file_are_checked_by_import_places():
    rows, _ = parse_rows(
        [
            ZH,
            ["A", "1", "", "", "", ""],
            ["A", "1", "", "", "王芳", "13800138000"],  # the same unit again, to add an owner: fine
            ["A", "1", "", "", "", ""],  # the same unit again for nothing: an error
            ["A", "2", "", "", "李雷", "13800138000"],  # 王芳's phone under another name: an error
        ]
    )
    found = imports._check_within_file(rows)
    assert [(e.row, e.field) for e in found] == [(4, "unit"), (5, "owner_phone")]


def test_too_many_rows_is_invalid():
    with pytest.raises(Invalid, match=f"at most {MAX_ROWS}"):
        parse_rows([["building", "unit"], *([["A", "1"]] * (MAX_ROWS + 1))])


# read_sheet


SHEET_TEXT = "楼栋,房号,楼层,面积,业主姓名,联系电话\r\n1号楼,301,3,88.5,王芳,13800138000\r\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_utf8_or_gb18030(encoding):
    assert read_sheet(SHEET_TEXT.encode(encoding)) == [ZH, ["1号楼", "301", "3", "88.5", "王芳", "13800138000"]]


def test_xlsx_cells_come_back_as_text():
    content = xlsx([ZH, ["1号楼", 301, 3.0, 88.5, "王芳", 13800138000], [" 2号楼 ", "0101", None, None, None, None]])
    assert read_sheet(content) == [
        ZH,
        ["1号楼", "301", "3", "88.5", "王芳", "13800138000"],  # Excel numbers, not "301.0"
        ["2号楼", "0101"],
    ]


def test_xlsx_with_a_stale_declared_size_is_read_whole():
    content = rewrite_sheet(
        xlsx([["building", "unit"], ["A", "1"], ["A", "2"]]),
        lambda xml: re.sub(r'<dimension ref="[^"]+"\s*/>', '<dimension ref="A1"/>', xml),
    )
    assert read_sheet(content) == [["building", "unit"], ["A", "1"], ["A", "2"]]


def test_an_xlsx_that_declares_a_million_cells_is_read_within_limits():
    def bomb(xml: str) -> str:
        xml = re.sub(r'<dimension ref="[^"]+"\s*/>', '<dimension ref="A1:XFD1048576"/>', xml)
        far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
        return xml.replace("</sheetData>", far + "</sheetData>")

    content = rewrite_sheet(xlsx([["building", "unit"], ["A", "1"]]), bomb)
    assert len(content) < 10_000
    started = time.monotonic()
    cells = read_sheet(content)
    assert time.monotonic() - started < 10
    assert len(cells) == MAX_ROWS + 2 and max(len(row) for row in cells) <= MAX_COLUMNS
    with pytest.raises(Invalid, match="at most"):
        parse_rows(cells)


def test_an_xlsx_that_unpacks_too_large_is_invalid(monkeypatch):
    content = xlsx([["building", "unit"], *([["A" * 100, str(n)] for n in range(200)])])
    assert read_sheet(content)[1][0] == "A" * 100
    monkeypatch.setattr(imports, "MAX_UNPACKED_BYTES", 10_000)
    with pytest.raises(Invalid, match="unpacks"):
        read_sheet(content)


def test_a_csv_cell_over_the_field_limit_is_invalid_not_a_crash():
    content = ('building,unit,notes\r\nA,1,"' + "x" * 200_000 + '"\r\n').encode()
    with pytest.raises(Invalid) as caught:
        read_sheet(content)
    assert caught.value.errors[0].field == "file"


def test_csv_rows_and_columns_are_capped():
    wide = ",".join(["x"] * (MAX_COLUMNS + 50))
    cells = read_sheet(("building,unit\r\n" + (wide + "\r\n") * (MAX_ROWS + 50)).encode())
    assert len(cells) == MAX_ROWS + 2 and max(len(row) for row in cells) == MAX_COLUMNS


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,  # a legacy .xls
        b"PK\x03\x04" + b"\x00" * 64,  # a zip signature and nothing behind it
        b"building,unit\r\nA,\x001\r\n",  # NUL: not text
        bytes([0x81, 0x20, 0xFF, 0xFE]) * 16,  # neither UTF-8 nor GB18030
    ],
    ids=["png", "xls", "fake-zip", "nul", "undecodable"],
)
def test_files_that_are_not_spreadsheets_are_invalid(content):
    with pytest.raises(Invalid):
        read_sheet(content)
