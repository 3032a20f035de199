"""An evidence flag as the console writes it (the order page, the evidence section): its kind and the evidence
behind it in words, Chinese first with English whatever the page's language (a flag is a judgement a supervisor
may repeat to anyone), whose evidence it judges, and who dismissed it, when and why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from api.pages.formats import local_time
from api.pages.lang import Lang
from api.pages.texts import translator
from core.access import Caller
from core.errors import NotFound
from inspections.evidence import flags
from inspections.evidence.models import Flag

ZH, EN = translator("zh"), translator("en")


def both(key: str, **values: object) -> str:
    return f"{ZH(key, **values)} / {EN(key, **values)}"


def _number(value: Any) -> str:
    """12.0 as 12, 12.5 as 12.5 (what a person writes)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _days_before(flag: Flag, moment: Any) -> int | None:
    try:
        earlier = datetime.fromisoformat(str(moment))
    except ValueError:
        return None
    return max(0, (flag.created_at - earlier).days)


def evidence_words(flag: Flag) -> str:
    """What the check saw, in both languages ("与 3 天前的照片相同 / same as a photo of 3 days ago")."""
    e = flag.evidence
    n = _number
    key = "console.evidence.words."
    match flag.kind:
        case "after_same_as_before":
            return both(key + "after_same_as_before")
        case "reused_photo":
            days = _days_before(flag, e.get("received_at"))
            if days is None:
                return both(key + "reused_photo_earlier")
            return both(key + "reused_photo", days=days) if days else both(key + "reused_photo_today")
        case "time_off" if "minutes_off" in e:
            off = float(e["minutes_off"])
            side = "before" if off >= 0 else "after"
            return both(key + f"time_off_{side}", m=n(round(abs(off))), tol=n(e.get("tolerance_minutes", "?")))
        case "no_capture_time":
            device = e.get("device")
            return both(key + "no_capture_time") + (f" · {device}" if device else "")
        case "outside_fence":
            source = both(key + f"source.{e.get('source')}") if e.get("source") in ("exif", "device") else ""
            return both(key + "outside_fence", m=n(round(flag.score))) + (f" ({source})" if source else "")
        case "too_fast" if "kmh" in e:
            return both(key + "too_fast_kmh", kmh=n(e["kmh"]), metres=n(e.get("metres")), s=n(e.get("seconds")))
        case "too_fast" if "expected_minutes" in e:
            return both(key + "too_fast_minutes", m=n(e.get("minutes")), expected=n(e["expected_minutes"]))
        case "round_too_short" if "expected_minutes" in e:
            return both(key + "round_too_short", m=n(e.get("minutes")), expected=n(e["expected_minutes"]))
        case "scan_out_of_order" if "minutes_back" in e:
            return both(key + "scan_out_of_order", m=n(round(float(e["minutes_back"]))))
    return both(key + "score", score=n(flag.score), unit=flag.unit)


def flag_rows(
    shown: Sequence[Flag],
    names: Mapping[str, str],
    zone: str,
    lang: Lang,
    *,
    refused: Mapping[str, tuple[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """Each flag as a page shows it; `refused`: flag id -> (the message, the reason typed) of a refused
    dismissal, shown beside its form."""
    t = translator(lang)
    rows = []
    for flag in shown:
        problem, typed = (refused or {}).get(flag.id, ("", ""))
        dismissed = None
        if flag.status == "dismissed":
            dismissed = {
                "by": names.get(flag.dismissed_by or "", t("console.review.someone")),
                "when": local_time(flag.dismissed_at, zone, lang) if flag.dismissed_at else "",
                "why": flag.dismiss_reason or "",
            }
        photo_id = flag.evidence.get("photo_id")
        rows.append(
            {
                "id": flag.id,
                "kind": flag.kind,
                "about_zh": flag.about_zh,
                "about_en": flag.about_en,
                "words": evidence_words(flag),
                "photo_id": photo_id if isinstance(photo_id, str) else None,
                "note": flag.level == "note",
                "open": flag.status == "open",
                "whose": names.get(flag.staff_id or "", ""),
                "when": local_time(flag.created_at, zone, lang),
                "order_id": flag.order_id,
                "round_id": flag.round_id,
                "subject": flag.subject,
                "dismissed": dismissed,
                "problem": problem,
                "typed": typed,
            }
        )
    return rows


async def dismissal_notice(
    conn: asyncpg.Connection, manager: Caller, flag_id: str | None, zone: str, lang: Lang
) -> str:
    """The notice of the dismissal just made (`?done=<flag id>`, set by the redirect after it)."""
    if not flag_id:
        return ""
    try:
        flag = await flags.get_flag(conn, manager, flag_id)
    except NotFound:  # an address typed by hand
        return ""
    if flag.dismissed_at is None:
        return ""
    names = await flags.people_named(conn, manager, [flag])
    t = translator(lang)
    what = f"{flag.about_zh} / {flag.about_en}"
    who = names.get(flag.dismissed_by or "", t("console.review.someone"))
    told = t(
        "console.evidence.dismissed", who=who, when=local_time(flag.dismissed_at, zone, lang), why=flag.dismiss_reason
    )
    return f"{t('console.evidence.done', what=what)} · {told}"


def asks_for_a_look(flag: Flag) -> bool:
    """Open, and a flag rather than a note: what a count beside an order or a round shows (and the KPIs count)."""
    return flag.status == "open" and flag.level == "flag"


def open_flags(shown: Sequence[Flag]) -> int:
    return sum(1 for f in shown if asks_for_a_look(f))
