"""Bulk import of buildings, units and owners from the CSV or XLSX sheet a property office keeps.

All or nothing: every row is checked first; one bad row means nothing is written and the report names
each bad row (1-based, the header is row 1), the column and why. Re-importing the same sheet changes
nothing: buildings, units and owners already there are matched, not duplicated.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import islice

import asyncpg
import msgspec

from core.access import Caller, require_property
from core.audit.service import record_change
from core.errors import FieldError, Invalid
from core.ids import new_id
from core.people import repository as people_sql
from core.places import repository as sql
from core.structs import Struct

# Accepted column headings, English and the Chinese ones property offices use.
HEADINGS: dict[str, tuple[str, ...]] = {
    "building": ("building", "楼栋", "楼号", "楼宇", "栋"),
    "unit": ("unit", "number", "房号", "房间号", "户号", "单元号"),
    "floor": ("floor", "楼层"),
    "area_m2": ("area_m2", "area", "面积", "建筑面积"),
    "owner_name": ("owner_name", "owner", "业主", "业主姓名", "姓名"),
    "owner_phone": ("owner_phone", "phone", "电话", "手机", "手机号", "联系电话", "业主电话"),
    "owner_email": ("owner_email", "email", "邮箱", "电子邮箱"),
}
_LOOKUP = {alias.lower(): column for column, aliases in HEADINGS.items() for alias in aliases}
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_ROWS = 20_000
# A sheet may declare (and openpyxl then yields) 16384 columns and a million rows from a few kilobytes:
# read no more than the row limit can accept and no more columns than any real sheet has.
MAX_COLUMNS = 256
MAX_UNPACKED_BYTES = 128 * 1024 * 1024  # an XLSX is a zip; refuse one that unpacks into a bomb
_CENTS = Decimal("0.01")  # units.area_m2 is numeric(10, 2): compare and store what the column keeps


class ImportRow(Struct):
    row: int
    building: str
    unit: str
    floor: int | None = None
    area_m2: float | None = None
    owner_name: str | None = None
    owner_phone: str | None = None
    owner_email: str | None = None


class ImportReport(Struct):
    dry_run: bool
    rows: int
    buildings_created: int = 0
    units_created: int = 0
    units_updated: int = 0
    owners_created: int = 0
    owners_linked: int = 0


def read_sheet(content: bytes) -> list[list[str]]:
    """Rows of cells as text, from XLSX (by its zip signature) or CSV (UTF-8, else GB18030 as Excel in China saves).

    At most MAX_ROWS + 2 rows (the header and one row too many, for parse_rows to refuse) and MAX_COLUMNS columns.
    """
    if content.startswith(b"PK\x03\x04"):
        return _read_xlsx(content)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Invalid("the file is neither XLSX nor CSV text (UTF-8 or GB18030)")
    if "\x00" in text:
        raise Invalid("the file is neither XLSX nor CSV text (UTF-8 or GB18030)")
    reader = csv.reader(io.StringIO(text))
    try:
        return [row[:MAX_COLUMNS] for row in islice(reader, MAX_ROWS + 2)]
    except csv.Error as exc:  # e.g. a cell over the csv module's field size limit
        raise Invalid(
            "the CSV file cannot be read", [FieldError(field="file", message=str(exc), row=reader.line_num)]
        ) from None


def _read_xlsx(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            raise Invalid(f"the XLSX file unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MiB")
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            sheet.reset_dimensions()  # the declared size may be stale (only the header read) or hostile
            rows = islice(sheet.iter_rows(values_only=True), MAX_ROWS + 2)
            return [["" if cell is None else _cell_text(cell) for cell in row[:MAX_COLUMNS]] for row in rows]
        finally:
            book.close()
    except Invalid:
        raise
    except Exception as exc:  # openpyxl and zipfile raise many kinds for a damaged file
        raise Invalid(f"the XLSX file cannot be read ({type(exc).__name__})") from None


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 301 as 301.0
    return str(value).strip()


def parse_rows(cells: list[list[str]]) -> tuple[list[ImportRow], list[FieldError]]:
    if not cells or not any(c.strip() for c in cells[0]):
        raise Invalid(
            "the sheet is empty; the first row must name the columns",
            [FieldError(field="header", message="expected building/楼栋 and unit/房号 columns", row=1)],
        )
    columns = [_LOOKUP.get(h.strip().lower()) for h in cells[0]]
    missing = [c for c in ("building", "unit") if c not in columns]
    if missing:
        raise Invalid(
            "required columns are missing",
            [
                FieldError(field=c, message=f"add a column headed {' or '.join(HEADINGS[c][:2])}", row=1)
                for c in missing
            ],
        )
    if len(cells) - 1 > MAX_ROWS:
        raise Invalid(f"at most {MAX_ROWS} rows per import; split the file")
    rows: list[ImportRow] = []
    errors: list[FieldError] = []
    for number, raw in enumerate(cells[1:], start=2):
        values = {col: raw[i].strip() for i, col in enumerate(columns) if col and i < len(raw) and raw[i].strip()}
        if not values:
            continue  # blank line
        row, row_errors = _parse_row(number, values)
        errors += row_errors
        if row is not None:
            rows.append(row)
    return rows, errors


def _parse_row(number: int, v: dict[str, str]) -> tuple[ImportRow | None, list[FieldError]]:
    errors: list[FieldError] = []

    def bad(field: str, message: str) -> None:
        errors.append(FieldError(row=number, field=field, message=message))

    for field, limit in (("building", 200), ("unit", 40), ("owner_name", 200)):
        if len(v.get(field, "")) > limit:
            bad(field, f"longer than {limit} characters")
    if not v.get("building"):
        bad("building", "required")
    if not v.get("unit"):
        bad("unit", "required")
    floor = area = None
    if "floor" in v:
        amount = _finite(v["floor"])
        if amount is None or amount != amount.to_integral_value():
            bad("floor", f"{v['floor']!r} is not a whole number")
        elif not -10 <= amount <= 300:
            bad("floor", "between -10 and 300")
        else:
            floor = int(amount)
    if "area_m2" in v:
        amount = _finite(v["area_m2"])
        if amount is None:
            bad("area_m2", f"{v['area_m2']!r} is not a number")
        elif not 0 < amount <= 100_000 or not (cents := amount.quantize(_CENTS, ROUND_HALF_UP)):
            bad("area_m2", "must be above 0 and at most 100000")
        else:
            area = float(cents)
    phone = re.sub(r"[\s\-()]", "", v["owner_phone"]) if "owner_phone" in v else None
    if phone is not None and not _PHONE.match(phone):
        bad("owner_phone", f"{v['owner_phone']!r} is not a phone number")
    email = v["owner_email"].lower() if "owner_email" in v else None
    if email is not None and not _EMAIL.match(email):
        bad("owner_email", f"{v['owner_email']!r} is not an e-mail address")
    if (phone or email) and not v.get("owner_name"):
        bad("owner_name", "required when a phone or e-mail is given")
    if v.get("owner_name") and not (phone or email):
        bad("owner_phone", "give the owner's phone (or e-mail) so they can be invited")
    if errors:
        return None, errors
    return ImportRow(
        row=number,
        building=v["building"],
        unit=v["unit"],
        floor=floor,
        area_m2=area,
        owner_name=v.get("owner_name"),
        owner_phone=phone,
        owner_email=email,
    ), []


def _finite(text: str) -> Decimal | None:
    """The number in a cell, or None. Decimal reads "NaN", "sNaN" and "Infinity", which int() and float() refuse;
    the range is checked on the Decimal, as int(Decimal("1e999999999")) would build a billion-digit int."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _check_within_file(rows: list[ImportRow]) -> list[FieldError]:
    errors: list[FieldError] = []
    seen_units: dict[tuple[str, str], int] = {}
    owner_names: dict[str, tuple[str, int]] = {}
    for r in rows:
        key = (r.building, r.unit)
        if key in seen_units and r.owner_name is None:
            # the same unit may appear on several rows only to list several owners
            errors.append(
                FieldError(row=r.row, field="unit", message=f"{r.building} {r.unit} is also on row {seen_units[key]}")
            )
        seen_units.setdefault(key, r.row)
        for login in filter(None, (r.owner_phone, r.owner_email)):
            if login in owner_names and owner_names[login][0] != r.owner_name:
                errors.append(
                    FieldError(
                        row=r.row,
                        field="owner_phone" if login == r.owner_phone else "owner_email",
                        message=f"{login} belongs to {owner_names[login][0]} on row {owner_names[login][1]}",
                    )
                )
            owner_names.setdefault(login, (r.owner_name or "", r.row))
    return errors


async def import_places(
    conn: asyncpg.Connection, caller: Caller, property_id: str, content: bytes, *, dry_run: bool
) -> ImportReport:
    """Check every row, then write them all (unless dry_run); raise Invalid listing every bad row."""
    await require_property(conn, caller, property_id, "admin")
    rows, errors = parse_rows(read_sheet(content))
    errors += _check_within_file(rows)
    owners = await _resolve_owners(conn, caller.org_id, rows, errors)
    if errors:
        errors.sort(key=lambda e: (e.row or 0, e.field))
        raise Invalid(f"{len({e.row for e in errors})} row(s) have errors; nothing was imported", errors)
    report = ImportReport(dry_run=dry_run, rows=len(rows))
    if dry_run:
        return report
    await _write_rows(conn, caller, property_id, rows, owners, report)
    await record_change(conn, caller, "import", "property", property_id, after=msgspec.to_builtins(report))
    return report


async def _write_rows(
    conn: asyncpg.Connection,
    caller: Caller,
    property_id: str,
    rows: list[ImportRow],
    owners: dict[str, str | None],
    report: ImportReport,
) -> None:
    """Create what is missing, change what differs, link owners; count each in the report."""
    buildings = await sql.buildings_by_name(conn, caller.org_id, property_id)
    units = await sql.units_by_key(conn, caller.org_id, property_id)
    owner_ids = {login: user_id for login, user_id in owners.items() if user_id}
    for r in rows:
        if r.building not in buildings:
            buildings[r.building] = (await sql.insert_building(conn, caller.org_id, new_id(), property_id, r.building))[
                "id"
            ]
            report.buildings_created += 1
        building_id = buildings[r.building]
        unit = units.get((building_id, r.unit))
        if unit is None:
            unit_id = (
                await sql.insert_unit(
                    conn, caller.org_id, new_id(), property_id, building_id, r.unit, r.floor, r.area_m2
                )
            )["id"]
            units[(building_id, r.unit)] = {"id": unit_id, "floor": r.floor, "area_m2": r.area_m2}
            report.units_created += 1
        else:
            unit_id = str(unit["id"])
            # only what differs: a re-import (or a unit listed again for a second owner) changes nothing
            changes = {
                k: value for k in ("floor", "area_m2") if (value := getattr(r, k)) is not None and value != unit[k]
            }
            if changes:
                await sql.update_unit(conn, caller.org_id, unit_id, changes)
                unit.update(changes)
                report.units_updated += 1
        if r.owner_name is None:
            continue
        logins = [login for login in (r.owner_phone, r.owner_email) if login]
        owner_id = next((owner_ids[login] for login in logins if login in owner_ids), None)
        if owner_id is None:
            owner_id = (
                await people_sql.insert_user(
                    conn, caller.org_id, new_id(), r.owner_name, "owner", r.owner_email, r.owner_phone, None
                )
            )["id"]
            report.owners_created += 1
        owner_ids.update(dict.fromkeys(logins, owner_id))
        if await people_sql.link_owner(conn, caller.org_id, unit_id, owner_id):
            report.owners_linked += 1


async def _resolve_owners(
    conn: asyncpg.Connection, org_id: str, rows: list[ImportRow], errors: list[FieldError]
) -> dict[str, str | None]:
    """Login (phone or e-mail) -> existing owner id in this org, or None for a new owner. A login that belongs to
    staff, or to someone in another org, is a row error."""
    found: dict[str, str | None] = {}
    for r in rows:
        for field, login in (("owner_phone", r.owner_phone), ("owner_email", r.owner_email)):
            if login is None or login in found:
                continue
            existing = await people_sql.find_login(conn, login)
            if existing is None:
                found[login] = None
            elif existing["org_id"] != org_id or existing["role"] != "owner":
                errors.append(FieldError(row=r.row, field=field, message=f"{login} is in use by another account"))
            else:
                found[login] = existing["id"]
    return found
