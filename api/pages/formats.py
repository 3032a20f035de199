"""How pages write times: in the property's zone, the way people in each language read them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from api.pages.lang import Lang


def local_time(moment: datetime, zone: str, lang: Lang, *, with_time: bool = True) -> str:
    there = moment.astimezone(ZoneInfo(zone))
    if lang == "zh":
        day = f"{there.year}年{there.month}月{there.day}日"
        return f"{day} {there:%H:%M}" if with_time else day
    day = f"{there.day} {there:%b %Y}"
    return f"{day}, {there:%H:%M}" if with_time else day
