"""The server's SVG charts: a trend's labels do not crowd its last one, its last value stays inside the frame, a
gap stays a gap, and a scale's round top."""

from __future__ import annotations

import re

import pytest

from core.charts import line_chart, nice_top

MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


def labels(svg: str) -> list[tuple[str, str, str]]:
    return re.findall(r'<text x="([0-9.]+)" y="208" text-anchor="(\w+)" fill="#555f66">([^<]+)</text>', svg)


def test_a_trend_labels_about_six_months_and_the_last_whole():
    svg = line_chart([(m, 50.0) for m in MONTHS], title="完成率 by month", unit="%", top=100)
    shown = labels(svg)
    assert [label for _, _, label in shown] == ["2025-01", "2025-03", "2025-05", "2025-07", "2025-09", "2025-12"]
    x, anchor, _ = shown[-1]
    assert anchor == "end" and float(x) == 640 - 12  # ends at the plot's right edge, not past the frame
    assert "<title>完成率 by month</title>" in svg and "2025-11: 50%" in svg


def test_a_value_at_the_top_is_written_below_its_point():
    svg = line_chart([("a", 10.0), ("b", 68.4)], title="hours", top=68.4)
    value = re.search(r'<text x="[0-9.]+" y="([0-9.]+)" text-anchor="end" fill="#1d2327" font-weight="600">68.4<', svg)
    assert value and float(value.group(1)) > 14  # inside the frame


def test_a_month_without_a_figure_is_a_gap():
    svg = line_chart([("a", 1.0), ("b", None), ("c", 2.0)], title="t")
    assert "<polyline" not in svg and svg.count("<circle") == 2 and "b: -" in svg


@pytest.mark.parametrize(
    ("values", "top"),
    [([68.4, 12.0], 100.0), ([19.5], 20.0), ([2.1], 2.5), ([0.3, None], 0.5), ([None], 1.0), ([0.0], 1.0)],
)
def test_a_scale_has_a_round_top(values, top):
    assert nice_top(values) == pytest.approx(top)
