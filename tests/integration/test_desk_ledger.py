"""The service desk's ledger (台账) as CSV and XLSX: read back, headings in both languages, words translated,
times in the property's zone, late flags against the first promises."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import openpyxl
import pytest

from core.clock import FixedClock
from tests.desk_world import insert_events, insert_ticket
from tests.world import Org, build_org, login

NOW = datetime(2025, 6, 15, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
PERIOD = {"from": "2025-06-01", "to": "2025-06-10"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


async def arrange(db, org: Org) -> None:
    o, p = org.org_id, org.property_id
    await insert_ticket(db, o, p, "L1", unit_id=org.unit_id, reported_by=org.ids["owner"], caller_name="王女士",
                        caller_phone="13800138000", description="=厨房漏水", responsible_id=org.ids["staff"],
                        status="closed", received_at="2025-06-02 09:00", respond_due_original="2025-06-02 11:00",
                        respond_due_at="2025-06-02 13:00", resolve_due_original="2025-06-03 09:00",
                        resolve_due_at="2025-06-03 09:00", responded_at="2025-06-02 12:00",
                        resolved_at="2025-06-02 20:00", confirmed_at="2025-06-03 20:00", confirmed_via="auto",
                        visit_rating=4, visited_at="2025-06-04 10:00", closed_at="2025-06-04 10:00",
                        reopens=1)  # fmt: skip
    # first resolved at 15:00 (on time), disputed, resolved again at 20:00
    await insert_events(db, o, p, [
        ("L1", "resolve", "2025-06-02 15:00", "resolved", None, "applied"),
        ("L1", "dispute", "2025-06-02 16:00", "assigned", None, "applied"),
        ("L1", "resolve", "2025-06-02 20:00", "resolved", None, "applied"),
    ])  # fmt: skip
    await insert_ticket(db, o, p, "L2", kind="complaint", category="cleaning", channel="hotline", location="东门",
                        reported_by=org.ids["owner"], status="assigned", received_at="2025-06-10 23:30",
                        respond_due_original="2025-06-20 09:00", respond_due_at="2025-06-20 09:00",
                        resolve_due_original="2025-06-12 09:00", resolve_due_at="2025-06-12 09:00")  # fmt: skip
    await insert_ticket(db, o, p, "L3", kind="enquiry", reported_by=org.ids["owner"], received_at="2025-06-11 00:30")


ZH_HEADER = [
    "工单号", "受理时间 (Asia/Shanghai)", "类型", "类别", "渠道", "楼栋房号", "位置", "报事人", "联系电话", "内容",
    "状态", "责任人", "承诺响应时间(原) (Asia/Shanghai)", "承诺响应时间(现) (Asia/Shanghai)",
    "承诺完成时间(原) (Asia/Shanghai)",
    "承诺完成时间(现) (Asia/Shanghai)", "响应时间 (Asia/Shanghai)", "完成时间 (Asia/Shanghai)",
    "确认时间 (Asia/Shanghai)", "确认方式", "返工次数", "回访评分", "关闭时间 (Asia/Shanghai)", "响应超时", "处理超时",
]  # fmt: skip
EN_HEADER = [
    "Ticket", "Received (Asia/Shanghai)", "Kind", "Category", "Channel", "Building / unit", "Location", "Reporter",
    "Phone", "Description", "Status", "Responsible", "Response promised (original) (Asia/Shanghai)",
    "Response promised (in force) (Asia/Shanghai)", "Resolution promised (original) (Asia/Shanghai)",
    "Resolution promised (in force) (Asia/Shanghai)", "Responded (Asia/Shanghai)", "Resolved (Asia/Shanghai)",
    "Confirmed (Asia/Shanghai)", "Confirmed by", "Reopens", "Visit rating", "Closed (Asia/Shanghai)",
    "Response late", "Resolution late",
]  # fmt: skip
ZH_ROWS = [
    ["L1", "2025-06-02T09:00:00", "报修", "工程", "业主App", "1号楼 101", "", "王女士", "13800138000", "'=厨房漏水",
     "已关闭", "Staff", "2025-06-02T11:00:00", "2025-06-02T13:00:00", "2025-06-03T09:00:00", "2025-06-03T09:00:00",
     "2025-06-02T12:00:00", "2025-06-02T20:00:00", "2025-06-03T20:00:00", "超时自动确认", "1", "4",
     "2025-06-04T10:00:00", "是", "否"],
    # no caller named: the person who filed it; the response is not due yet (blank), the resolution is overdue
    ["L2", "2025-06-10T23:30:00", "投诉", "保洁", "热线", "", "东门", "Owner", "", "ticket L2", "已派单", "",
     "2025-06-20T09:00:00", "2025-06-20T09:00:00", "2025-06-12T09:00:00", "2025-06-12T09:00:00", "", "", "", "",
     "0", "", "", "", "是"],
]  # fmt: skip


async def test_the_ledger_csv_reads_back_in_both_languages(api, db):
    org = await build_org(db, "lc")
    await arrange(db, org)
    headers = await login(api, org, "supervisor")
    url = f"/properties/{org.property_id}/service-desk/ledger"
    answer = await api.get(url, headers=headers, params={**PERIOD, "format": "csv"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert (
        f'filename="service-desk-{org.property_id}-2025-06-01_2025-06-10.csv"' in answer.headers["content-disposition"]
    )
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows == [ZH_HEADER, *ZH_ROWS]
    english = await api.get(url, headers=headers, params={**PERIOD, "format": "csv", "lang": "en"})
    rows = list(csv.reader(io.StringIO(english.content.decode("utf-8-sig"))))
    assert rows[0] == EN_HEADER
    assert rows[1][2:5] == ["repair", "engineering", "app"] and rows[1][10] == "closed" and rows[1][19] == "auto"
    assert rows[1][23:] == ["yes", "no"]
    assert [r[0] for r in rows[1:]] == ["L1", "L2"]


async def test_the_ledger_xlsx_reads_back_with_local_times(api, db):
    org = await build_org(db, "lx")
    await arrange(db, org)
    headers = await login(api, org, "admin")
    url = f"/properties/{org.property_id}/service-desk/ledger"
    for lang, header, sheet_name in (("zh", ZH_HEADER, "工单台账"), ("en", EN_HEADER, "Ledger")):
        answer = await api.get(url, headers=headers, params={**PERIOD, "lang": lang})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
        book = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
        assert book.sheetnames == [sheet_name]
        rows = [list(r) for r in book[sheet_name].iter_rows(values_only=True)]
        assert rows[0] == header
        assert [r[0] for r in rows[1:]] == ["L1", "L2"]
        first = rows[1]
        assert first[1] == datetime(2025, 6, 2, 9, 0)  # wall-clock time in Shanghai, a real date cell
        assert first[9] == "'=厨房漏水"  # what an owner wrote is never a formula
        assert (first[20], first[21]) == (1, 4)
        assert rows[2][1] == datetime(2025, 6, 10, 23, 30)
    empty = await api.get(url, headers=headers, params={"from": "2024-01-01", "to": "2024-01-02"})
    book = openpyxl.load_workbook(io.BytesIO(empty.content), read_only=True)
    assert [list(r) for r in book["工单台账"].iter_rows(values_only=True)] == [ZH_HEADER]
