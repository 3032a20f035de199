"""SQL for photo bytes: tus uploads, and what they tell the photo rows. Every statement is scoped by org_id,
except the workers' scans across orgs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from core.db import insert_row

UPLOAD_COLUMNS = (
    "org_id, id, uploaded_by, photo_id, length, received, metadata, state, sha256, facts, rejection, rejection_en, "
    "rejection_zh, created_at, expires_at, completed_at"
)
PHOTO_COLUMNS = (
    "org_id, id, property_id, record_table, record_id, uploaded_by, owner_unit_id, status, sha256, content_type"
)

# An upload's outcome, onto the photo it is for: only a photo of the uploader still waiting for bytes (a photo
# with bytes keeps them: content never changes under a photo id).
_ATTACH = """
    UPDATE photos AS p SET
        status = CASE WHEN u.state = 'rejected' THEN 'rejected' ELSE 'uploaded' END,
        sha256 = u.sha256,
        size_bytes = u.length,
        content_type = coalesce(u.facts->>'content_type', p.content_type),
        width = (u.facts->>'width')::int,
        height = (u.facts->>'height')::int,
        -- EXIF without an offset is the camera's wall time: the property's zone says which instant it was
        captured_at = coalesce(
            (u.facts->>'captured_at')::timestamptz,
            (u.facts->>'captured_local')::timestamp AT TIME ZONE (
                SELECT timezone FROM properties WHERE org_id = p.org_id AND id = p.property_id)),
        gps_lat = (u.facts->>'latitude')::float8,
        gps_lon = (u.facts->>'longitude')::float8,
        device_model = u.facts->>'device',
        rejection = u.rejection,
        rejection_en = u.rejection_en,
        rejection_zh = u.rejection_zh,
        uploaded_at = u.completed_at,
        -- bytes hashed before this row came (another photo of them): findable at once (docs/photos.md)
        likeness = (SELECT l.likeness FROM photo_likeness AS l WHERE l.org_id = u.org_id AND l.sha256 = u.sha256)
    FROM uploads AS u
    WHERE {where}
      AND p.org_id = u.org_id AND p.id = u.photo_id AND p.uploaded_by = u.uploaded_by
      AND p.status IN ('pending', 'rejected')
    RETURNING p.id, p.status
"""


async def photo(conn: asyncpg.Connection, org_id: str, photo_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {PHOTO_COLUMNS} FROM photos WHERE org_id = $1 AND id = $2", org_id, photo_id)


async def insert_photo(conn: asyncpg.Connection, values: dict[str, Any]) -> None:
    """A photo row written by the server for its uploader (a web form's photo; phones push theirs)."""
    await insert_row(conn, "photos", values)


async def insert_upload(conn: asyncpg.Connection, values: dict[str, Any]) -> asyncpg.Record:
    row = await insert_row(conn, "uploads", values, tail=f"RETURNING {UPLOAD_COLUMNS}")
    assert row is not None
    return row


async def upload(conn: asyncpg.Connection, org_id: str, upload_id: str, user_id: str) -> asyncpg.Record | None:
    """The caller's own upload: anyone else's, in any org, does not exist for them."""
    return await conn.fetchrow(
        f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE org_id = $1 AND id = $2 AND uploaded_by = $3",
        org_id,
        upload_id,
        user_id,
    )


async def set_received(
    conn: asyncpg.Connection, org_id: str, upload_id: str, received: int, expires_at: datetime
) -> None:
    await conn.execute(
        "UPDATE uploads SET received = $3, expires_at = $4 WHERE org_id = $1 AND id = $2 AND state = 'receiving'",
        org_id,
        upload_id,
        received,
        expires_at,
    )


async def move_back(conn: asyncpg.Connection, org_id: str, upload_id: str, received: int) -> bool:
    """Set a receiving upload's offset back to the bytes actually staged."""
    status = await conn.execute(
        """UPDATE uploads SET received = $3
           WHERE org_id = $1 AND id = $2 AND state = 'receiving' AND received > $3""",
        org_id,
        upload_id,
        received,
    )
    return status.endswith(" 1")


async def finish_upload(
    conn: asyncpg.Connection, org_id: str, upload_id: str, changes: dict[str, Any]
) -> asyncpg.Record | None:
    """Mark a complete upload complete or rejected (`changes`: state, sha256, facts, rejection…)."""
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(changes, start=3))
    return await conn.fetchrow(
        f"UPDATE uploads SET {sets} WHERE org_id = $1 AND id = $2 AND state = 'receiving' RETURNING {UPLOAD_COLUMNS}",
        org_id,
        upload_id,
        *changes.values(),
    )


async def attach_upload(conn: asyncpg.Connection, org_id: str, upload_id: str) -> asyncpg.Record | None:
    """The photo an upload just finished for, if its row has arrived (else the row's push attaches it)."""
    return await conn.fetchrow(_ATTACH.format(where="u.org_id = $1 AND u.id = $2"), org_id, upload_id)


async def attach_pushed(conn: asyncpg.Connection, org_id: str, photo_ids: list[str]) -> list[asyncpg.Record]:
    """Photos that arrived after their bytes: each gets its newest finished upload."""
    where = """(u.org_id, u.id) IN (
        SELECT DISTINCT ON (up.photo_id) up.org_id, up.id
        FROM uploads AS up JOIN photos AS ph
          ON ph.org_id = up.org_id AND ph.id = up.photo_id AND ph.uploaded_by = up.uploaded_by
        WHERE up.org_id = $1 AND up.photo_id = ANY($2::text[]) AND up.state <> 'receiving'
        ORDER BY up.photo_id, up.completed_at DESC)"""
    return await conn.fetch(_ATTACH.format(where=where), org_id, photo_ids)


async def delete_upload(conn: asyncpg.Connection, org_id: str, upload_id: str) -> None:
    await conn.execute("DELETE FROM uploads WHERE org_id = $1 AND id = $2", org_id, upload_id)


async def expired_uploads(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Uploads past their expiry, across orgs, removed as they are read (the caller deletes their files)."""
    return await conn.fetch(
        """DELETE FROM uploads WHERE (org_id, id) IN (
               SELECT org_id, id FROM uploads WHERE expires_at < $1 ORDER BY expires_at LIMIT $2
               FOR UPDATE SKIP LOCKED)
           RETURNING org_id, id, state""",
        now,
        limit,
    )


# --- derivatives -----------------------------------------------------------------------------------------


async def awaiting_derivatives(conn: asyncpg.Connection, before: datetime, limit: int) -> list[asyncpg.Record]:
    """Distinct (org, sha256) of photos uploaded before `before` whose derivatives are not made yet."""
    return await conn.fetch(
        """SELECT org_id, sha256, min(uploaded_at) AS since FROM photos
           WHERE status = 'uploaded' AND uploaded_at < $1
           GROUP BY org_id, sha256 ORDER BY since LIMIT $2""",
        before,
        limit,
    )


async def mark_derived(
    conn: asyncpg.Connection,
    org_id: str,
    sha256: str,
    *,
    rejection: dict[str, str] | None,
    likeness: int | None = None,
) -> int:
    """Every photo of these bytes is ready, with the bytes' likeness hash, or rejected when decoding them failed
    after all."""
    if rejection is None:
        status = await conn.execute(
            """UPDATE photos SET status = 'ready', likeness = $3
               WHERE org_id = $1 AND sha256 = $2 AND status = 'uploaded'""",
            org_id,
            sha256,
            likeness,
        )
    else:
        status = await conn.execute(
            """UPDATE photos SET status = 'rejected', rejection = $3, rejection_en = $4, rejection_zh = $5
               WHERE org_id = $1 AND sha256 = $2 AND status = 'uploaded'""",
            org_id,
            sha256,
            rejection["code"],
            rejection["en"],
            rejection["zh"],
        )
    return int(status.split()[-1])


async def keep_likeness(conn: asyncpg.Connection, org_id: str, sha256: str, likeness: int, signature: bytes) -> None:
    """The original's hash and signature, once per (org, sha256): the same bytes always hash the same (an original
    hashed before signatures were kept gets its signature now)."""
    await conn.execute(
        """INSERT INTO photo_likeness (org_id, sha256, likeness, signature) VALUES ($1, $2, $3, $4)
           ON CONFLICT (org_id, sha256) DO UPDATE SET signature = EXCLUDED.signature
           WHERE photo_likeness.signature IS NULL""",
        org_id,
        sha256,
        likeness,
        signature,
    )


async def unhashed(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Distinct (org, sha256) of ready photos without a likeness hash, across orgs (those made ready before hashes
    were kept), with the hash when the original already has one, then originals hashed before signatures were
    kept (`signature` NULL in both cases: to compute)."""
    return await conn.fetch(
        """SELECT p.org_id, p.sha256, l.likeness, l.signature FROM (
               SELECT DISTINCT org_id, sha256 FROM photos WHERE status = 'ready' AND likeness IS NULL LIMIT $1
           ) AS p LEFT JOIN photo_likeness AS l ON l.org_id = p.org_id AND l.sha256 = p.sha256
           UNION ALL
           (SELECT org_id, sha256, likeness, signature FROM photo_likeness WHERE signature IS NULL LIMIT $1)""",
        limit,
    )


async def copy_likeness(conn: asyncpg.Connection, org_id: str, sha256: str) -> int:
    """The original's hash onto its ready photos that lack it."""
    status = await conn.execute(
        """UPDATE photos AS p SET likeness = l.likeness FROM photo_likeness AS l
           WHERE p.org_id = $1 AND p.sha256 = $2 AND p.status = 'ready' AND p.likeness IS NULL
             AND l.org_id = p.org_id AND l.sha256 = p.sha256""",
        org_id,
        sha256,
    )
    return int(status.split()[-1])


# --- near duplicates (sync/photos/similar.py) -------------------------------------------------------------

# One band's probe: the index-only scan of photos_likeness_{k} over the band's values near the hash's, the exact
# distance checked on the index's copy of the hash. $3 the hash, $4 the window's start, $5 the largest distance.
_BAND = """SELECT id, bit_count((likeness # $3)::bit(64)) AS distance FROM photos
    WHERE org_id = $1 AND property_id = $2 AND likeness IS NOT NULL
      AND ({band}) = ANY(${arg}::bigint[]) AND received_at >= $4
      AND bit_count((likeness # $3)::bit(64)) <= $5"""
BAND_EXPRESSIONS = (
    "likeness & 65535",
    "(likeness >> 16) & 65535",
    "(likeness >> 32) & 65535",
    "(likeness >> 48) & 65535",
)
_NEAR = f"""WITH near AS (
    {" UNION ".join(_BAND.format(band=band, arg=6 + k) for k, band in enumerate(BAND_EXPRESSIONS))}
)
SELECT p.id, p.record_table, p.record_id, p.purpose, p.taken_at, p.captured_at, p.received_at, near.distance
FROM near JOIN photos AS p ON p.org_id = $1 AND p.id = near.id
WHERE NOT (p.id = ANY($10::text[]))
ORDER BY near.distance, p.received_at DESC, p.id"""

# The same answer without the index: every hash of the property in the window (the benchmark's baseline and
# the tests' oracle).
_SCAN = """SELECT p.id, p.record_table, p.record_id, p.purpose, p.taken_at, p.captured_at, p.received_at,
        bit_count((p.likeness # $3)::bit(64)) AS distance
    FROM photos AS p
    WHERE p.org_id = $1 AND p.property_id = $2 AND p.likeness IS NOT NULL AND p.received_at >= $4
      AND bit_count((p.likeness # $3)::bit(64)) <= $5 AND NOT (p.id = ANY($6::text[]))
    ORDER BY distance, p.received_at DESC, p.id"""


async def near_likeness(
    conn: asyncpg.Connection,
    org_id: str,
    property_id: str,
    likeness: int,
    *,
    since: datetime,
    max_distance: int,
    probes: Sequence[Sequence[int]] | None,
    exclude: Sequence[str],
) -> list[asyncpg.Record]:
    """Photos of a property received since `since` whose hash is at most `max_distance` bits from `likeness`:
    through the band indexes, `probes[k]` the values of band k to look up; or, with no probes, by a scan."""
    head = (org_id, property_id, likeness, since, max_distance)
    if probes is None:
        return await conn.fetch(_SCAN, *head, list(exclude))
    assert len(probes) == len(BAND_EXPRESSIONS)
    return await conn.fetch(_NEAR, *head, *(list(p) for p in probes), list(exclude))


async def backlog(conn: asyncpg.Connection, now: datetime) -> asyncpg.Record:
    """For `fieldwork jobs`: photos waiting for derivatives and uploads under way, across orgs."""
    row = await conn.fetchrow(
        """SELECT
             (SELECT count(*) FROM photos WHERE status = 'uploaded') AS awaiting,
             (SELECT coalesce(extract(epoch FROM $1 - min(uploaded_at))::int, 0)
                FROM photos WHERE status = 'uploaded') AS oldest_s,
             (SELECT count(*) FROM uploads WHERE state = 'receiving') AS receiving""",
        now,
    )
    assert row is not None
    return row


async def stored_originals(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every (org_id, sha256) whose original the database says is in the store, across orgs (for backups):
    `required` when a photo or a finished upload relies on it (a photo rejected on upload has no stored bytes; one
    rejected while its derivatives were made has), `derived` when its display and thumbnail are made too."""
    return await conn.fetch(
        """SELECT org_id, sha256, bool_or(required) AS required, bool_or(derived) AS derived FROM (
               SELECT org_id, sha256, status IN ('uploaded', 'ready') AS required, status = 'ready' AS derived
                 FROM photos WHERE sha256 IS NOT NULL
               UNION ALL
               SELECT org_id, sha256, true, false FROM uploads WHERE state = 'complete'
           ) AS refs
           GROUP BY org_id, sha256 ORDER BY org_id, sha256"""
    )


async def photo_counts(
    conn: asyncpg.Connection, org_id: str, table: str, ids: Sequence[str], purpose: str | None = None
) -> dict[str, int]:
    """Photos that count as evidence: any but those whose bytes were refused (their bytes may still be on the
    way: a record never waits for them)."""
    rows = await conn.fetch(
        """SELECT record_id, count(*) AS n FROM photos
           WHERE org_id = $1 AND record_table = $2 AND record_id = ANY($3::text[])
             AND ($4::text IS NULL OR purpose = $4) AND status <> 'rejected' GROUP BY record_id""",
        org_id,
        table,
        list(ids),
        purpose,
    )
    return {row["record_id"]: int(row["n"]) for row in rows}
