"""How pages write times: in the property's zone, the way people in each language read them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request

from api.pages.lang import Lang, lang_of


def local_time(moment: datetime, zone: str, lang: Lang, *, with_time: bool = True) -> str:
    there = moment.astimezone(ZoneInfo(zone))
    if lang == "zh":
        day = f"{there.year}年{there.month}月{there.day}日"
        return f"{day} {there:%H:%M}" if with_time else day
    day = f"{there.day} {there:%b %Y}"
    return f"{day}, {there:%H:%M}" if with_time else day


def when(request: Request[Any, Any, Any], moment: datetime | None, zone: str, *, with_time: bool = True) -> str:
    """A moment in the property's zone, as this page's language writes it ("" for none)."""
    return local_time(moment, zone, lang_of(request), with_time=with_time) if moment else ""
