"""Display and thumbnail JPEGs of stored photos, made by the workers.

Derivatives are keyed by the original's sha256, like the original, so making them twice writes the same bytes
to the same keys: the job is idempotent, and every photo of the same bytes becomes ready at once.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path

import asyncpg
from PIL import Image

from core.db import acquire, transaction
from sync.photos import images, likeness
from sync.photos import repository as sql
from sync.photos.storage import BlobStore
from sync.photos.uploads import derivative_key, original_key

log = logging.getLogger("fieldwork.photos")

JOB = "make_derivatives"
# a photo still `uploaded` this long after its bytes arrived has lost its job: queue it again
STRAGGLER_AFTER = timedelta(seconds=0)


def job_id(org_id: str, sha256: str) -> str:
    return f"derive:{org_id}:{sha256}"


async def awaiting(pool: asyncpg.Pool, now: datetime, limit: int = 500) -> list[tuple[str, str]]:
    """(org, sha256) whose derivatives are still to make, the longest waiting first."""
    async with acquire(pool) as conn:
        rows = await sql.awaiting_derivatives(conn, now - STRAGGLER_AFTER, limit)
    return [(row["org_id"], row["sha256"]) for row in rows]


async def make(pool: asyncpg.Pool, store: BlobStore, org_id: str, sha256: str) -> str:
    """Make both derivatives of one original and mark its photos; returns what the photos became."""
    key = original_key(org_id, sha256)
    local = store.local_path(key)
    with tempfile.TemporaryDirectory(prefix="fieldwork-derive-") as scratch:
        if local is None:
            local = Path(scratch) / "original"
            await store.download(key, local)
        try:
            made = await asyncio.to_thread(images.make_derivatives, local)
        except images.ImageRefused as exc:
            # inspection on upload decodes cheaply; a full decode can still find damage it missed
            rejection: dict[str, str] | None = {"code": exc.code, "en": exc.detail, "zh": exc.detail_zh}
            log.warning("photo %s/%s refused while making derivatives: %s", org_id, sha256[:12], exc.code)
        else:
            rejection = None
            await store.put_bytes(derivative_key(org_id, sha256, "display"), made.display, "image/jpeg")
            await store.put_bytes(derivative_key(org_id, sha256, "thumbnail"), made.thumbnail, "image/jpeg")
    async with transaction(pool) as conn:
        if rejection is None:
            await sql.keep_likeness(conn, org_id, sha256, made.likeness, made.signature)
        photos = await sql.mark_derived(
            conn, org_id, sha256, rejection=rejection, likeness=None if rejection else made.likeness
        )
    state = "rejected" if rejection else "ready"
    log.info("derivatives of %s/%s: %s (%d photos)", org_id, sha256[:12], state, photos)
    return state


async def hash_stragglers(pool: asyncpg.Pool, store: BlobStore, limit: int = 500) -> int:
    """The backfill: ready photos without a likeness hash (made ready before hashes were kept) get their
    original's, hashed now from the display derivative already stored when the original has none (or has no
    signature yet). Returns the photos hashed; a later run takes the next batch."""
    async with acquire(pool) as conn:
        todo = await sql.unhashed(conn, limit)
    hashed = 0
    for row in todo:
        org_id, sha256, value, signed = row["org_id"], row["sha256"], row["likeness"], row["signature"]
        if signed is None:
            try:
                data = await store.read(derivative_key(org_id, sha256, "display"))
            except KeyError:  # a ready photo's display JPEG lost from the store: nothing to hash until restored
                log.warning("no display JPEG of %s/%s to hash", org_id, sha256[:12])
                continue
            value, signed = await asyncio.to_thread(_hash_jpeg, data)
        async with transaction(pool) as conn:
            await sql.keep_likeness(conn, org_id, sha256, value, signed)
            hashed += await sql.copy_likeness(conn, org_id, sha256)
    if hashed:
        log.info("likeness hashes kept for %d earlier photos", hashed)
    return hashed


def _hash_jpeg(data: bytes) -> tuple[int, bytes]:
    with Image.open(BytesIO(data)) as im:  # the display derivative: our own upright, metadata-free JPEG
        return likeness.likeness_and_signature(im)
