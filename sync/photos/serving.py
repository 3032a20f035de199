"""Which bytes a photo URL serves, to whom: the caller must see the photo row under its sync read rule (the
same rule that decides whether their phone pulls it)."""

from __future__ import annotations

from typing import Literal

import asyncpg
import msgspec

from core.access import Caller
from core.errors import Conflict, NotFound
from sync import service as sync_service
from sync.photos import repository as sql
from sync.photos.uploads import derivative_key, original_key
from sync.tables import PHOTOS

Variant = Literal["original", "display", "thumbnail"]


class PhotoBytes(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    content_type: str
    etag: str  # strong: the bytes under a photo id never change
    filename: str


async def locate(conn: asyncpg.Connection, caller: Caller, photo_id: str, variant: Variant) -> PhotoBytes:
    row = await sql.photo(conn, caller.org_id, photo_id)
    if row is None or not (await sync_service.grants_now(conn, caller)).sees(PHOTOS, row):
        raise NotFound(f"no photo {photo_id} you can see", photo_id=photo_id)
    status, sha256 = row["status"], row["sha256"]
    if status == "rejected":
        raise Conflict("this photo's bytes were refused", code="photo_rejected", state=status, photo_id=photo_id)
    if sha256 is None:
        raise Conflict("this photo's bytes have not arrived yet", code="not_uploaded", state=status, photo_id=photo_id)
    if variant == "original":
        ext = (row["content_type"] or "image/jpeg").split("/")[-1]
        return PhotoBytes(
            key=original_key(caller.org_id, sha256),
            content_type=row["content_type"] or "application/octet-stream",
            etag=f'"{sha256}"',
            filename=f"{photo_id}.{ext}",
        )
    if status != "ready":
        raise Conflict(
            f"the {variant} of this photo is being made; try again in a few seconds",
            code="not_ready",
            state=status,
            photo_id=photo_id,
        )
    return PhotoBytes(
        key=derivative_key(caller.org_id, sha256, variant),
        content_type="image/jpeg",
        etag=f'"{sha256}-{variant}"',
        filename=f"{photo_id}-{variant}.jpg",
    )
