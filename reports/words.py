"""How the report writes its figures and words, Chinese first: the PDF's and the console's formatting, one place."""

from __future__ import annotations

from reports.periods import ReportPeriod

CATEGORIES = {
    "cleaning": ("保洁", "cleaning"),
    "patrol": ("秩序", "patrol"),
    "engineering": ("工程", "engineering"),
    "greening": ("绿化", "greening"),
    "safety": ("安全", "safety"),
    "other": ("其他", "other"),
}
SEVERITIES = {
    "low": ("低", "low"),
    "medium": ("中", "medium"),
    "high": ("高", "high"),
    "critical": ("严重", "critical"),
}
ACTION_STATES = {"open": ("进行中", "open"), "done": ("已完成", "done")}
NONE = "—"
MONTHS = "January February March April May June July August September October November December".split()


def percent(rate: float | None) -> str:
    """0.875 -> '87.5%'; None -> '—' (nothing was counted)."""
    return NONE if rate is None else f"{rate * 100:.1f}%"


def number(value: float | None, kind: str = "count") -> str:
    if value is None:
        return NONE
    if kind == "rate":
        return percent(value)
    if kind == "hours":
        return f"{value:.1f} h"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def change(now: float | None, before: float | None, kind: str) -> str:
    """The change since the period before: percentage points for a rate."""
    if now is None or before is None:
        return NONE
    difference = now - before
    if kind == "rate":
        return f"{difference * 100:+.1f} pp"
    if kind == "hours":
        return f"{difference:+.1f} h"
    return f"{difference:+.0f}"


def score(value: float | None) -> str:
    return NONE if value is None else f"{value:.2f}"


def word(table: dict[str, tuple[str, str]], key: str) -> str:
    zh, en = table.get(key, (key, key))
    return f"{zh} {en}" if zh != en else zh


def period_title(period: ReportPeriod) -> tuple[str, str]:
    """('2026年10月', 'October 2026') or ('2026年第四季度', '2026 Q4')."""
    year = period.first.year
    if period.kind == "month":
        return f"{year}年{period.first.month}月", f"{MONTHS[period.first.month - 1]} {year}"
    quarter = (period.first.month - 1) // 3 + 1
    return f"{year}年第{'一二三四'[quarter - 1]}季度", f"{year} Q{quarter}"


def report_title(period: ReportPeriod) -> tuple[str, str]:
    if period.kind == "month":
        return "物业服务月度报告", "Monthly property report"
    return "物业服务季度报告", "Quarterly property report"
