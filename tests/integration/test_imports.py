"""Bulk import of buildings, units and owners through POST /properties/{id}/imports, against the real app and DB."""

from __future__ import annotations

import io
import random

import asyncpg
import httpx
import pytest
from openpyxl import Workbook

from api.app import IMPORT_OVERHEAD_BYTES
from tests.world import PASSWORD, Org, build_org, login

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADINGS_ZH = ["楼栋", "房号", "楼层", "面积", "业主姓名", "联系电话"]
# Two new buildings; 202 listed twice for its two owners; 王芳 owns two units; 101 exists and gets floor and area;
# 103 is a new unit in the existing 1号楼.
GOOD_ROWS: list[list[object]] = [
    ["2号楼", 201, 2, 88.5, "王芳", "13800138001"],
    ["2号楼", 202, 2, 90, "李雷", "138-0013-8002"],
    ["2号楼", 202, 2, 90, "韩梅梅", "13800138003"],
    ["3号楼", "301", 3, 120.25, "王芳", "13800138001"],
    ["1号楼", 101, 1, 75, None, None],
    ["1号楼", 103, None, None, None, None],
]
GOOD_REPORT = {
    "dry_run": False,
    "rows": 6,
    "buildings_created": 2,
    "units_created": 4,
    "units_updated": 1,
    "owners_created": 3,
    "owners_linked": 4,
}
TABLES = ("buildings", "units", "users", "unit_owners", "audit_log")


def xlsx(rows: list[list[object]], headings: list[str] = HEADINGS_ZH) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [headings, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def upload(
    api: httpx.AsyncClient,
    property_id: str,
    headers: dict[str, str],
    content: bytes,
    *,
    filename: str = "units.xlsx",
    dry_run: bool = False,
) -> httpx.Response:
    mime = XLSX if filename.endswith(".xlsx") else "text/csv"
    return await api.post(
        f"/properties/{property_id}/imports",
        headers=headers,
        params={"dry_run": "true"} if dry_run else {},
        files={"file": (filename, content, mime)},
    )


async def counts(db: asyncpg.Connection) -> dict[str, int]:
    return {table: await db.fetchval(f"SELECT count(*) FROM {table}") for table in TABLES}


async def units_snapshot(db: asyncpg.Connection) -> list[tuple[object, ...]]:
    rows = await db.fetch("SELECT id, number, floor, area_m2, updated_at FROM units ORDER BY id")
    return [tuple(r) for r in rows]


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert body["status"] == status and {"type", "title", "detail"} <= body.keys()
    assert "Traceback" not in response.text
    return body


async def admin_of(api: httpx.AsyncClient, db: asyncpg.Connection, tag: str) -> tuple[Org, dict[str, str]]:
    org = await build_org(db, tag)
    return org, await login(api, org, "admin")


async def test_good_xlsx_with_chinese_headings_creates_buildings_units_and_owners(api, db):
    org, admin = await admin_of(api, db, "ok")
    response = await upload(api, org.property_id, admin, xlsx(GOOD_ROWS))
    assert response.status_code == 200, response.text
    assert response.json() == GOOD_REPORT

    buildings = (await api.get(f"/properties/{org.property_id}/buildings", headers=admin)).json()["items"]
    assert sorted(b["name"] for b in buildings) == ["1号楼", "2号楼", "3号楼"]
    units = (await api.get(f"/properties/{org.property_id}/units", headers=admin, params={"limit": 500})).json()
    by_number = {u["number"]: u for u in units["items"]}
    assert sorted(by_number) == ["101", "102", "103", "201", "202", "301"]
    assert (by_number["201"]["floor"], by_number["201"]["area_m2"]) == (2, 88.5)
    assert (by_number["301"]["floor"], by_number["301"]["area_m2"]) == (3, 120.25)
    assert (by_number["101"]["floor"], by_number["101"]["area_m2"]) == (1, 75.0)  # an existing unit, filled in
    assert (by_number["103"]["floor"], by_number["103"]["area_m2"]) == (None, None)

    async def owners(number: str) -> list[tuple[str, str]]:
        listed = await api.get(f"/units/{by_number[number]['id']}/owners", headers=admin)
        assert listed.status_code == 200, listed.text
        return sorted((o["name"], o["phone"]) for o in listed.json())

    assert await owners("201") == [("王芳", "13800138001")]
    assert await owners("202") == [("李雷", "13800138002"), ("韩梅梅", "13800138003")]  # the phone is normalised
    assert await owners("301") == [("王芳", "13800138001")]
    stored = await db.fetch("SELECT name, role, org_id, password_hash FROM users WHERE phone LIKE '138001380%'")
    assert sorted(r["name"] for r in stored) == ["李雷", "王芳", "韩梅梅"]  # 王芳 once, though on two rows
    assert {(r["role"], r["org_id"], r["password_hash"]) for r in stored} == {("owner", org.org_id, None)}
    trail = await db.fetchrow(
        "SELECT actor_id, after FROM audit_log WHERE action = 'import' AND entity_id = $1", org.property_id
    )
    assert trail["actor_id"] == org.ids["admin"] and trail["after"] == GOOD_REPORT


async def test_reimporting_the_same_file_creates_and_links_nothing(api, db):
    org, admin = await admin_of(api, db, "re")
    content = xlsx(GOOD_ROWS)
    assert (await upload(api, org.property_id, admin, content)).status_code == 200
    before, units_before = await counts(db), await units_snapshot(db)
    again = await upload(api, org.property_id, admin, content)
    assert again.status_code == 200, again.text
    assert again.json() == {
        **GOOD_REPORT,
        **dict.fromkeys(("buildings_created", "units_created", "units_updated", "owners_created", "owners_linked"), 0),
    }
    after = await counts(db)
    assert {t: after[t] for t in TABLES if t != "audit_log"} == {t: before[t] for t in TABLES if t != "audit_log"}
    assert await units_snapshot(db) == units_before  # not even updated_at moved


async def test_an_existing_owner_is_matched_by_email_not_created_again(api, db):
    org, admin = await admin_of(api, db, "eo")
    content = xlsx([["1号楼", "102", "Owner", org.email("owner").upper()]], ["楼栋", "房号", "业主", "邮箱"])
    response = await upload(api, org.property_id, admin, content)
    assert response.status_code == 200, response.text
    assert (response.json()["owners_created"], response.json()["owners_linked"]) == (0, 1)
    linked = await db.fetchval("SELECT user_id FROM unit_owners WHERE unit_id = $1", org.other_unit_id)
    assert linked == org.ids["owner"]


# (column, value, the field the error names, dry_run); each goes into row 3 of the sheet, the second data row
BAD_CELLS = {
    "bad-phone": (5, "12ab", "owner_phone", False),
    "bad-phone-dry-run": (5, "12ab", "owner_phone", True),
    "missing-unit": (1, None, "unit", False),
    "blank-building": (0, " ", "building", False),
    "floor-abc": (2, "abc", "floor", False),
    "floor-not-whole": (2, "2.5", "floor", False),
    "floor-nan": (2, "NaN", "floor", False),
    "floor-infinity": (2, "Infinity", "floor", False),
    "floor-out-of-range": (2, 301, "floor", False),
    "floor-huge-exponent": (2, "1e999999999", "floor", False),
    "area-negative": (3, "-3", "area_m2", False),
    "area-snan": (3, "sNaN", "area_m2", False),
    "phone-without-name": (4, None, "owner_name", False),
}


async def test_one_bad_row_is_named_and_nothing_is_imported(api, db):
    org, admin = await admin_of(api, db, "bad")
    before, units_before = await counts(db), await units_snapshot(db)
    failures = []
    for case, (column, value, field, dry_run) in BAD_CELLS.items():
        rows = [list(row) for row in GOOD_ROWS]
        rows[1][column] = value
        try:
            response = await upload(api, org.property_id, admin, xlsx(rows), dry_run=dry_run)
            problem = assert_problem(response, 422)
            assert [(e["row"], e["field"]) for e in problem["errors"]] == [(3, field)], problem["errors"]
            assert "nothing was imported" in problem["detail"]
            assert await counts(db) == before
            assert await units_snapshot(db) == units_before
        except AssertionError as exc:
            failures.append(f"{case}: {exc}")
    assert not failures, "\n".join(failures)


async def test_every_bad_row_is_listed_in_row_order(api, db):
    org, admin = await admin_of(api, db, "many")
    rows = [list(row) for row in GOOD_ROWS]
    rows[4][2] = "ground"  # row 6: the floor
    rows[0][5] = "phone?"  # row 2: the phone
    rows[5][1] = "102"  # row 7: 1号楼 102, fine on its own…
    rows.append(["1号楼", "102", None, None, None, None])  # row 8: …but listed again with no owner to add
    response = await upload(api, org.property_id, admin, xlsx(rows))
    problem = assert_problem(response, 422)
    assert [(e["row"], e["field"]) for e in problem["errors"]] == [(2, "owner_phone"), (6, "floor"), (8, "unit")]


@pytest.mark.parametrize("whose", ["staff-here", "owner-elsewhere"])
async def test_a_phone_in_use_by_another_account_is_a_row_error(api, db, whose):
    org, admin = await admin_of(api, db, "ph")
    taken = "13900139000"
    if whose == "staff-here":
        made = await api.post(
            "/users", headers=admin, json={"name": "Guard", "role": "staff", "phone": taken, "password": PASSWORD}
        )
    else:
        _, other_admin = await admin_of(api, db, "ph2")
        made = await api.post("/users", headers=other_admin, json={"name": "王芳", "role": "owner", "phone": taken})
    assert made.status_code == 201, made.text
    rows = [list(row) for row in GOOD_ROWS]
    rows[2][5] = taken  # row 4
    before = await counts(db)
    problem = assert_problem(await upload(api, org.property_id, admin, xlsx(rows)), 422)
    assert [(e["row"], e["field"]) for e in problem["errors"]] == [(4, "owner_phone")]
    assert "in use by another account" in problem["errors"][0]["message"]
    assert await counts(db) == before
    assert await db.fetchval("SELECT count(*) FROM users WHERE phone = $1", taken) == 1


async def test_dry_run_checks_everything_and_writes_nothing(api, db):
    org, admin = await admin_of(api, db, "dry")
    before, units_before = await counts(db), await units_snapshot(db)
    response = await upload(api, org.property_id, admin, xlsx(GOOD_ROWS), dry_run=True)
    assert response.status_code == 200, response.text
    assert response.json()["dry_run"] is True and response.json()["rows"] == 6
    assert await counts(db) == before
    assert await units_snapshot(db) == units_before


CSV_TEXT = {
    "gb18030-zh": ("楼栋,房号,楼层,面积,业主姓名,联系电话\r\n5号楼,501,5,66.6,张伟,13900139001\r\n", "gb18030"),
    "utf8-bom-en": ("Building,Unit,Floor,Area,Owner,Phone\r\n5号楼,501,5,66.6,张伟,13900139001\r\n", "utf-8-sig"),
}


@pytest.mark.parametrize("kind", CSV_TEXT)
async def test_csv_as_excel_in_china_saves_it_imports(api, db, kind):
    text, encoding = CSV_TEXT[kind]
    content = text.encode(encoding)
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            content.decode("utf-8")  # really not UTF-8: the fallback is what is tested
    org, admin = await admin_of(api, db, "csv")
    response = await upload(api, org.property_id, admin, content, filename="units.csv")
    assert response.status_code == 200, response.text
    assert response.json()["buildings_created"] == 1 and response.json()["owners_created"] == 1
    owner = await db.fetchrow("SELECT name, role FROM users WHERE phone = '13900139001'")
    assert (owner["name"], owner["role"]) == ("张伟", "owner")
    unit = await db.fetchrow(
        "SELECT u.floor, u.area_m2::float8 AS area FROM units u JOIN buildings b ON b.id = u.building_id "
        "WHERE b.name = '5号楼' AND u.number = '501'"
    )
    assert (unit["floor"], unit["area"]) == (5, 66.6)


async def test_only_an_admin_can_import(api, db):
    org = await build_org(db, "perm")
    before = await counts(db)
    # supervisors, staff and owners see the property but may not import; staff of another property do not see it
    for who, status in (("supervisor", 403), ("staff", 403), ("owner", 403), ("elsewhere", 404)):
        response = await upload(api, org.property_id, await login(api, org, who), xlsx(GOOD_ROWS))
        assert response.status_code == status, (who, response.text)
        assert_problem(response, status)
        assert {t: n for t, n in (await counts(db)).items() if t != "audit_log"} == {
            t: n for t, n in before.items() if t != "audit_log"
        }


async def test_another_orgs_admin_and_strangers_cannot_import(api, db):
    org = await build_org(db, "mine")
    _, other_admin = await admin_of(api, db, "theirs")
    before = await counts(db)
    assert_problem(await upload(api, org.property_id, other_admin, xlsx(GOOD_ROWS)), 404)
    assert_problem(await upload(api, org.property_id, {}, xlsx(GOOD_ROWS)), 401)
    assert await counts(db) == before


async def test_a_file_over_the_import_limit_is_413(api, db, settings):
    org, admin = await admin_of(api, db, "big")
    before = await counts(db)
    # just over: the route reads the file and refuses it; far over: the body limit refuses it before it is read
    for extra in (1, IMPORT_OVERHEAD_BYTES + 1024):
        content = b"building,unit\r\n" + b"A,1\r\n" * ((settings.max_import_bytes + extra) // 5)
        assert len(content) > settings.max_import_bytes
        assert_problem(await upload(api, org.property_id, admin, content, filename="units.csv"), 413)
        assert await counts(db) == before


async def test_a_file_larger_than_a_json_body_but_within_the_import_limit_is_read(api, db, settings):
    org, admin = await admin_of(api, db, "mid")
    note = "x" * 1000
    lines = ["楼栋,房号,备注", *(f"9号楼,{n},{note}" for n in range(2200))]
    content = "\r\n".join(lines).encode()
    assert settings.max_body_bytes < len(content) < settings.max_import_bytes
    response = await upload(api, org.property_id, admin, content, filename="units.csv", dry_run=True)
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == 2200


def damaged_xlsx() -> bytes:
    content = xlsx(GOOD_ROWS)
    return content[: len(content) // 2]


NOT_SPREADSHEETS = {
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
    "legacy-xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2048,
    "zip-but-not-xlsx": b"PK\x03\x04" + b"\x14\x00" * 500,
    "truncated-xlsx": damaged_xlsx(),
    "random-bytes": random.Random(7).randbytes(8192),
    "empty": b"",
    "csv-without-headings": "房子,人\r\n1,2\r\n".encode(),
}


async def test_a_file_that_is_not_a_spreadsheet_is_422(api, db):
    org, admin = await admin_of(api, db, "bin")
    before = await counts(db)
    failures = []
    for kind, content in NOT_SPREADSHEETS.items():
        try:
            assert_problem(await upload(api, org.property_id, admin, content, filename="units.xlsx"), 422)
            assert await counts(db) == before
        except AssertionError as exc:
            failures.append(f"{kind}: {exc}")
    assert not failures, "\n".join(failures)


WITHOUT_A_FILE = {
    "no-file-field": {"files": {"spreadsheet": ("units.xlsx", b"x", XLSX)}},
    "json-body": {"json": {"file": "building,unit\nA,1"}},
    "form-field-not-file": {"data": {"file": "building,unit\nA,1"}},
    "no-body": {},
}


async def test_an_upload_without_a_file_is_refused(api, db):
    org, admin = await admin_of(api, db, "nofile")
    before = await counts(db)
    for kind, request_kwargs in WITHOUT_A_FILE.items():
        response = await api.post(f"/properties/{org.property_id}/imports", headers=admin, **request_kwargs)
        assert response.status_code in (400, 415, 422), (kind, response.text)
        assert_problem(response, response.status_code)
        assert await counts(db) == before
