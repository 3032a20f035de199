"""tus uploads of photo bytes: create, receive (resumable, checksummed), inspect on completion, terminate.

A request streaming bytes holds no database transaction (a long one would hold back every phone's sync
cursor): it reads the upload, appends to the staged file under that file's lock, then records the new offset in
a short transaction. The last byte triggers the checks of docs/photos.md; bytes that pass are stored by their
sha256 and attached to the photo row, bytes that do not are refused with a reason that reaches the phone
through sync (the photo row's `status` and `rejection`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import asyncpg
import msgspec

from core.access import Caller
from core.audit.service import record_change
from core.clock import Clock
from core.db import acquire, transaction
from core.errors import ChecksumMismatch, Conflict, Gone, Invalid, NotFound, TooLarge
from core.settings import Settings
from sync.photos import images, staging
from sync.photos import repository as sql
from sync.photos.storage import BlobStore
from sync.photos.tus import Checksum, UploadMetadata

log = logging.getLogger("fieldwork.photos")


class Disconnected(Exception):
    """Raised by a request's byte stream when the client goes away mid-request: what arrived so far is kept
    (unless it came with a checksum) and `append` returns where the upload stands."""


class Upload(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    photo_id: str
    length: int
    received: int
    metadata: dict[str, str]
    state: str  # receiving | complete | rejected
    expires_at: datetime
    sha256: str | None = None
    rejection: str | None = None

    @classmethod
    def of(cls, row: asyncpg.Record) -> Upload:
        return cls(
            id=row["id"],
            photo_id=row["photo_id"],
            length=row["length"],
            received=row["received"],
            metadata=row["metadata"],
            state=row["state"],
            expires_at=row["expires_at"],
            sha256=row["sha256"],
            rejection=row["rejection"],
        )


@dataclass(frozen=True)
class UploadConfig:
    store: BlobStore
    staging_dir: Path
    max_bytes: int
    max_pixels: int
    expiry: timedelta  # an unfinished upload's life after its last bytes
    keep_finished: timedelta  # a finished upload's: its photo row may still be on its way


def upload_config(settings: Settings, store: BlobStore) -> UploadConfig:
    return UploadConfig(
        store=store,
        staging_dir=settings.upload_dir,
        max_bytes=settings.max_photo_bytes,
        max_pixels=settings.max_image_pixels,
        expiry=timedelta(hours=settings.upload_expiry_hours),
        keep_finished=timedelta(days=settings.sync_retention_days),
    )


def original_key(org_id: str, sha256: str) -> str:
    return f"{org_id}/originals/{sha256[:2]}/{sha256}"


def derivative_key(org_id: str, sha256: str, variant: str) -> str:
    return f"{org_id}/{variant}/{sha256[:2]}/{sha256}.jpg"


class Uploads:
    def __init__(self, pool: asyncpg.Pool, config: UploadConfig, clock: Clock):
        self.pool = pool
        self.config = config
        self.clock = clock
        self._hashes = staging.RunningHashes()

    def _staged(self, upload_id: str) -> Path:
        return self.config.staging_dir / upload_id

    async def create(
        self, caller: Caller, length: int, metadata: UploadMetadata, raw_metadata: dict[str, str]
    ) -> Upload:
        if length > self.config.max_bytes:
            raise TooLarge(
                f"a photo may be at most {self.config.max_bytes} bytes; this one is {length}",
                max_bytes=self.config.max_bytes,
            )
        now = self.clock.now()
        async with transaction(self.pool) as conn:
            photo = await sql.photo(conn, caller.org_id, metadata.photo_id)
            # bytes may come before their row; the row, when it comes, must be the uploader's (sql.attach_*)
            if photo is not None and photo["uploaded_by"] != caller.user_id:
                raise NotFound(f"no photo {metadata.photo_id} of yours", photo_id=metadata.photo_id)
            if photo is not None and photo["status"] in ("uploaded", "ready"):
                raise Conflict(
                    f"photo {metadata.photo_id} has its bytes already",
                    code="already_uploaded",
                    photo_id=metadata.photo_id,
                    sha256=photo["sha256"],
                )
            row = await sql.insert_upload(
                conn,
                {
                    "org_id": caller.org_id,
                    "id": secrets.token_urlsafe(24),
                    "uploaded_by": caller.user_id,
                    "photo_id": metadata.photo_id,
                    "length": length,
                    "metadata": raw_metadata,
                    "created_at": now,
                    "expires_at": now + self.config.expiry,
                },
            )
        log.info("upload %s created by %s for photo %s (%d bytes)", row["id"], caller.user_id, row["photo_id"], length)
        return Upload.of(row)

    async def get(self, caller: Caller, upload_id: str) -> Upload:
        async with acquire(self.pool) as conn:
            row = await sql.upload(conn, caller.org_id, upload_id, caller.user_id)
        if row is None:
            raise NotFound("no such upload of yours", upload_id=upload_id)
        upload = Upload.of(row)
        if upload.state == "receiving" and upload.expires_at <= self.clock.now():
            raise Gone("this upload expired; start a new one", upload_id=upload_id)
        return upload

    async def append(
        self, caller: Caller, upload_id: str, offset: int, chunks: AsyncIterator[bytes], checksum: Checksum | None
    ) -> Upload:
        """Receive the bytes of one PATCH at `offset`. Returns the upload as it now stands."""
        upload = await self.get(caller, upload_id)
        if upload.state != "receiving":
            if offset == upload.length:  # a retried last PATCH whose answer was lost
                return upload
            raise Conflict("this upload is finished", code="upload_finished", state=upload.state)
        if offset != upload.received:
            raise Conflict(
                f"Upload-Offset must be {upload.received}, where this upload stands",
                code="offset_mismatch",
                offset=upload.received,
            )
        whole = self._hashes.take(upload_id, offset)
        at_start = whole.copy() if whole is not None else None  # for a request whose bytes are dropped
        hashers = [h for h in (whole, checksum.hasher() if checksum else None) if h is not None]
        try:
            staged = await staging.StagedFile.open(self._staged(upload_id), start=offset, hashers=hashers)
        except staging.StagedShort as short:
            await self._fall_back(caller, upload, short.size)
        finished = False
        try:
            async with acquire(self.pool) as conn:  # a request that held the lock just before us moved on
                now_at = await sql.upload(conn, caller.org_id, upload_id, caller.user_id)
            if now_at is None or now_at["received"] != offset or now_at["state"] != "receiving":
                finished = now_at is None or now_at["state"] != "receiving"
                raise Conflict("this upload moved on meanwhile; ask where it stands (HEAD)", code="offset_mismatch")
            received, whole, cut = await self._receive(staged, upload, offset, chunks, checksum, whole, at_start)
            if received != offset:
                async with transaction(self.pool) as conn:
                    expires = self.clock.now() + self.config.expiry
                    await sql.set_received(conn, caller.org_id, upload_id, received, expires)
            upload = msgspec.structs.replace(upload, received=received)
            if received == upload.length and not cut:
                # still under the lock: a retried last PATCH waits (423) rather than completing it twice
                try:
                    done = await self._complete(caller, upload, whole.hexdigest() if whole else None)
                except Invalid:  # refused bytes: recorded as such
                    finished = True
                    raise
                finished = True
                return done
            if whole is not None:
                self._hashes.keep(upload_id, received, whole)
            return upload
        finally:
            await staged.release(finished=finished)

    async def _receive(
        self,
        staged: staging.StagedFile,
        upload: Upload,
        offset: int,
        chunks: AsyncIterator[bytes],
        checksum: Checksum | None,
        whole: staging.Hasher | None,
        at_start: staging.Hasher | None,
    ) -> tuple[int, staging.Hasher | None, bool]:
        """Write the request's bytes; returns how far the upload got, its running hash and whether the client
        went away. Refused bytes (too many, a checksum mismatch) are dropped and the refusal raised."""
        received, cut = offset, False
        refusal: Exception | None = None
        try:
            async for chunk in chunks:
                if received + len(chunk) > upload.length:
                    refusal = TooLarge(f"this upload is {upload.length} bytes long; more were sent")
                    break
                await staged.write(chunk)
                received += len(chunk)
        except Disconnected:
            cut = True
        await staged.flush()  # the hashes see the last batch
        if refusal is None and checksum is not None and not cut and staged.last_hash().digest() != checksum.digest:
            refusal = ChecksumMismatch(
                f"the bytes sent do not match their {checksum.algorithm} checksum; they were discarded"
            )
        # a part of a checksummed chunk cannot be checked: it is dropped like a refused one
        if refusal is not None or (cut and checksum is not None):
            await staged.rewind(offset)
            received, whole = offset, at_start
        size = await staged.finish_writing(durable=received == upload.length)
        if size != received:  # never acknowledge bytes that are not on disk
            log.error("upload %s: staged file holds %d bytes, expected %d", upload.id, size, received)
            received = min(size, received)
        if refusal is not None:
            if whole is not None:
                self._hashes.keep(upload.id, offset, whole)
            raise refusal
        return received, whole, cut

    async def _fall_back(self, caller: Caller, upload: Upload, size: int) -> NoReturn:
        """The staged bytes end before the upload's offset (lost with the machine): move the offset back to
        what is on disk, and tell the phone to send from there."""
        async with transaction(self.pool) as conn:
            moved = await sql.move_back(conn, caller.org_id, upload.id, size)
        if moved:
            log.warning(
                "upload %s: staged bytes end at %d, not %d; offset moved back", upload.id, size, upload.received
            )
        raise Conflict(
            f"this upload's bytes on the server end at {size}; send from there",
            code="offset_mismatch",
            offset=size if moved else upload.received,
        )

    async def _complete(self, caller: Caller, upload: Upload, sha256: str | None) -> Upload:
        path = self._staged(upload.id)
        if sha256 is None:
            sha256 = await staging.sha256_of(path)
        now = self.clock.now()
        changes: dict[str, Any] = {"sha256": sha256, "completed_at": now, "expires_at": now + self.config.keep_finished}
        refused: images.ImageRefused | None = None
        try:
            facts = await asyncio.to_thread(images.inspect_image, path, max_pixels=self.config.max_pixels)
        except images.ImageRefused as exc:
            refused = exc
            changes |= {
                "state": "rejected",
                "rejection": exc.code,
                "rejection_en": exc.detail,
                "rejection_zh": exc.detail_zh,
            }
        else:
            changes |= {"state": "complete", "facts": facts_json(facts)}
            await self.config.store.put_file(original_key(caller.org_id, sha256), path)
        # the bytes go; the lock file stays until this request releases it, after the commit below
        await asyncio.to_thread(path.unlink, missing_ok=True)
        async with transaction(self.pool) as conn:
            row = await sql.finish_upload(conn, caller.org_id, upload.id, changes)
            if row is None:  # finished by a retried request a moment ago
                raise Conflict("this upload is finished", code="upload_finished")
            attached = await sql.attach_upload(conn, caller.org_id, upload.id)
            await record_change(
                conn,
                caller,
                "photo.upload",
                "photo",
                upload.photo_id,
                after={
                    "upload": upload.id,
                    "sha256": sha256,
                    "bytes": upload.length,
                    "state": changes["state"],
                    "rejection": changes.get("rejection"),
                    "attached": attached is not None,
                },
            )
        log.info(
            "upload %s complete: photo %s %s (%s), %d bytes",
            upload.id,
            upload.photo_id,
            changes["state"],
            changes.get("rejection") or sha256[:12],
            upload.length,
        )
        if refused is not None:
            raise Invalid(
                f"{refused.detail} / {refused.detail_zh}",
                code=refused.code,
                photo_id=upload.photo_id,
                detail_zh=refused.detail_zh,
            )
        return Upload.of(row)

    async def terminate(self, caller: Caller, upload_id: str) -> None:
        """Remove an upload. A finished one only forgets the upload: the photo keeps its bytes."""
        upload = await self.get(caller, upload_id)
        staged = None
        if upload.state == "receiving":
            # under the upload's lock, so bytes still arriving for it are not left behind (Locked otherwise)
            staged = await staging.StagedFile.open(self._staged(upload_id), start=upload.received, hashers=[])
        try:
            await self._forget(caller, upload)
        finally:
            if staged is not None:
                await asyncio.to_thread(self._staged(upload_id).unlink, missing_ok=True)
                await staged.release(finished=True)

    async def _forget(self, caller: Caller, upload: Upload) -> None:
        upload_id = upload.id
        async with transaction(self.pool) as conn:
            await sql.delete_upload(conn, caller.org_id, upload_id)
            await record_change(
                conn,
                caller,
                "photo.upload_terminate",
                "photo",
                upload.photo_id,
                before={"upload": upload_id, "received": upload.received},
            )

    async def expire(self, limit: int = 1000) -> int:
        """Remove uploads past their expiry and their staged bytes (the worker's cron); returns how many."""
        async with transaction(self.pool) as conn:
            gone = await sql.expired_uploads(conn, self.clock.now(), limit)
        for row in gone:
            await asyncio.to_thread(staging.remove, self._staged(row["id"]))
        return len(gone)


def facts_json(facts: images.ImageFacts) -> dict[str, Any]:
    """What attach copies onto the photo row: a naive capture time stays local until the property is known."""
    captured = facts.taken_at
    aware = captured is not None and captured.tzinfo is not None
    return {
        "content_type": facts.content_type,
        "width": facts.width,
        "height": facts.height,
        "captured_at": captured.isoformat() if captured and aware else None,
        "captured_local": captured.isoformat() if captured and not aware else None,
        "latitude": facts.latitude,
        "longitude": facts.longitude,
        "device": facts.device,
    }
