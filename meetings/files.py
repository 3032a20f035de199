"""Files of an owner meeting's minutes: uploaded by the property's supervisors, kept in the blob store, fetched
by its staff any time and by its owners once published (the minutes' `attachments`)."""

from __future__ import annotations

import asyncio
import hashlib
import re

import asyncpg
import msgspec

from core.access import Caller, found_in_scope
from core.audit.service import record_change
from core.errors import NotFound, TooLarge, UnsupportedMediaType
from core.ids import new_id
from meetings import repository as sql
from meetings.schemas import Attachment
from meetings.service import found_meeting, refuse_unless
from sync.photos.storage import BlobStore

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
# what minutes come as; served as downloads (Content-Disposition: attachment), never rendered by the browser
ATTACHMENT_TYPES = frozenset(
    {
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/heic",
        "text/plain",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"\\/]')


class AttachmentFile(msgspec.Struct, frozen=True, kw_only=True):
    """Where an attachment's bytes are, and how to serve them."""

    store_key: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str


def clean_filename(name: str | None) -> str:
    """The last path segment, without quotes or control characters (it goes into a header), at most 200."""
    base = re.split(r"[\\/]", name or "")[-1]
    return _UNSAFE_NAME.sub("_", base).strip()[:200] or "attachment"


async def add_attachment(
    conn: asyncpg.Connection,
    caller: Caller,
    meeting_id: str,
    *,
    filename: str | None,
    content_type: str,
    content: bytes,
    store: BlobStore,
) -> Attachment:
    """A file of the minutes (supervisors, admins); owners get it when the minutes are next published."""
    row = await found_meeting(conn, caller, meeting_id, "supervise")
    refuse_unless(row, "attachments")
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise TooLarge(f"an attachment may have at most {MAX_ATTACHMENT_BYTES} bytes", limit=MAX_ATTACHMENT_BYTES)
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in ATTACHMENT_TYPES:
        raise UnsupportedMediaType(
            f"attachments may be PDF, images, text or Office files, not {media_type or 'untyped'}",
            accepted=sorted(ATTACHMENT_TYPES),
        )
    attachment_id = new_id()
    key = f"{caller.org_id}/meetings/{meeting_id}/{attachment_id}"
    digest = await asyncio.to_thread(lambda: hashlib.sha256(content).hexdigest())
    await store.put_bytes(key, content, media_type)
    stored = await sql.insert_attachment(
        conn,
        caller.org_id,
        {
            "id": attachment_id,
            "meeting_id": meeting_id,
            "filename": clean_filename(filename),
            "content_type": media_type,
            "size_bytes": len(content),
            "sha256": digest,
            "store_key": key,
            "uploaded_by": caller.user_id,
        },
    )
    attachment = msgspec.convert(dict(stored), Attachment)
    await record_change(conn, caller, "meeting.attachment", "meeting", meeting_id, after=attachment)
    return attachment


async def open_attachment(
    conn: asyncpg.Connection, caller: Caller, meeting_id: str, attachment_id: str
) -> AttachmentFile:
    """Staff of the property any time; its owners once the attachment is in the published minutes; else 404."""
    missing = NotFound(f"no attachment {attachment_id} you can see", entity="meeting_attachment", id=attachment_id)
    row = await found_in_scope(conn, caller, await sql.meeting(conn, caller.org_id, meeting_id), missing)
    if caller.role == "owner" and attachment_id not in {a["id"] for a in row["attachments"] or []}:
        raise missing
    found = await sql.attachment(conn, caller.org_id, meeting_id, attachment_id)
    if found is None:
        raise missing
    return msgspec.convert(dict(found), AttachmentFile)
