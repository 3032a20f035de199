"""Small charts as SVG text, drawn on the server: a trend line over periods, and horizontal bars. No library
draws these faster or smaller (matplotlib takes tens of milliseconds and 30 KB a chart); the console's pages
inline them and the report PDF draws them. Every chart has a <title> and a description a screen reader reads,
values are written beside their marks (a chart is readable without colour), and a missing value (None: no
denominator in that period) is a gap, never a zero."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

INK, MUTED, LINE, BRAND, FILL = "#1d2327", "#555f66", "#c9d1d6", "#0b6b4f", "#cfe6dc"
FONT = 'font-family="system-ui, sans-serif"'


def _number(value: float, unit: str, places: int = 1) -> str:
    text = f"{value:.{places}f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return text + unit


def _frame(width: int, height: int, title: str, description: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" {FONT} font-size="12">'
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>{''.join(body)}</svg>"
    )


def line_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    unit: str = "",
    top: float | None = None,
    width: int = 640,
    height: int = 220,
) -> str:
    """A trend: one point per period (label, value), left to right; `top` fixes the scale's top (100 for a
    percentage), otherwise the largest value sets it."""
    left, right, upper, lower = 44, 12, 14, 34
    values = [v for _, v in points if v is not None]
    ceiling = top if top is not None else max([*values, 0.0]) or 1.0
    inner_w, inner_h = width - left - right, height - upper - lower
    step = inner_w / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return upper + inner_h * (1 - min(value, ceiling) / ceiling)

    body = []
    for share in (0, 0.5, 1):
        at = upper + inner_h * (1 - share)
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{at:.1f}" y2="{at:.1f}" stroke="{LINE}"/>')
        label = _number(ceiling * share, unit)
        body.append(f'<text x="{left - 6}" y="{at + 4:.1f}" text-anchor="end" fill="{MUTED}">{label}</text>')
    run: list[str] = []
    runs: list[list[str]] = [run]
    every, last_i = max(1, len(points) // 6), len(points) - 1
    for i, (label, value) in enumerate(points):
        x = left + step * i
        # about six labels; none so near the last (written whole, ending at the right edge) that they overlap
        if i == last_i or (i % every == 0 and last_i - i >= every):
            anchor = "end" if i == last_i and i > 0 else "middle"
            body.append(
                f'<text x="{x:.1f}" y="{height - 12}" text-anchor="{anchor}" fill="{MUTED}">{escape(label)}</text>'
            )
        if value is None:
            run = []
            runs.append(run)
            continue
        run.append(f"{x:.1f},{y(value):.1f}")
        body.append(
            f'<circle cx="{x:.1f}" cy="{y(value):.1f}" r="3" fill="{BRAND}"><title>{escape(label)}: '
            f"{_number(value, unit)}</title></circle>"
        )
    for points_of_run in runs:
        if len(points_of_run) > 1:
            body.append(f'<polyline points="{" ".join(points_of_run)}" fill="none" stroke="{BRAND}" stroke-width="2"/>')
    if values:
        i = max(i for i, (_, v) in enumerate(points) if v is not None)
        last = values[-1]
        above = y(last) - 8
        body.append(
            f'<text x="{min(left + step * i, width - right - 4):.1f}" y="{above if above > 12 else y(last) + 18:.1f}" '
            f'text-anchor="end" fill="{INK}" font-weight="600">{_number(last, unit)}</text>'
        )
    description = "; ".join(f"{label}: {'-' if v is None else _number(v, unit)}" for label, v in points)
    return _frame(width, height, title, description, body)


def nice_top(values: Sequence[float | None]) -> float:
    """A round top for a scale holding every value: the least of 1, 2, 2.5 or 5 times a power of ten not below
    the largest (1 when there is nothing to show)."""
    largest = max([v for v in values if v is not None] or [0.0])
    if largest <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(largest))
    return float(next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= largest))


def bar_chart(
    bars: Sequence[tuple[str, float | None]],
    *,
    title: str,
    unit: str = "",
    top: float | None = None,
    width: int = 640,
    label_width: int = 150,
    notes: Sequence[str] | None = None,
    places: int = 1,
) -> str:
    """Horizontal bars, one per (label, value), top to bottom, each value written at the bar's end (with up to
    `places` decimals); `notes`, when given, is a short text after each value (a change since last time:
    "+0.3")."""
    row, gap, right = 22, 8, 90
    height = max(len(bars), 1) * (row + gap) + gap
    values = [v for _, v in bars if v is not None]
    ceiling = top if top is not None else max([*values, 0.0]) or 1.0
    inner = width - label_width - right
    body = []
    for i, (label, value) in enumerate(bars):
        y = gap + i * (row + gap)
        body.append(f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" fill="{INK}">{escape(label)}</text>')
        body.append(f'<rect x="{label_width}" y="{y}" width="{inner}" height="{row}" fill="#f1f3f4"/>')
        length = 0.0 if value is None else inner * min(value, ceiling) / ceiling
        body.append(f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{row}" fill="{BRAND}"/>')
        written = "-" if value is None else _number(value, unit, places)
        note = f" {notes[i]}" if notes and notes[i] else ""
        body.append(
            f'<text x="{label_width + length + 6:.1f}" y="{y + 15}" fill="{INK}">{escape(written + note)}</text>'
        )
    description = "; ".join(
        f"{label}: {'-' if v is None else _number(v, unit, places)}{(' ' + notes[i]) if notes and notes[i] else ''}"
        for i, (label, v) in enumerate(bars)
    )
    return _frame(width, height, title, description, body)
