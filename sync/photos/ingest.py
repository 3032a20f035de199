"""Photo bytes that arrive whole in one request (a web form's file input) take the tus uploads' path: the same
checks (size, the real type, HEIC included, the pixel count, a full decode), the same storage by sha256, the same
audit entry, and the photo row attached the way a phone's row arriving after its bytes is (`attach_pushed`). Only
the transport differs: the bytes are in memory already, so they are sent as the upload's one and only chunk.

The upload runs in its own short transactions (as a tus PATCH does); the photo row is written in the caller's, so
a form refused afterwards leaves at most a finished upload, which expires like any other."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import msgspec

from core.access import Caller
from sync.photos import repository as sql
from sync.photos.tus import UploadMetadata
from sync.photos.uploads import Upload, Uploads


class NewPhoto(msgspec.Struct, frozen=True, kw_only=True):
    """A photo row for a record, as a phone would push it."""

    id: str
    property_id: str
    record_table: str
    record_id: str
    purpose: str | None = None
    note: str | None = None


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def upload_bytes(uploads: Uploads, caller: Caller, photo: NewPhoto, data: bytes, filename: str | None) -> Upload:
    """Check and store `data` as the bytes of `photo` (its row may come later). Raises TooLarge (413) or Invalid
    (422, the refusal's code: not_an_image, unsupported_type, too_many_pixels, truncated, corrupt)."""
    metadata = UploadMetadata(
        photo_id=photo.id,
        record_table=photo.record_table,
        record_id=photo.record_id,
        filename=(filename or None) and filename[-255:],
    )
    raw = {key: value for key, value in msgspec.structs.asdict(metadata).items() if value is not None}
    upload = await uploads.create(caller, len(data), metadata, raw)
    return await uploads.append(caller, upload.id, 0, _once(data), None)


async def record_photos(conn: asyncpg.Connection, caller: Caller, photos: list[NewPhoto]) -> None:
    """Write the photo rows (the caller's) and attach the bytes already uploaded for them."""
    for photo in photos:
        await sql.insert_photo(
            conn, {"org_id": caller.org_id, "uploaded_by": caller.user_id, **msgspec.structs.asdict(photo)}
        )
    await sql.attach_pushed(conn, caller.org_id, [photo.id for photo in photos])
