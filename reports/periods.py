"""A report's period: a local month `2026-10` or a quarter `2026-Q4`, in the property's time zone."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.errors import FieldError, Invalid
from core.periods import FIRST_YEAR, LAST_YEAR
from core.structs import Frozen

PERIOD = re.compile(r"(?P<year>[0-9]{4})-(?:(?P<month>[0-9]{2})|Q(?P<quarter>[0-9]))")
TREND_MONTHS = 12


class ReportPeriod(Frozen, frozen=True):
    """`label` as asked (2026-10, 2026-Q4); its first and last local days, both included."""

    label: str
    kind: str  # month | quarter
    first: date
    last: date


def _month_end(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def _bad(label: str, why: str) -> Invalid:
    return Invalid(
        f"{label!r} is not a report period: {why}",
        [FieldError(field="period", message="a month YYYY-MM (2026-10) or a quarter YYYY-Qn (2026-Q4)")],
    )


def parse_period(label: str) -> ReportPeriod:
    """The period `label` names; Invalid (naming the parameter `period`) for anything else."""
    found = PERIOD.fullmatch(label)
    if found is None:
        raise _bad(label[:40], "write a month YYYY-MM or a quarter YYYY-Qn")
    year = int(found["year"])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise _bad(label, f"the year must be in {FIRST_YEAR}-{LAST_YEAR}")
    if found["month"] is not None:
        month = int(found["month"])
        if not 1 <= month <= 12:
            raise _bad(label, "the month must be 01-12")
        return ReportPeriod(label=label, kind="month", first=date(year, month, 1), last=_month_end(year, month))
    quarter = int(found["quarter"])
    if not 1 <= quarter <= 4:
        raise _bad(label, "the quarter must be Q1-Q4")
    first_month = 3 * quarter - 2
    return ReportPeriod(
        label=label, kind="quarter", first=date(year, first_month, 1), last=_month_end(year, first_month + 2)
    )


def month_label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def quarter_label(day: date) -> str:
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def previous(period: ReportPeriod) -> ReportPeriod:
    """The month or quarter before."""
    before = period.first - timedelta(days=1)
    return parse_period(month_label(before) if period.kind == "month" else quarter_label(before))


def trend_months(period: ReportPeriod) -> list[ReportPeriod]:
    """The TREND_MONTHS local months ending with the period's last, oldest first."""
    months = [parse_period(month_label(period.last))]
    while len(months) < TREND_MONTHS:
        months.insert(0, previous(months[0]))
    return months


def require_started(period: ReportPeriod, timezone: str, now: datetime) -> None:
    """Refuse a period that has not begun in the property's zone (its figures would all be empty)."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    if period.first > today:
        raise Invalid(
            f"the period {period.label} has not begun (today is {today.isoformat()} at the property)",
            [FieldError(field="period", message="a period that has begun: this month or quarter, or an earlier one")],
        )


def recent_periods(timezone: str, now: datetime) -> list[str]:
    """What a console offers: this month so far, the two months before, this quarter so far and the last one."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    this_month = parse_period(month_label(today))
    last_month = previous(this_month)
    this_quarter = parse_period(quarter_label(today))
    return [
        this_month.label,
        last_month.label,
        previous(last_month).label,
        this_quarter.label,
        previous(this_quarter).label,
    ]
