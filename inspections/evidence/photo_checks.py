"""The checks of one photo once the worker has hashed it (docs/evidence.md): an after-photo that is its order's
before-photo again, a photo that is an earlier photo of another record, an EXIF capture time far from the
check's, EXIF GPS outside the property's fence. They read what the photo row and its original already hold (the
hash and signature, the EXIF facts); none of them touches the bytes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any, Literal

import asyncpg

from core.structs import Frozen
from inspections import rectification
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


class Checked(Frozen, frozen=True):
    findings: list[Finding]
    # check again later, when it can be compared: "before", an after-photo whose order has a before-photo not
    # made ready yet (its bytes still on the way); "signature", a photo hashed before signatures were kept, until
    # the backfill (hash_photos) has signed it
    waits: Literal["before", "signature"] | None = None


async def check_photo(conn: asyncpg.Connection, photo: PhotoFacts, limits: Thresholds) -> Checked:
    found = [*_time(photo, limits), *_place(photo, limits)]
    if photo.signature is None:
        return Checked(findings=found, waits="signature")
    befores = await _befores(conn, photo)
    if any(b["status"] in ("pending", "uploaded") for b in befores):  # no hash and signature before "ready"
        return Checked(findings=found, waits="before")
    same_as_before = await _same_as_before(conn, photo, [b["id"] for b in befores])
    found += same_as_before or await _reused(conn, photo, limits)
    return Checked(findings=found)


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


async def _befores(conn: asyncpg.Connection, photo: PhotoFacts) -> list[asyncpg.Record]:
    if photo.purpose != "after" or photo.order_id is None:
        return []
    return await rectification.before_photos(conn, photo.org_id, photo.order_id)


async def _same_as_before(conn: asyncpg.Connection, photo: PhotoFacts, before_ids: list[str]) -> list[Finding]:
    """An after-photo of an order against the order's before-photos."""
    assert photo.signature is not None
    kept = await sql.likenesses(conn, photo.org_id, before_ids) if before_ids else {}
    for before_id in before_ids:
        if before_id not in kept:
            continue
        hashed, signature = kept[before_id]
        bits = likeness.distance(photo.likeness, hashed)
        if bits > likeness.CANDIDATE_BITS:
            continue
        score = await asyncio.to_thread(likeness.residual, photo.signature, signature)
        if score <= likeness.SAME_PHOTO_RESIDUAL:
            evidence = {"photo_id": before_id, "bits": bits, "residual": round(score, 3)}
            return [_finding(photo, kind="after_same_as_before", score=round(score, 3), evidence=evidence)]
    return []


async def _reused(conn: asyncpg.Connection, photo: PhotoFacts, limits: Thresholds) -> list[Finding]:
    """The property's photos of other records in the window whose hash is near, nearest first (at most
    `limits.candidates` examined): the first earlier one that is the same photo flags this photo. A later one that
    is the same photo was checked before this one was ready (bytes arrive in any order): it is flagged now, as
    the copy of this one, unless it is an after-photo of this photo's own order (its own check waited for it)."""
    assert photo.signature is not None
    near = await similar.candidates(
        conn,
        photo.org_id,
        photo.property_id,
        photo.likeness,
        since=photo.received_at - timedelta(days=limits.window_days),
        exclude=[photo.id],
    )
    others = [m for m in near if (m.record_table, m.record_id) != (photo.record_table, photo.record_id)]
    others = others[: limits.candidates]
    kept = await sql.likenesses(conn, photo.org_id, [m.photo_id for m in others])
    found: list[Finding] = []
    for match in others:
        if match.photo_id not in kept:
            continue
        signature = kept[match.photo_id][1]
        earlier = (match.received_at, match.photo_id) < (photo.received_at, photo.id)
        if earlier and found and found[0].subject_id == photo.id:
            continue  # this photo is flagged already: its nearest earlier copy is the evidence
        score = await asyncio.to_thread(likeness.residual, photo.signature, signature)
        if score > likeness.SAME_PHOTO_RESIDUAL:
            continue
        if earlier:
            evidence = _copy_of(
                match.photo_id, match.record_table, match.record_id, match.received_at, match.distance, score
            )
            found.insert(0, _finding(photo, kind="reused_photo", score=round(score, 3), evidence=evidence))
            continue
        (later,) = [facts_of(r) for r in await sql.photos_by_ids(conn, photo.org_id, [match.photo_id])]
        if later.order_id is not None and later.order_id == photo.order_id:
            continue
        evidence = _copy_of(photo.id, photo.record_table, photo.record_id, photo.received_at, match.distance, score)
        found.append(_finding(later, kind="reused_photo", score=round(score, 3), evidence=evidence))
    return found


def _copy_of(
    photo_id: str, record_table: str, record_id: str, received_at: datetime, bits: int, score: float
) -> dict[str, Any]:
    """A reused photo's evidence: the earlier photo it is (its record, its arrival), and how alike."""
    return {
        "photo_id": photo_id,
        "record_table": record_table,
        "record_id": record_id,
        "received_at": _iso(received_at),
        "bits": bits,
        "residual": round(score, 3),
    }


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
