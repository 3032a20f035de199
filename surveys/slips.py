"""Printable survey slips: per campaign an A4 PDF of cut-out slips, one per household, each with its link as a QR
code, the property, building and unit it belongs to, the campaign, when it closes (the property's local time) and
two lines of instructions, Chinese first. Slips run by building, then unit, as people read the numbers ("2-101"
before "10-101"), so a sheet goes round a building in order; the reminder round prints only the households that
have not answered.

Making the PDF is CPU work (about 8 ms a slip, docs/benchmarks.md): it runs in a thread.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

import asyncpg
import msgspec
from fpdf import FPDF

from core.access import Caller
from core.errors import NotFound
from core.pdf import A4_HEIGHT, A4_WIDTH, FONT, draw_qr, fitted, new_a4
from core.places import repository as places_sql
from core.schedules.recurrence import zone_of
from core.tabular import attachment
from surveys.campaigns import campaign_for_admin, link_token
from surveys.repository import campaigns as sql

PDF_MEDIA_TYPE = "application/pdf"
INSTRUCTIONS_ZH = "请用手机扫码填写物业服务满意度调查，无需下载应用。"
INSTRUCTIONS_EN = "Scan with your phone's camera to answer the survey — no app needed."
CLOSES = "截止日期 / Closes"

# the sheet: 2 × 4 slips inside a margin most printers can print to the edge of (millimetres)
COLUMNS, ROWS = 2, 4
PER_PAGE = COLUMNS * ROWS
MARGIN = 8.0
SLIP_WIDTH = (A4_WIDTH - 2 * MARGIN) / COLUMNS
SLIP_HEIGHT = (A4_HEIGHT - 2 * MARGIN) / ROWS
PAD = 5.0
QR_SIZE = 32.0  # an old phone reads a 32 mm code from arm's length
QR_TOP = 19.5  # below the slip's heading, past the code's quiet zone
GREY = (90, 90, 90)

# the lines a text wraps to, by text, width, font size and most lines
Wrapped = dict[tuple[str, float, float, int], list[str]]


class Slip(msgspec.Struct, frozen=True, kw_only=True):
    unit_id: str
    building_id: str
    building_name: str
    unit_number: str
    url: str


class SlipSheet(msgspec.Struct, frozen=True, kw_only=True):
    """What a sheet of slips shows: the campaign and its households' slips in print order."""

    campaign_id: str
    property_name: str
    name_zh: str
    name_en: str
    closes_local: str  # "YYYY-MM-DD HH:MM" in the property's time zone
    slips: list[Slip]


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Orders names as people read them: the runs of digits by their value ("2-101" before "10-101", "9号楼"
    before "10号楼"), the rest as text."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part)


def slip_cell(index: int) -> tuple[int, float, float]:
    """Where the `index`-th slip of a sheet goes: its page (from 0) and its top left corner (mm), row by row."""
    page, place = divmod(index, PER_PAGE)
    row, column = divmod(place, COLUMNS)
    return page, MARGIN + column * SLIP_WIDTH, MARGIN + row * SLIP_HEIGHT


async def campaign_slips(
    conn: asyncpg.Connection,
    caller: Caller,
    campaign_id: str,
    *,
    secret: str,
    base_url: str,
    now: datetime,
    building_id: str | None = None,
    unanswered: bool = False,
) -> SlipSheet:
    """The slips of a campaign's households (admins of its property, as its links): only `building_id`'s (a
    building of another property is not found), only those yet to answer when `unanswered`."""
    campaign = await campaign_for_admin(conn, caller, campaign_id, now)
    org_id, property_id = caller.org_id, campaign.property_id
    if building_id is not None:
        building = await places_sql.get_building(conn, org_id, building_id)
        if building is None or building["property_id"] != property_id:
            raise NotFound(
                f"building {building_id} not found in the campaign's property / 该楼栋不在本次调查的物业内",
                entity="building",
                id=building_id,
            )
    rows = await sql.slip_rows(conn, org_id, campaign_id, building_id, unanswered)
    rows.sort(key=lambda r: (natural_key(r["building_name"]), natural_key(r["unit_number"]), r["unit_id"]))
    place = await places_sql.get_property(conn, org_id, property_id)
    assert place is not None  # the campaign's foreign key keeps its property
    zone = zone_of(place["timezone"])
    return SlipSheet(
        campaign_id=campaign_id,
        property_name=place["name"],
        name_zh=campaign.name_zh,
        name_en=campaign.name_en,
        closes_local=campaign.closes_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        slips=[
            Slip(
                unit_id=r["unit_id"],
                building_id=r["building_id"],
                building_name=r["building_name"],
                unit_number=r["unit_number"],
                url=f"{base_url}/survey/" + link_token(secret, org_id, campaign_id, r["unit_id"], r["link_generation"]),
            )
            for r in rows
        ],
    )


async def slips_pdf(sheet: SlipSheet) -> bytes:
    return await asyncio.to_thread(render, sheet)


def content_disposition(sheet: SlipSheet) -> str:
    return attachment(f"survey-slips-{sheet.campaign_id}.pdf", f"{sheet.name_zh}-二维码.pdf")


def render(sheet: SlipSheet) -> bytes:
    """The sheet as an A4 PDF: 8 slips a page between dashed cut lines, a page that says so when none is left."""
    pdf = new_a4(f"{sheet.name_zh} / {sheet.name_en}")
    pages = max(1, -(-len(sheet.slips) // PER_PAGE))
    wrapped: Wrapped = {}
    for page in range(pages):
        pdf.add_page()
        on_page = sheet.slips[page * PER_PAGE : (page + 1) * PER_PAGE]
        _cut_lines(pdf, len(on_page))
        for place, slip in enumerate(on_page):
            _, x, y = slip_cell(place)
            _draw_slip(pdf, wrapped, sheet, slip, x, y)
        if not on_page:
            pdf.set_xy(MARGIN, MARGIN)
            pdf.set_font(FONT, size=14)
            pdf.cell(text="没有要打印的住户 / No households to print", new_x="LMARGIN", new_y="NEXT")
        _footer(pdf, sheet, page, pages)
    return bytes(pdf.output())


def _cut_lines(pdf: FPDF, slips: int) -> None:
    """Dashed lines around the page's first `slips` slips, each edge drawn once (by the slip below or right of it
    when there is one)."""
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=2, gap=1.5)
    for index in range(slips):
        _, x, y = slip_cell(index)
        right, bottom = x + SLIP_WIDTH, y + SLIP_HEIGHT
        pdf.line(x, y, right, y)
        pdf.line(x, y, x, bottom)
        if index % COLUMNS == COLUMNS - 1 or index + 1 == slips:
            pdf.line(right, y, right, bottom)
        if index + COLUMNS >= slips:
            pdf.line(x, bottom, right, bottom)
    pdf.set_dash_pattern()


def _draw_slip(pdf: FPDF, wrapped: Wrapped, sheet: SlipSheet, slip: Slip, x: float, y: float) -> None:
    inner = SLIP_WIDTH - 2 * PAD
    pdf.set_text_color(*GREY)
    pdf.set_font(FONT, size=9)
    pdf.set_xy(x + PAD, y + PAD - 1)
    pdf.cell(w=inner, h=4.5, text=fitted(pdf, sheet.property_name, inner))
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, size=16)
    pdf.set_xy(x + PAD, y + PAD + 4)
    pdf.cell(w=inner, h=7.5, text=fitted(pdf, f"{slip.building_name} · {slip.unit_number}", inner))

    draw_qr(pdf, slip.url, x + PAD, y + QR_TOP, QR_SIZE)

    # beside the code: the campaign and when it closes
    left = x + PAD + QR_SIZE + 5
    width = x + SLIP_WIDTH - PAD - left
    pdf.set_xy(left, y + QR_TOP)
    _lines(pdf, wrapped, sheet.name_zh, width, size=10.5, height=5, most=2)
    _lines(pdf, wrapped, sheet.name_en, width, size=8.5, height=4, most=2)
    pdf.set_y(pdf.get_y() + 2.5)
    pdf.set_x(left)
    pdf.set_text_color(*GREY)
    _lines(pdf, wrapped, CLOSES, width, size=8, height=4, most=1)
    pdf.set_text_color(0, 0, 0)
    pdf.set_x(left)
    _lines(pdf, wrapped, sheet.closes_local, width, size=12, height=6, most=1)

    # under it, across the slip: what to do
    pdf.set_xy(x + PAD, y + QR_TOP + QR_SIZE + 3.5)
    _lines(pdf, wrapped, INSTRUCTIONS_ZH, inner, size=8.5, height=4.2, most=2)
    pdf.set_x(x + PAD)
    pdf.set_text_color(*GREY)
    _lines(pdf, wrapped, INSTRUCTIONS_EN, inner, size=7, height=3.6, most=2)
    pdf.set_text_color(0, 0, 0)


def _lines(pdf: FPDF, wrapped: Wrapped, text: str, width: float, *, size: float, height: float, most: int) -> None:
    """`text` wrapped to `width` at the cursor, at most `most` lines (the last cut short), the cursor left below
    it at the same x. `wrapped` keeps the lines of the texts every slip repeats (a third of the time, unkept)."""
    pdf.set_font(FONT, size=size)
    left = pdf.get_x()
    key = (text, width, size, most)
    if key not in wrapped:
        lines = pdf.multi_cell(w=width, h=height, text=text, dry_run=True, output="LINES")
        assert isinstance(lines, list)  # what output="LINES" gives
        if len(lines) > most:
            lines = [*lines[: most - 1], fitted(pdf, "".join(lines[most - 1 :]), width)]
        wrapped[key] = lines
    for line in wrapped[key]:
        pdf.set_x(left)
        pdf.cell(w=width, h=height, text=line, new_x="LEFT", new_y="NEXT")


def _footer(pdf: FPDF, sheet: SlipSheet, page: int, pages: int) -> None:
    pdf.set_font(FONT, size=7)
    pdf.set_text_color(*GREY)
    pdf.set_xy(MARGIN, A4_HEIGHT - MARGIN + 1.5)
    text = f"{sheet.property_name} · {sheet.name_zh} / {sheet.name_en} · {page + 1}/{pages}"
    pdf.cell(w=A4_WIDTH - 2 * MARGIN, h=4, text=fitted(pdf, text, A4_WIDTH - 2 * MARGIN), align="R")
    pdf.set_text_color(0, 0, 0)
