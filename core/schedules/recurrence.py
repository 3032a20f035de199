"""RRULE expansion in a property's time zone (pure: no I/O, no clock). dateutil implements RFC 5545; this module
decides what the rule is read against: the local wall time of the property, with month ends clamped.

A rule repeats in local wall time: a 09:00 start stays 09:00 across DST, so its UTC hour changes with the
season. A local time that does not exist (spring forward) is taken with the offset before the change (fold=0),
so it lands one hour later in wall time; one that exists twice (fall back) is taken the first time.

Month ends: RFC 5545 skips the months without the start's day ("the 31st, monthly" has no February). A property
manager means "the last day" then, so a start on the 29th, 30th or 31st of a plain MONTHLY or YEARLY rule is
read as the last of the days 28..<day> the month has: 31 Aug, 28 Feb (29 in a leap year), 31 Aug …
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule as Rule
from dateutil.rrule import rrulestr

from core.errors import FieldError, Invalid

FIELD = "rrule"
PARTS = (
    "FREQ",
    "UNTIL",
    "COUNT",
    "INTERVAL",
    "BYSECOND",
    "BYMINUTE",
    "BYHOUR",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
)
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
# the rule parts that choose days themselves: with one of them the rule means what it says
DAY_CHOOSERS = ("BYMONTHDAY", "BYDAY", "BYSETPOS", "BYYEARDAY", "BYWEEKNO")
_SAFE = re.compile(r"^[A-Z0-9=;,+\-]+$")
_UNTIL_UTC = re.compile(r"^(\d{8}T\d{6})Z$")
# wider than any UTC offset change, so the local window around [after, before) holds every occurrence in it
_MARGIN = timedelta(days=1)


def _invalid(message: str) -> Invalid:
    return Invalid(f"the recurrence rule is not valid: {message}", [FieldError(field=FIELD, message=message)])


def normalise(body: str) -> str:
    """The rule body as stored: upper case, no spaces, no 'RRULE:' prefix."""
    text = "".join(body.split()).upper()
    return text.removeprefix("RRULE:")


def parse_parts(body: str) -> dict[str, str]:
    """NAME=value parts of a rule body; Invalid on anything that is not one RRULE line."""
    text = normalise(body)
    if not text or not _SAFE.match(text):
        raise _invalid("write one RRULE body such as FREQ=MONTHLY;INTERVAL=6 (letters, digits and = ; , + -)")
    parts: dict[str, str] = {}
    for piece in text.strip(";").split(";"):
        name, sep, value = piece.partition("=")
        if not sep or not value:
            raise _invalid(f"{piece!r} is not NAME=value")
        if name not in PARTS:
            raise _invalid(f"{name} is not an RRULE part")
        if name in parts:
            raise _invalid(f"{name} is given twice")
        parts[name] = value
    freq = parts.get("FREQ")
    if freq is None:
        raise _invalid("FREQ is required")
    if freq not in FREQUENCIES:
        raise _invalid(f"FREQ must be one of {', '.join(FREQUENCIES)} (schedules repeat daily at most)")
    if "COUNT" in parts and "UNTIL" in parts:
        raise _invalid("give COUNT or UNTIL, not both")
    return parts


def _clamped(parts: dict[str, str], dtstart: datetime) -> dict[str, str]:
    """The parts with a month-end start read as "the last day" (see the module docstring)."""
    if dtstart.day < 29 or parts["FREQ"] not in ("MONTHLY", "YEARLY") or any(p in parts for p in DAY_CHOOSERS):
        return parts
    clamped = dict(parts)
    if parts["FREQ"] == "YEARLY":
        months = parts.get("BYMONTH", str(dtstart.month))
        if "," in months:
            # BYSETPOS picks within the year, so it cannot pick a last day per month: RFC 5545 reading stays
            return parts
        clamped["BYMONTH"] = months
    clamped["BYMONTHDAY"] = ",".join(str(day) for day in range(28, dtstart.day + 1))
    # the last day of the set holds its last `times` entries (one per BYHOUR × BYMINUTE × BYSECOND)
    times = 1
    for part in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        times *= len(parts[part].split(",")) if part in parts else 1
    clamped["BYSETPOS"] = ",".join(str(-i) for i in range(times, 0, -1))
    return clamped


def zone_of(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(
            "unknown time zone", [FieldError(field="timezone", message=f"{timezone!r} is not an IANA time zone")]
        ) from None


def build(body: str, dtstart_local: datetime, timezone: str) -> Rule:
    """The dateutil rule over naive local times (month ends clamped); Invalid naming 'rrule' if unusable."""
    if dtstart_local.tzinfo is not None:
        raise Invalid(
            "the start is a local time",
            [FieldError(field="dtstart_local", message="give the local time without an offset or zone")],
        )
    zone = zone_of(timezone)
    parts = _clamped(parse_parts(body), dtstart_local)
    until = _UNTIL_UTC.match(parts.get("UNTIL", ""))
    if until:
        # the rule runs in naive local time, so an UNTIL in UTC becomes the same instant in local time
        instant = datetime.strptime(until[1], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        parts["UNTIL"] = instant.astimezone(zone).replace(tzinfo=None).strftime("%Y%m%dT%H%M%S")
    text = ";".join(f"{name}={value}" for name, value in parts.items())
    try:
        rule = rrulestr(f"RRULE:{text}", dtstart=dtstart_local)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise _invalid(str(exc) or "cannot be read") from None
    if not isinstance(rule, Rule):  # an RRULE line alone always parses to one rule
        raise _invalid("cannot be read")
    return rule


def check(body: str, dtstart_local: datetime, timezone: str) -> str:
    """The normalised rule body, or Invalid naming 'rrule'. A rule with no occurrence at all (the 30th of
    February) is refused: expanding it would scan to the year 9999 every time. That scan happens here once,
    so run this off the event loop."""
    rule = build(body, dtstart_local, timezone)
    if next(iter(rule), None) is None:
        raise _invalid("it has no occurrences")
    return normalise(body)


def _utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _local_from(after: datetime, zone: ZoneInfo) -> datetime:
    if after.tzinfo is None:
        raise ValueError("after and before must be aware datetimes")
    return after.astimezone(zone).replace(tzinfo=None) - _MARGIN


def _expand(rule: Rule, start: datetime) -> Iterator[datetime]:
    """Local occurrences from `start` on (naive local)."""
    it: Iterator[datetime] = iter(rule)
    for local in it:
        if local >= start:
            yield local


def occurrences(
    rrule: str, dtstart_local: datetime, timezone: str, after: datetime, before: datetime
) -> list[datetime]:
    """Starts (aware, UTC) of the rule's occurrences in [after, before), in order, each once."""
    zone = zone_of(timezone)
    rule = build(rrule, dtstart_local, timezone)
    end = before.astimezone(zone).replace(tzinfo=None) + _MARGIN
    found: set[datetime] = set()
    for local in _expand(rule, _local_from(after, zone)):
        if local >= end:
            break
        at = _utc(local, zone)
        if after <= at < before:
            found.add(at)
    return sorted(found)


def upcoming(rrule: str, dtstart_local: datetime, timezone: str, after: datetime, count: int) -> list[datetime]:
    """The first `count` starts (aware, UTC) at or after `after`, in order, each once."""
    if count < 1:
        return []
    zone = zone_of(timezone)
    rule = build(rrule, dtstart_local, timezone)
    found: set[datetime] = set()
    enough_at: datetime | None = None
    for local in _expand(rule, _local_from(after, zone)):
        # around a DST change local order and UTC order can differ: look a margin past the count-th
        if enough_at is not None and local >= enough_at:
            break
        at = _utc(local, zone)
        if at >= after:
            found.add(at)
            if enough_at is None and len(found) >= count:
                enough_at = local + _MARGIN
    return sorted(found)[:count]
