"""A schedule's rule in words, Chinese and English ("每天 08:00、14:00" / "every day at 08:00, 14:00"), for people
reading a list of schedules. Only the rule's parts are read (recurrence.parse_parts); what it expands to is
recurrence's. A rule with parts these words do not cover (BYSETPOS, BYWEEKNO …) is given as it is written."""

from __future__ import annotations

from datetime import datetime

from core.errors import Invalid
from core.schedules.recurrence import parse_parts

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_ZH = dict(zip(DAYS, ("周一", "周二", "周三", "周四", "周五", "周六", "周日"), strict=True))
DAY_EN = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True))
MONTH_EN = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
UNIT = {"DAILY": ("天", "day"), "WEEKLY": ("周", "week"), "MONTHLY": ("个月", "month"), "YEARLY": ("年", "year")}
EVERY_ONE = {
    "DAILY": ("每天", "every day"),
    "WEEKLY": ("每周", "every week"),
    "MONTHLY": ("每月", "every month"),
    "YEARLY": ("每年", "every year"),
}
COVERED = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYHOUR", "BYMINUTE", "COUNT", "UNTIL", "WKST"}


def _times(parts: dict[str, str], start: datetime) -> list[str]:
    hours = [int(h) for h in parts["BYHOUR"].split(",")] if "BYHOUR" in parts else [start.hour]
    minutes = [int(m) for m in parts["BYMINUTE"].split(",")] if "BYMINUTE" in parts else [start.minute]
    return [f"{h:02d}:{m:02d}" for h in sorted(hours) for m in sorted(minutes)]


def _ordinal_en(n: int) -> str:
    if n == -1:
        return "last"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _days(parts: dict[str, str], freq: str, start: datetime) -> tuple[str, str] | None:
    """Which days, in words; None when the rule's parts are not plain weekdays or month days."""
    if "BYDAY" in parts:
        days = parts["BYDAY"].split(",")
        if any(d not in DAYS for d in days):  # "1MO", "-1FR": ordinal weekdays
            return None
        if freq == "WEEKLY" or freq == "DAILY":
            if set(days) == set(DAYS[:5]):
                return "工作日", "on weekdays"
            ordered = sorted(days, key=DAYS.index)
            return "、".join(DAY_ZH[d] for d in ordered), "on " + ", ".join(DAY_EN[d] for d in ordered)
        return None
    if freq == "WEEKLY":
        day = DAYS[start.weekday()]
        return DAY_ZH[day], f"on {DAY_EN[day]}"
    if freq in ("MONTHLY", "YEARLY"):
        days_of_month = [int(d) for d in parts["BYMONTHDAY"].split(",")] if "BYMONTHDAY" in parts else [start.day]
        zh = "、".join("最后一天" if d == -1 else f"{d}日" for d in days_of_month)
        en = "on the " + ", ".join(_ordinal_en(d) for d in days_of_month)
        if freq == "YEARLY":
            months = [int(m) for m in parts["BYMONTH"].split(",")] if "BYMONTH" in parts else [start.month]
            zh = "、".join(f"{m}月" for m in months) + zh
            en += " of " + ", ".join(MONTH_EN[m] for m in months)
        return zh, en
    return "", ""


def describe(rrule: str, dtstart_local: datetime) -> tuple[str, str]:
    """(中文, English) words for the rule starting at `dtstart_local`; the rule as written when it has parts
    these words do not say."""
    try:
        parts = parse_parts(rrule)
    except Invalid:
        return rrule, rrule
    freq = parts["FREQ"]
    days = _days(parts, freq, dtstart_local)
    if set(parts) - COVERED or days is None or ("BYMONTH" in parts and freq != "YEARLY"):
        return rrule, rrule
    interval = int(parts.get("INTERVAL", "1"))
    unit_zh, unit_en = UNIT[freq]
    every_zh, every_en = (
        EVERY_ONE[freq] if interval == 1 else (f"每{interval}{unit_zh}", f"every {interval} {unit_en}s")
    )
    if freq == "DAILY" and days[0]:
        every_zh, every_en = ("每" if interval == 1 else every_zh), ("every" if interval == 1 else every_en + ",")
        days = (days[0], days[1].removeprefix("on "))
    if freq in ("WEEKLY", "DAILY") and interval == 1 and days[0] == "工作日":
        every_zh, every_en, days = "每个", "every", ("工作日", "weekday")
    elif freq == "WEEKLY" and interval == 1:
        every_zh = "每"  # 每周一、周四, not 每周周一、周四
    times = _times(parts, dtstart_local)
    zh = f"{every_zh}{days[0]} {'、'.join(times)}"
    en = " ".join(p for p in (every_en, days[1], "at " + ", ".join(times)) if p)
    if "COUNT" in parts:
        zh, en = f"{zh}，共 {parts['COUNT']} 次", f"{en}, {parts['COUNT']} times"
    elif "UNTIL" in parts:
        until = parts["UNTIL"][:8]
        day = f"{until[:4]}-{until[4:6]}-{until[6:8]}"
        zh, en = f"{zh}，至 {day}", f"{en}, until {day}"
    return zh, en
