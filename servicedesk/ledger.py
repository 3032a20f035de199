"""The service desk's ledger (工单台账) as a file: a property's tickets received in a period of local days, one row
each, CSV (streamed, UTF-8 with a BOM for Excel) or XLSX (written with XlsxWriter, off the event loop),
headings and words in Chinese or English, times in the property's zone (wall-clock, no offset: the heading names
the zone). No access checks: the caller makes them.

Late flags are as of now, against the first promises (as the KPIs judge them): the response (the first contact,
or the first resolution when none was recorded) or the first resolution came after its original deadline, or has
not come and the deadline has passed; blank while the deadline is still ahead, or when nothing was promised (a
ticket declined, or not yet verified).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

import asyncpg

from core.db import acquire
from core.periods import KpiPeriod
from core.tabular import BOM, Book, Cell, attachment, csv_lines, neutralised
from servicedesk.repository import ledger as sql

Lang = Literal["zh", "en"]
BATCH = 500

# column -> (zh, en); the times' headings get the zone appended
HEADINGS: dict[str, tuple[str, str]] = {
    "id": ("工单号", "Ticket"),
    "received_at": ("受理时间", "Received"),
    "kind": ("类型", "Kind"),
    "category": ("类别", "Category"),
    "channel": ("渠道", "Channel"),
    "unit": ("楼栋房号", "Building / unit"),
    "location": ("位置", "Location"),
    "reporter": ("报事人", "Reporter"),
    "phone": ("联系电话", "Phone"),
    "description": ("内容", "Description"),
    "status": ("状态", "Status"),
    "responsible": ("责任人", "Responsible"),
    "respond_due_original": ("承诺响应时间(原)", "Response promised (original)"),
    "respond_due_at": ("承诺响应时间(现)", "Response promised (in force)"),
    "resolve_due_original": ("承诺完成时间(原)", "Resolution promised (original)"),
    "resolve_due_at": ("承诺完成时间(现)", "Resolution promised (in force)"),
    "responded_at": ("响应时间", "Responded"),
    "resolved_at": ("完成时间", "Resolved"),
    "confirmed_at": ("确认时间", "Confirmed"),
    "confirmed_via": ("确认方式", "Confirmed by"),
    "reopens": ("返工次数", "Reopens"),
    "visit_rating": ("回访评分", "Visit rating"),
    "closed_at": ("关闭时间", "Closed"),
    "response_late": ("响应超时", "Response late"),
    "resolution_late": ("处理超时", "Resolution late"),
}
TIMES = {k for k in HEADINGS if k.endswith("_at") or k.endswith("_original")}

WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "kind": {
        "repair": ("报修", "repair"),
        "complaint": ("投诉", "complaint"),
        "suggestion": ("建议", "suggestion"),
        "praise": ("表扬", "praise"),
        "enquiry": ("咨询", "enquiry"),
    },
    "category": {
        "cleaning": ("保洁", "cleaning"),
        "patrol": ("秩序", "patrol"),
        "engineering": ("工程", "engineering"),
        "greening": ("绿化", "greening"),
        "safety": ("安全", "safety"),
        "other": ("其他", "other"),
    },
    "channel": {
        "app": ("业主App", "app"),
        "web": ("网页", "web"),
        "front_desk": ("前台", "front desk"),
        "hotline": ("热线", "hotline"),
        "round": ("巡查", "round"),
    },
    "status": {
        "received": ("待受理", "received"),
        "accepted": ("已受理", "accepted"),
        "declined": ("不予受理", "declined"),
        "assigned": ("已派单", "assigned"),
        "responded": ("已响应", "responded"),
        "resolved": ("已完成", "resolved"),
        "confirmed": ("已确认", "confirmed"),
        "closed": ("已关闭", "closed"),
    },
    "confirmed_via": {
        "owner": ("业主确认", "owner"),
        "staff": ("员工代确认", "staff"),
        "auto": ("超时自动确认", "auto"),
    },
}
YES_NO: dict[Lang, tuple[str, str]] = {"zh": ("是", "否"), "en": ("yes", "no")}


def header(lang: Lang, zone: str) -> list[Cell]:
    index = 0 if lang == "zh" else 1
    return [f"{names[index]} ({zone})" if key in TIMES else names[index] for key, names in HEADINGS.items()]


def _word(column: str, value: str | None, lang: Lang) -> str | None:
    if value is None:
        return None
    names = WORDS[column].get(value)
    return value if names is None else names[0 if lang == "zh" else 1]


def _late(done: datetime | None, due: datetime | None, now: datetime, lang: Lang) -> str | None:
    if due is None or (done is None and due > now):
        return None
    yes, no = YES_NO[lang]
    return yes if done is None or done > due else no


def _text(value: str | None) -> str | None:
    return neutralised(value) if value else None


def row_cells(row: asyncpg.Record, zone: ZoneInfo, lang: Lang, now: datetime) -> list[Cell]:
    """One ticket's cells, as `header` names them."""

    def local(moment: datetime | None) -> datetime | None:
        return None if moment is None else moment.astimezone(zone).replace(tzinfo=None, microsecond=0)

    building, number = row["building_name"], row["unit_number"]
    unit = " ".join(part for part in (building, number) if part) or None
    first_resolved = row["first_resolved_at"] or row["resolved_at"]
    responded = min((t for t in (row["responded_at"], first_resolved) if t is not None), default=None)
    cells: dict[str, Cell] = {
        "id": row["id"],
        "received_at": local(row["received_at"]),
        "kind": _word("kind", row["kind"], lang),
        "category": _word("category", row["category"], lang),
        "channel": _word("channel", row["channel"], lang),
        "unit": _text(unit),
        "location": _text(row["location"]),
        "reporter": _text(row["reporter"]),
        "phone": _text(row["phone"]),
        "description": _text(row["description"]),
        "status": _word("status", row["status"], lang),
        "responsible": _text(row["responsible_name"]),
        **{key: local(row[key]) for key in TIMES if key not in ("received_at",)},
        "confirmed_via": _word("confirmed_via", row["confirmed_via"], lang),
        "reopens": row["reopens"],
        "visit_rating": row["visit_rating"],
        "response_late": _late(responded, row["respond_due_original"], now, lang),
        "resolution_late": _late(first_resolved, row["resolve_due_original"], now, lang),
    }
    return [cells[key] for key in HEADINGS]


def content_disposition(property_id: str, period: KpiPeriod, lang: Lang, extension: str) -> str:
    days = f"{period.from_.isoformat()}_{period.to.isoformat()}"
    shown = f"工单台账_{days}" if lang == "zh" else f"service-desk-ledger_{days}"
    return attachment(f"service-desk-{property_id}-{days}.{extension}", f"{shown}.{extension}")


async def _batches(
    pool: asyncpg.Pool, org_id: str, property_id: str, period: KpiPeriod, lang: Lang, now: datetime
) -> AsyncIterator[list[list[Cell]]]:
    zone = ZoneInfo(period.timezone)
    async with acquire(pool) as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        async for batch in sql.ledger_batches(conn, org_id, property_id, period.start_utc, period.end_utc, BATCH):
            yield [row_cells(row, zone, lang, now) for row in batch]


async def csv_chunks(
    pool: asyncpg.Pool, org_id: str, property_id: str, period: KpiPeriod, lang: Lang, now: datetime
) -> AsyncIterator[bytes]:
    """The ledger as UTF-8 CSV with a BOM, a batch of rows per chunk."""
    yield BOM.encode() + csv_lines([header(lang, period.timezone)])
    async for rows in _batches(pool, org_id, property_id, period, lang, now):
        yield csv_lines(rows)


async def xlsx_bytes(
    pool: asyncpg.Pool, org_id: str, property_id: str, period: KpiPeriod, lang: Lang, now: datetime
) -> bytes:
    """The ledger as a workbook of one sheet (工单台账 / Ledger), its heading row frozen."""
    book = Book()
    sheet = book.sheet("工单台账" if lang == "zh" else "Ledger", frozen_rows=1)
    await asyncio.to_thread(sheet.append, [header(lang, period.timezone)])
    async for rows in _batches(pool, org_id, property_id, period, lang, now):
        await asyncio.to_thread(sheet.append, rows)
    return await asyncio.to_thread(book.to_bytes)
