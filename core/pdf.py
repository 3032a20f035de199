"""A4 PDFs for whatever fieldwork prints (survey slips, reports): fpdf2 with Noto Sans CJK SC embedded.

The font comes from the mplfonts package's files, read by path: the package is never imported (it would import
matplotlib). fpdf2 embeds only the glyphs a document uses, so a page of slips stays near 10 KB and shows Chinese on
a machine, or a printer, with no CJK font. QR codes are segno's, drawn as filled squares (vectors): sharp at any
printer's resolution, and the text layer stays the document's own.

Sizes are in millimetres, the origin at the page's top left.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from pathlib import Path

import segno
from fpdf import FPDF

A4_WIDTH, A4_HEIGHT = 210.0, 297.0
FONT = "NotoSansCJKsc"
FONT_FILE = "NotoSansCJKsc-Regular.otf"
# the white margin a QR code needs around it to be read, in modules (ISO/IEC 18004)
QUIET_ZONE_MODULES = 4


class FontMissing(RuntimeError):
    """The CJK font every PDF embeds is not installed (the mplfonts package, a dependency)."""


@functools.cache
def cjk_font_path() -> Path:
    """The Noto Sans CJK SC file mplfonts ships; FontMissing saying what to install when it is not there."""
    spec = importlib.util.find_spec("mplfonts")  # finds the package without running it (and matplotlib)
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = Path(locations[0]) / "fonts" / FONT_FILE if locations else None
    if path is None or not path.is_file():
        raise FontMissing(
            f"the PDF font {FONT_FILE} was not found (looked in {path or 'the mplfonts package'}): "
            "install the mplfonts package (pip install 'mplfonts>=0.0.11'), a dependency of fieldwork"
        )
    return path


def new_a4(title: str) -> FPDF:
    """An empty portrait A4 document in millimetres, the CJK font registered (as FONT) and selected, no automatic
    page breaks (the caller lays pages out) and `title` in its metadata."""
    # fontTools logs every table of every subset it makes at INFO: forty lines a document in our logs
    logging.getLogger("fontTools.subset").setLevel(logging.WARNING)
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font(FONT, fname=cjk_font_path())
    pdf.set_font(FONT, size=10)
    pdf.set_title(title)
    pdf.set_creator("fieldwork")
    return pdf


def draw_qr(pdf: FPDF, data: str, x: float, y: float, size: float, *, error: str = "m") -> int:
    """`data` as a QR code whose symbol fills the square of side `size` at (x, y), in black squares (each row's
    runs of dark modules as one rectangle); returns its width in modules. The caller leaves a white margin of
    QUIET_ZONE_MODULES modules (size / width each) around it. Error correction M: a slip survives a crease."""
    qr = segno.make_qr(data, error=error)
    modules = int(qr.symbol_size(scale=1, border=0)[0])
    cell = size / modules
    pdf.set_fill_color(0, 0, 0)
    for row, line in enumerate(qr.matrix_iter(scale=1, border=0)):
        start = None
        for column, dark in enumerate([*line, False]):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                pdf.rect(x + start * cell, y + row * cell, (column - start) * cell, cell, style="F")
                start = None
    return modules


def fitted(pdf: FPDF, text: str, width: float) -> str:
    """`text`, cut short with an ellipsis if it is wider than `width` in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"
