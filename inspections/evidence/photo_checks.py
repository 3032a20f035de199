"""The checks of one photo once the worker has hashed it (docs/evidence.md): an after-photo that is its order's
before-photo again, a photo that is an earlier photo of another record, an EXIF capture time far from the
check's, EXIF GPS outside the property's fence. They read what the photo row and its original already hold (the
hash and signature, the EXIF facts); none of them touches the bytes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from core.structs import Frozen
from inspections.evidence.geo import Fence, beyond
from inspections.evidence.models import Finding, Thresholds
from inspections.repository import evidence as sql
from sync.photos import likeness, similar


class PhotoFacts(Frozen, frozen=True):
    org_id: str
    id: str
    property_id: str
    record_table: str
    record_id: str
    purpose: str | None
    uploaded_by: str
    taken_at: datetime | None  # when the phone put the photo on its record: the check's time
    captured_at: datetime | None  # the EXIF capture time
    received_at: datetime
    gps_lat: float | None
    gps_lon: float | None
    device_model: str | None
    likeness: int
    signature: bytes | None
    round_id: str | None
    order_id: str | None
    fence: Fence | None


def facts_of(row: asyncpg.Record) -> PhotoFacts:
    values = dict(row)
    lat, lon, radius = values.pop("fence_lat"), values.pop("fence_lon"), values.pop("fence_radius_m")
    signature = values.pop("signature")
    fence = Fence.around(lat, lon, radius)
    return PhotoFacts(**values, signature=None if signature is None else bytes(signature), fence=fence)


async def check_photo(conn: asyncpg.Connection, photo: PhotoFacts, limits: Thresholds) -> list[Finding]:
    found = [*_time(photo, limits), *_place(photo, limits)]
    if photo.signature is not None:
        same_as_before = await _same_as_before(conn, photo)
        found += same_as_before or await _reused(conn, photo, limits)
    return found


def _finding(photo: PhotoFacts, **kw: Any) -> Finding:
    return Finding(
        subject="photo",
        subject_id=photo.id,
        round_id=photo.round_id,
        order_id=photo.order_id,
        staff_id=photo.uploaded_by,
        **kw,
    )


def _time(photo: PhotoFacts, limits: Thresholds) -> list[Finding]:
    if photo.captured_at is None:
        noted = {"device": photo.device_model, "taken_at": _iso(photo.taken_at)}
        return [_finding(photo, kind="no_capture_time", level="note", score=0.0, evidence=noted)]
    if photo.taken_at is None:
        return []
    off = (photo.taken_at - photo.captured_at).total_seconds() / 60
    if abs(off) <= limits.time_tolerance_minutes:
        return []
    evidence: dict[str, Any] = {
        "captured_at": _iso(photo.captured_at),
        "taken_at": _iso(photo.taken_at),
        "minutes_off": round(off, 1),  # positive: captured before the check
        "tolerance_minutes": limits.time_tolerance_minutes,
    }
    return [_finding(photo, kind="time_off", score=round(abs(off), 1), evidence=evidence)]


def _place(photo: PhotoFacts, limits: Thresholds) -> list[Finding]:
    if photo.fence is None or photo.gps_lat is None or photo.gps_lon is None:
        return []
    out = beyond(photo.fence, photo.gps_lat, photo.gps_lon, margin_m=limits.fence_margin_m)
    if out <= 0:
        return []
    evidence = {"lat": photo.gps_lat, "lon": photo.gps_lon, "source": "exif", "radius_m": photo.fence.radius_m}
    return [_finding(photo, kind="outside_fence", score=round(out), evidence=evidence)]


async def _same_as_before(conn: asyncpg.Connection, photo: PhotoFacts) -> list[Finding]:
    """An after-photo of an order against the order's before-photos."""
    if photo.purpose != "after" or photo.order_id is None or photo.signature is None:
        return []
    for before in await sql.before_photos(conn, photo.org_id, photo.order_id):
        bits = likeness.distance(photo.likeness, before["likeness"])
        if bits > likeness.CANDIDATE_BITS:
            continue
        score = await asyncio.to_thread(likeness.residual, photo.signature, bytes(before["signature"]))
        if score <= likeness.SAME_PHOTO_RESIDUAL:
            evidence = {"photo_id": before["id"], "bits": bits, "residual": round(score, 3)}
            return [_finding(photo, kind="after_same_as_before", score=round(score, 3), evidence=evidence)]
    return []


async def _reused(conn: asyncpg.Connection, photo: PhotoFacts, limits: Thresholds) -> list[Finding]:
    """The nearest earlier photos of other records of the property (in the window), until one is the same photo."""
    assert photo.signature is not None
    near = await similar.near_duplicates(
        conn,
        photo.org_id,
        photo.property_id,
        photo.likeness,
        since=photo.received_at - timedelta(days=limits.window_days),
        max_distance=likeness.CANDIDATE_BITS,
        exclude=[photo.id],
    )
    earlier = [
        m
        for m in near
        if (m.record_table, m.record_id) != (photo.record_table, photo.record_id)
        and (m.received_at, m.photo_id) < (photo.received_at, photo.id)
    ][: limits.candidates]
    kept = await sql.signatures(conn, photo.org_id, [m.photo_id for m in earlier])
    for match in earlier:
        signature = kept.get(match.photo_id)
        if signature is None:
            continue
        score = await asyncio.to_thread(likeness.residual, photo.signature, signature)
        if score <= likeness.SAME_PHOTO_RESIDUAL:
            evidence = {
                "photo_id": match.photo_id,
                "record_table": match.record_table,
                "record_id": match.record_id,
                "received_at": _iso(match.received_at),
                "bits": match.distance,
                "residual": round(score, 3),
            }
            return [_finding(photo, kind="reused_photo", score=round(score, 3), evidence=evidence)]
    return []


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
