"""Photos' likeness hashes, kept and looked up: real photos through sync and tus, the worker's real
make_derivatives job, and near_duplicates against the same rows read without its index (real PostgreSQL)."""

from __future__ import annotations

import base64
import io
import random
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image, ImageDraw, ImageFilter

from core.db import acquire, create_pool
from sync.photos import derivatives, likeness, similar
from sync.photos.storage import BlobStore
from tests.photo_world import TUS, Phone, make_derivatives
from tests.world import build_org

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def scene(seed: int, width: int = 1200, height: int = 900) -> Image.Image:
    """A photo-like picture of its own: a lit background and shapes of many colours, softened."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").rotate(rng.randrange(360)).resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(40, width // 2), rng.randrange(40, height // 2)
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x - w // 2, y - h // 2, x + w // 2, y + h // 2), fill=tuple(rng.randrange(256) for _ in range(3)))
    return image.filter(ImageFilter.GaussianBlur(3))


def encoded(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def resized_copy(data: bytes) -> bytes:
    """The same photo sent again: shrunk to 70 % and re-encoded harder."""
    with Image.open(io.BytesIO(data)) as im:
        return encoded(im.resize((im.width * 7 // 10, im.height * 7 // 10)), quality=60)


@pytest.fixture
async def org(db):
    return await build_org(db, "lk")


async def photo_row(phone: Phone, property_id: str, *, push: bool = True, purpose: str = "before") -> str:
    photo_id = phone.client.store.create(
        "photos",
        {
            "property_id": property_id,
            "record_table": "handover_notes",
            "record_id": f"note-{property_id[:6]}",
            "uploaded_by": phone.org.ids[phone.who],
            "purpose": purpose,
        },
    )
    if push:
        assert (await phone.client.sync()).rejected == 0
    return photo_id


async def uploaded(phone: Phone, property_id: str, data: bytes, **kw) -> str:
    photo_id = await photo_row(phone, property_id, **kw)
    assert (await phone.upload(photo_id, data)).status_code == 204
    return photo_id


async def look_up(settings, org, likeness_value: int, *, exclude=(), max_distance=8, days=90):
    pool = await create_pool(settings.database_url or "", size=1)
    try:
        async with acquire(pool) as conn:
            since = datetime.now(UTC) - timedelta(days=days)
            found, scanned = [
                await similar.near_duplicates(
                    conn,
                    org.org_id,
                    org.property_id,
                    likeness_value,
                    since=since,
                    max_distance=max_distance,
                    exclude=exclude,
                    by_scan=by_scan,
                )
                for by_scan in (False, True)
            ]
    finally:
        await pool.close()
    assert found == scanned
    return found


async def test_the_worker_keeps_the_hash_of_the_upright_display_image(api, org, db, settings):
    staff = await Phone.of(api, org, "staff", db)
    photo_id = await uploaded(staff, org.property_id, encoded(scene(1)))
    await make_derivatives(settings)  # the real worker, in burst mode
    row = await db.fetchrow("SELECT sha256, likeness, status FROM photos WHERE id = $1", photo_id)
    assert row["status"] == "ready" and row["likeness"] is not None
    kept = await db.fetchval("SELECT likeness FROM photo_likeness WHERE sha256 = $1", row["sha256"])
    display = await api.get(f"/photos/{photo_id}/display", headers=staff.headers)
    assert display.status_code == 200
    with Image.open(io.BytesIO(display.content)) as im:
        # the hash is of the image the display JPEG was encoded from: within a bit or two of the JPEG's own
        assert likeness.distance(likeness.likeness(im), row["likeness"]) <= 2
    assert kept == row["likeness"]


async def test_a_copy_is_found_in_its_property_and_nothing_else(api, org, db, settings):
    staff = await Phone.of(api, org, "staff", db)
    elsewhere = await Phone.of(api, org, "elsewhere", db)
    first = encoded(scene(2))
    original = await uploaded(staff, org.property_id, first)
    copy = await uploaded(staff, org.property_id, resized_copy(first), purpose="after")
    different = await uploaded(staff, org.property_id, encoded(scene(3)))
    other_property = await uploaded(elsewhere, org.other_property_id, resized_copy(first))
    old = await uploaded(staff, org.property_id, encoded(scene(2), quality=75))
    await make_derivatives(settings)
    await db.execute("UPDATE photos SET received_at = now() - interval '91 days' WHERE id = $1", old)
    hashes = dict(await db.fetch("SELECT id, likeness FROM photos WHERE org_id = $1", org.org_id))
    assert all(value is not None for value in hashes.values())
    assert likeness.distance(hashes[original], hashes[old]) <= 8, "the old photo would be found but for its age"

    found = await look_up(settings, org, hashes[original], exclude=[original])
    assert [m.photo_id for m in found] == [copy]
    assert found[0].purpose == "after" and found[0].record_table == "handover_notes"
    assert found[0].distance == likeness.distance(hashes[original], hashes[copy])
    assert different not in [m.photo_id for m in await look_up(settings, org, hashes[original], max_distance=12)]
    assert other_property not in [m.photo_id for m in await look_up(settings, org, hashes[original], max_distance=12)]
    # within a window long enough, the old one is found too, and the photo itself when not excluded
    everything = await look_up(settings, org, hashes[original], days=120)
    assert everything[0].distance == 0 and {original, copy, old} <= {m.photo_id for m in everything}


async def test_a_row_that_comes_after_its_bytes_were_hashed_is_found_at_once(api, org, db, settings):
    staff = await Phone.of(api, org, "staff", db)
    data = encoded(scene(4))
    first = await uploaded(staff, org.property_id, data)
    await make_derivatives(settings)
    value = await db.fetchval("SELECT likeness FROM photos WHERE id = $1", first)

    # the same bytes again, for another photo: the bytes first (creation-with-upload), then the row's push
    later = await photo_row(staff, org.property_id, push=False, purpose="after")
    created = await api.post(
        "/uploads",
        content=data,
        headers={
            **staff.headers,
            **TUS,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": f"photo_id {base64.b64encode(later.encode()).decode()}",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert created.status_code == 201
    assert (await staff.client.sync()).rejected == 0
    # no derivative job has run for it yet: the push attached the original's hash with its bytes
    assert await db.fetchval("SELECT status FROM photos WHERE id = $1", later) == "uploaded"
    found = await look_up(settings, org, value, exclude=[first])
    assert [(m.photo_id, m.distance) for m in found] == [(later, 0)]


async def test_the_backfill_hashes_photos_made_ready_before_hashes_were_kept(api, org, db, settings):
    staff = await Phone.of(api, org, "staff", db)
    photo_id = await uploaded(staff, org.property_id, encoded(scene(5)))
    await make_derivatives(settings)
    value = await db.fetchval("SELECT likeness FROM photos WHERE id = $1", photo_id)
    await db.execute("UPDATE photos SET likeness = NULL WHERE org_id = $1", org.org_id)
    await db.execute("DELETE FROM photo_likeness WHERE org_id = $1", org.org_id)

    pool = await create_pool(settings.database_url or "", size=1)
    try:
        store = BlobStore.from_url(settings.photo_store_url)
        assert await derivatives.hash_stragglers(pool, store) == 1
        assert await derivatives.hash_stragglers(pool, store) == 0
    finally:
        await pool.close()
    # hashed again from the stored display JPEG: the same photo to within a bit or two
    assert likeness.distance(await db.fetchval("SELECT likeness FROM photos WHERE id = $1", photo_id), value) <= 2


# --- the index against brute force, on random hashes with planted neighbours ----------------------------------


def flip(value: int, bits: list[int]) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value - (1 << 64) if value >= 1 << 63 else value


def signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


async def test_the_index_finds_exactly_what_a_scan_finds(org, db, settings):
    rng = random.Random(19)
    centres = [signed(rng.getrandbits(64)) for _ in range(12)]
    rows = []
    for n in range(3000):  # random hashes, in both properties, some outside the window
        rows.append((f"r{n}", rng.choice([org.property_id, org.other_property_id]), signed(rng.getrandbits(64))))
    for c, centre in enumerate(centres):  # neighbours at every distance 0-16 of each centre, in both properties
        for d in range(17):
            for copy in range(2):
                value = flip(centre & ((1 << 64) - 1), rng.sample(range(64), d))
                prop = org.property_id if copy == 0 or d % 3 else org.other_property_id
                rows.append((f"c{c}-{d}-{copy}", prop, value))
    now = datetime.now(UTC)
    await db.executemany(
        """INSERT INTO photos (org_id, id, property_id, record_table, record_id, uploaded_by, status, likeness,
               received_at)
           VALUES ($1, $2, $3, 'handover_notes', 'n', $4, 'ready', $5, $6)""",
        [
            (org.org_id, photo_id, prop, org.ids["staff"], value, now - timedelta(days=rng.choice([1, 30, 89, 120])))
            for photo_id, prop, value in rows
        ],
    )
    await db.execute("ANALYZE photos")
    since = now - timedelta(days=90)
    in_window = [
        (r["id"], r["likeness"])
        for r in await db.fetch(
            "SELECT id, likeness FROM photos WHERE org_id = $1 AND property_id = $2 AND received_at >= $3",
            org.org_id,
            org.property_id,
            since,
        )
    ]
    queries = centres + [signed(rng.getrandbits(64)) for _ in range(4)]
    for max_distance in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16):
        for query in queries:
            found = await similar.near_duplicates(
                db, org.org_id, org.property_id, query, since=since, max_distance=max_distance
            )
            brute = sorted(
                (likeness.distance(query, value), photo_id)
                for photo_id, value in in_window
                if likeness.distance(query, value) <= max_distance
            )
            assert sorted((m.distance, m.photo_id) for m in found) == brute, (max_distance, query)
            assert [m.distance for m in found] == sorted(m.distance for m in found), "nearest first"
            scanned = await similar.near_duplicates(
                db, org.org_id, org.property_id, query, since=since, max_distance=max_distance, by_scan=True
            )
            assert found == scanned
    planted = [
        len(await similar.near_duplicates(db, org.org_id, org.property_id, c, since=since, max_distance=12))
        for c in centres
    ]
    assert min(planted) > 0, "the planted neighbours are there to be found"


async def test_candidates_are_the_hashes_a_probed_band_reaches_within_candidate_bits(org, db, settings):
    rng = random.Random(23)
    centres = [signed(rng.getrandbits(64)) for _ in range(8)]
    rows = [(f"r{n}", signed(rng.getrandbits(64))) for n in range(2000)]
    for c, centre in enumerate(centres):  # neighbours at every distance 0-22, some with every band 3+ bits off
        for d in range(23):
            rows.append((f"c{c}-{d}", flip(centre & ((1 << 64) - 1), rng.sample(range(64), d))))
        spread = [bit for k in range(similar.BANDS) for bit in rng.sample(range(16 * k, 16 * k + 16), 3)]
        rows.append((f"s{c}", flip(centre & ((1 << 64) - 1), spread)))  # 12 bits off, no band within 2
    now = datetime.now(UTC)
    await db.executemany(
        """INSERT INTO photos (org_id, id, property_id, record_table, record_id, uploaded_by, status, likeness,
               received_at)
           VALUES ($1, $2, $3, 'handover_notes', 'n', $4, 'ready', $5, $6)""",
        [(org.org_id, photo_id, org.property_id, org.ids["staff"], value, now) for photo_id, value in rows],
    )
    since = now - timedelta(days=1)
    for c, centre in enumerate(centres):
        found = await similar.candidates(db, org.org_id, org.property_id, centre, since=since, exclude=[f"c{c}-0"])
        expected = sorted(
            (likeness.distance(centre, value), photo_id)
            for photo_id, value in rows
            if likeness.distance(centre, value) <= likeness.CANDIDATE_BITS
            and similar.probed(centre, value)
            and photo_id != f"c{c}-0"
        )
        assert sorted((m.distance, m.photo_id) for m in found) == expected
        assert [m.distance for m in found] == sorted(m.distance for m in found), "nearest first"
        assert f"s{c}" not in {m.photo_id for m in found}, "no band within 2 bits: not read from the index"
        assert {f"c{c}-1", f"c{c}-2"} <= {m.photo_id for m in found}
        limited = await similar.candidates(
            db, org.org_id, org.property_id, centre, since=since, exclude=[f"c{c}-0"], limit=3
        )
        assert limited == found[:3]


def test_the_probes_cover_every_hash_within_the_distance():
    rng = random.Random(7)
    for max_distance in range(0, 17):
        radii = similar.radii(max_distance)
        assert sum(r + 1 for r in radii) == max_distance + 1
        for _ in range(200):
            query = signed(rng.getrandbits(64))
            other = flip(query & ((1 << 64) - 1), rng.sample(range(64), rng.randint(0, max_distance)))
            probes = similar.probes(query, max_distance)
            assert any(similar.band(other, k) in probes[k] for k in range(similar.BANDS))
    assert [similar.probe_count(d) for d in (6, 8, 10, 12)] == [52, 188, 428, 1108]
