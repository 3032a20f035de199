"""Near-duplicate photos: a property's photos of the last days whose likeness hash (sync/photos/likeness.py) is
within a few bits of a given one, nearest first.

Multi-index hashing: the 64 bits are four bands of 16, each indexed with the property and the arrival time
(core/migrations/0021_photo_likeness.sql). If two hashes differ in at most d bits, and each band k is given a
radius r_k with Σ (r_k + 1) > d, some band differs in at most its r_k bits (otherwise the bands alone would
differ in more than d). So the look-up probes, for every band, the 16-bit values within r_k of the hash's band,
and checks the exact distance on the candidates the index returns. The radii share d + 1 out as evenly as they
can: d = 12 → (3, 2, 2, 2), 697 + 3 × 137 = 1,108 probes; d = 8 → (2, 1, 1, 1), 188 probes. A band probed at
radius r costs Σ_{i≤r} C(16, i) index descents, and brings about that many × n / 65,536 candidates for n photos
in the window (docs/photos.md, "Looking up near duplicates").

`candidates` is the duplicate check's look-up (docs/evidence.md): it probes every band at CANDIDATE_RADII (2 bits
each, 548 probes: fewer than d = 12's) and keeps what is within likeness.CANDIDATE_BITS (16). That is not exact
(a hash 16 bits away whose every band differs in 3 or more is not seen), and need not be: the likeness hash's
bits differ about evenly across the bands, and what counts is how many copies it finds, measured on the labelled
set (bench/evidence_eval.py). `near_duplicates` stays exact, for any distance.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from itertools import combinations

import asyncpg
import msgspec

from sync.photos import likeness as lk
from sync.photos import repository as sql

BANDS = 4
BAND_BITS = 16
MAX_DISTANCE = 32  # beyond this, two photos are as unlike as any two (half the bits)
CANDIDATE_RADII = (2, 2, 2, 2)  # the duplicate check's probe radius per band


class Match(msgspec.Struct, frozen=True, kw_only=True):
    photo_id: str
    record_table: str
    record_id: str
    purpose: str | None
    taken_at: datetime | None  # what the phone said
    captured_at: datetime | None  # the EXIF capture time
    received_at: datetime  # when the row reached the server (the window is counted on it)
    distance: int  # bits the hashes differ in


def radii(max_distance: int) -> tuple[int, ...]:
    """Each band's probe radius (-1: the band is not probed) such that Σ (r + 1) = max_distance + 1."""
    share, extra = divmod(max_distance + 1, BANDS)
    return tuple(share + (k < extra) - 1 for k in range(BANDS))


@cache
def _masks(radius: int) -> tuple[int, ...]:
    """Every 16-bit value with at most `radius` bits set: XORed with a band's value, its neighbourhood."""
    return tuple(sum(1 << bit for bit in bits) for n in range(radius + 1) for bits in combinations(range(BAND_BITS), n))


def band(likeness: int, k: int) -> int:
    """Bits 16k..16k+15 of the hash (the index's band k; signed hashes shift arithmetically, as in SQL)."""
    return (likeness >> (BAND_BITS * k)) & 0xFFFF


def probes(likeness: int, max_distance: int, band_radii: Sequence[int] | None = None) -> list[list[int]]:
    """The values each band's index is looked up for: within radii(max_distance), or within `band_radii`."""
    return [
        [band(likeness, k) ^ mask for mask in _masks(radius)] if radius >= 0 else []
        for k, radius in enumerate(radii(max_distance) if band_radii is None else band_radii)
    ]


def probe_count(max_distance: int, band_radii: Sequence[int] | None = None) -> int:
    """Index descents a look-up makes at this distance (how the cost grows with d), or with these radii."""
    return sum(len(_masks(r)) for r in (radii(max_distance) if band_radii is None else band_radii) if r >= 0)


def probed(a: int, b: int, band_radii: Sequence[int] = CANDIDATE_RADII) -> bool:
    """Whether a look-up for `a` with these radii reads `b` from the index (some band within its radius): what
    bench/evidence_eval.py counts `candidates` on."""
    return any(r >= 0 and (band(a, k) ^ band(b, k)).bit_count() <= r for k, r in enumerate(band_radii))


async def near_duplicates(
    conn: asyncpg.Connection,
    org_id: str,
    property_id: str,
    likeness: int,
    *,
    since: datetime,
    max_distance: int,
    exclude: Sequence[str] = (),
    by_scan: bool = False,
    band_radii: Sequence[int] | None = None,
) -> list[Match]:
    """The property's photos received since `since` whose hash is at most `max_distance` bits from `likeness`,
    nearest first (then the newest), but those in `exclude` (the photo looked up for, say). `by_scan` reads
    every hash of the property in the window instead of the index: the tests' oracle, the benchmark's baseline.
    `band_radii` probes the bands within those radii instead of radii(max_distance): then only what some band
    reaches is found (`candidates`)."""
    if not 0 <= max_distance <= MAX_DISTANCE:
        raise ValueError(f"max_distance must be 0-{MAX_DISTANCE}, not {max_distance}")
    rows = await sql.near_likeness(
        conn,
        org_id,
        property_id,
        likeness,
        since=since,
        max_distance=max_distance,
        probes=None if by_scan else probes(likeness, max_distance, band_radii),
        exclude=exclude,
    )
    return [_match(row) for row in rows]


async def candidates(
    conn: asyncpg.Connection,
    org_id: str,
    property_id: str,
    likeness: int,
    *,
    since: datetime,
    exclude: Sequence[str] = (),
    limit: int | None = None,
) -> list[Match]:
    """The duplicate check's candidates: the property's photos received since `since` within
    likeness.CANDIDATE_BITS of `likeness` that some band within CANDIDATE_RADII finds, nearest first (then the
    newest), but those in `exclude`; the first `limit` of them (all with None)."""
    found = await near_duplicates(
        conn,
        org_id,
        property_id,
        likeness,
        since=since,
        max_distance=lk.CANDIDATE_BITS,
        exclude=exclude,
        band_radii=CANDIDATE_RADII,
    )
    return found[:limit]


def _match(row: asyncpg.Record) -> Match:
    return Match(
        photo_id=row["id"],
        record_table=row["record_table"],
        record_id=row["record_id"],
        purpose=row["purpose"],
        taken_at=row["taken_at"],
        captured_at=row["captured_at"],
        received_at=row["received_at"],
        distance=row["distance"],
    )
