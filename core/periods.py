"""A period of local days in a property's time zone, as the KPI routes take it (`from`, `to`, both included), and
the UTC range it covers. Every domain's figures count over such a period, parsed and checked here once."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec

from core.errors import FieldError, Invalid
from core.structs import Frozen

DEFAULT_DAYS = 30
MAX_YEARS = 3
FIRST_YEAR, LAST_YEAR = 1900, 2999
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class KpiPeriod(Frozen, frozen=True):
    """Local dates, both included, in the property's time zone; and the UTC range [start_utc, end_utc) they cover."""

    from_: date = msgspec.field(name="from")
    to: date
    timezone: str
    start_utc: datetime
    end_utc: datetime


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    # fold=0: where midnight happens twice the day starts at the first; where it is skipped, at the jump
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _date(value: date | str | None, parameter: str) -> date | None:
    if value is None:
        return None
    day = None
    if isinstance(value, date):
        day = value
    elif ISO_DAY.fullmatch(value):  # fromisoformat alone would take 20250601 and 2025-W01-1 too
        with contextlib.suppress(ValueError):
            day = date.fromisoformat(value)
    if day is None:
        raise Invalid(
            f"{parameter} is not a date / {parameter} 不是日期",
            [FieldError(field=parameter, message=f"{value!r} is not YYYY-MM-DD / {value!r} 不是 YYYY-MM-DD 格式")],
        )
    # the UTC range of a day in year 1 or 9999 can fall outside what datetime holds
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise Invalid(
            f"{parameter} is out of range / {parameter} 超出范围",
            [
                FieldError(
                    field=parameter,
                    message=f"must be in the years {FIRST_YEAR}-{LAST_YEAR} / 年份须在 {FIRST_YEAR}-{LAST_YEAR} 之间",
                )
            ],
        )
    return day


def resolve_period(from_: date | str | None, to: date | str | None, timezone: str, now: datetime) -> KpiPeriod:
    """The local dates asked for (dates, or their YYYY-MM-DD text as a query gives them; default: the 30 local
    days up to today in `timezone`) as a UTC range. Refuses from after to, and a span over 3 years."""
    zone = ZoneInfo(timezone)
    from_, to = _date(from_, "from"), _date(to, "to")
    if to is None:
        to = now.astimezone(zone).date()
    if from_ is None:
        from_ = to - timedelta(days=DEFAULT_DAYS - 1)
    if from_ > to:
        raise Invalid(
            "the period starts after it ends / 开始日期晚于结束日期",
            [
                FieldError(
                    field="from",
                    message=f"{from_.isoformat()} is after to ({to.isoformat()}) / {from_.isoformat()} 晚于结束日期 "
                    f"{to.isoformat()}",
                )
            ],
        )
    if to >= _years_later(from_, MAX_YEARS):
        raise Invalid(
            f"a period spans at most {MAX_YEARS} years / 期间最长 {MAX_YEARS} 年",
            [
                FieldError(
                    field="to",
                    message=f"must be before {_years_later(from_, MAX_YEARS).isoformat()} / "
                    f"须早于 {_years_later(from_, MAX_YEARS).isoformat()}",
                )
            ],
        )
    return KpiPeriod(
        from_=from_,
        to=to,
        timezone=timezone,
        start_utc=_local_midnight_utc(from_, zone),
        end_utc=_local_midnight_utc(to + timedelta(days=1), zone),
    )
