"""Printable QR tag labels for a property's checkpoints: an A4 sheet of 3 × 8 labels of 70 × 37 mm (the common
24-a-sheet label stock; on plain paper the dashed outlines are where to cut). Each label holds the checkpoint's
QR code, its name (Chinese renders with the font the PDF embeds), the property and the short code.

The QR code holds the checkpoint's tag code exactly: what the staff app scans, hashes and matches against the
checkpoint's `tag_digest`, and pushes as the visit's `scanned_tag`, which the push settlement compares with the
tag code (push_settlement.py). The short code printed under the name is that same code, so a label that will not
scan can be matched by eye.

Making the PDF is CPU work: it runs in a thread."""

from __future__ import annotations

import asyncio

import asyncpg
import msgspec
from fpdf import FPDF

from core.access import Caller
from core.errors import NotFound
from core.pdf import A4_HEIGHT, A4_WIDTH, FONT, draw_qr, fitted, new_a4
from core.places import service as places
from core.tabular import attachment
from inspections import setup

COLUMNS, ROWS = 3, 8
PER_PAGE = COLUMNS * ROWS
LABEL_WIDTH, LABEL_HEIGHT = 70.0, 37.0
TOP = (A4_HEIGHT - ROWS * LABEL_HEIGHT) / 2  # half a millimetre: the stock's own top margin
LEFT = (A4_WIDTH - COLUMNS * LABEL_WIDTH) / 2
PAD = 3.0
QR_SIZE = 25.0  # the code's modules; its quiet zone is the padding and the gap beside it
GREY = (90, 90, 90)
LISTED = 500  # a property's checkpoints printed at most (20 sheets)


class Label(msgspec.Struct, frozen=True, kw_only=True):
    checkpoint_id: str
    name: str
    location: str
    code: str  # the tag code: the QR code's exact value


class LabelSheet(msgspec.Struct, frozen=True, kw_only=True):
    property_id: str
    property_name: str
    labels: list[Label]


async def checkpoint_labels(
    conn: asyncpg.Connection, caller: Caller, property_id: str, ids: list[str] | None = None
) -> LabelSheet:
    """The labels of the property's active checkpoints (or of `ids`, retired ones too, in that order), for whoever
    may read their tag codes (list_checkpoints: staff never get them, so they get no labels either). An id that is
    not one of the property's checkpoints is not found."""
    prop = await places.get_property(conn, caller, property_id)
    found = await setup.list_checkpoints(conn, caller, property_id, None if ids else True, None, LISTED)
    by_id = {c.id: c for c in found.items if c.tag_code is not None}
    if ids:
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise NotFound(f"checkpoint {missing[0]} not found", entity="checkpoint", id=missing[0])
        chosen = [by_id[i] for i in dict.fromkeys(ids)]
    else:
        chosen = sorted(by_id.values(), key=lambda c: (c.name, c.id))
    return LabelSheet(
        property_id=property_id,
        property_name=prop.name,
        labels=[Label(checkpoint_id=c.id, name=c.name, location=c.location, code=c.tag_code or "") for c in chosen],
    )


async def labels_pdf(sheet: LabelSheet) -> bytes:
    return await asyncio.to_thread(render, sheet)


def content_disposition(sheet: LabelSheet) -> str:
    """Shown in the browser (a tab to print from), saved under the property's name."""
    return "inline" + attachment(
        f"checkpoint-labels-{sheet.property_id}.pdf", f"{sheet.property_name}-巡更点标签.pdf"
    ).removeprefix("attachment")


def label_cell(index: int) -> tuple[int, float, float]:
    """Where the `index`-th label goes: its page (from 0) and its top left corner (mm), row by row."""
    page, place = divmod(index, PER_PAGE)
    row, column = divmod(place, COLUMNS)
    return page, LEFT + column * LABEL_WIDTH, TOP + row * LABEL_HEIGHT


def render(sheet: LabelSheet) -> bytes:
    pdf = new_a4(f"{sheet.property_name} · 巡更点标签 / checkpoint labels")
    pages = max(1, -(-len(sheet.labels) // PER_PAGE))
    for page in range(pages):
        pdf.add_page()
        on_page = sheet.labels[page * PER_PAGE : (page + 1) * PER_PAGE]
        for place, label in enumerate(on_page):
            _, x, y = label_cell(place)
            _draw_label(pdf, sheet, label, x, y)
        if not on_page:
            pdf.set_xy(10, 10)
            pdf.set_font(FONT, size=14)
            pdf.cell(text="没有要打印的巡更点 / No checkpoints to print")
    return bytes(pdf.output())


def _draw_label(pdf: FPDF, sheet: LabelSheet, label: Label, x: float, y: float) -> None:
    pdf.set_draw_color(170, 170, 170)
    pdf.set_line_width(0.15)
    pdf.set_dash_pattern(dash=1.5, gap=1.5)
    pdf.rect(x, y, LABEL_WIDTH, LABEL_HEIGHT)
    pdf.set_dash_pattern()
    top = y + (LABEL_HEIGHT - QR_SIZE) / 2
    draw_qr(pdf, label.code, x + PAD + 1, top, QR_SIZE)
    left = x + PAD + 1 + QR_SIZE + 3
    width = x + LABEL_WIDTH - PAD - left
    pdf.set_text_color(*GREY)
    pdf.set_font(FONT, size=7)
    pdf.set_xy(left, y + PAD)
    pdf.cell(w=width, h=3.5, text=fitted(pdf, sheet.property_name, width))
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, size=11)
    pdf.set_xy(left, y + PAD + 4.5)
    lines = pdf.multi_cell(w=width, h=5, text=label.name, dry_run=True, output="LINES")
    assert isinstance(lines, list)  # what output="LINES" gives
    if len(lines) > 3:
        lines = [*lines[:2], fitted(pdf, "".join(lines[2:]), width)]
    for line in lines:
        pdf.set_x(left)
        pdf.cell(w=width, h=5, text=line, new_x="LEFT", new_y="NEXT")
    pdf.set_text_color(*GREY)
    if label.location:
        pdf.set_font(FONT, size=7)
        pdf.set_x(left)
        pdf.cell(w=width, h=3.5, text=fitted(pdf, label.location, width), new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, size=8)
    pdf.set_xy(left, y + LABEL_HEIGHT - PAD - 4)
    pdf.cell(w=width, h=4, text=fitted(pdf, label.code, width))
    pdf.set_text_color(0, 0, 0)
