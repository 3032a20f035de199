"""`fieldwork backup`: one consistent archive of the database, the photo store and the secret key file.

Consistency without stopping anything: this process opens a read-only REPEATABLE READ transaction and exports its
snapshot; pg_dump dumps exactly that snapshot (`--snapshot`), and the list of blobs to copy is read in it too.
Blobs are content-addressed and never change or go away, and each is in the store before the transaction that
refers to it commits (docs/photos.md), so every blob the snapshot refers to can be copied after the dump: dump and
blobs are a consistent pair. A read-only transaction takes no transaction id, so a backup does not hold back the
phones' sync cursors (docs/sync.md) however long it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import asyncpg

from core.db import connect
from core.settings import Settings
from meetings.repository import stored_attachments
from ops import archive, pgtools
from ops import repository as sql
from ops.archive import Blob, Manifest, SecretKey
from sync.photos.repository import stored_originals
from sync.photos.storage import BlobStore
from sync.photos.uploads import derivative_key, original_key

log = logging.getLogger("fieldwork.backup")

_BATCH = 16  # blobs fetched from object storage at once
_EVERY = 2.0  # seconds between progress lines


@dataclass(frozen=True)
class BlobRef:
    key: str
    sha256: str | None  # what the bytes must hash to, when the database knows it
    required: bool  # False: copied when present (an original the database no longer relies on)


def archive_path(path: Path | None, now: datetime) -> Path:
    """PATH as given; a directory (or nothing: the current one) gets a file named for the time."""
    name = f"fieldwork-{now:%Y%m%dT%H%M%SZ}.tar"
    if path is None:
        return Path.cwd() / name
    return path / name if path.is_dir() else path


async def referenced_blobs(conn: asyncpg.Connection) -> list[BlobRef]:
    """Every blob the database (in the caller's snapshot) refers to; a database of an older release may not have
    every table that refers to blobs yet."""
    refs: list[BlobRef] = []
    for row in await stored_originals(conn) if await sql.has_table(conn, "uploads") else []:
        org_id, sha256 = row["org_id"], row["sha256"]
        refs.append(BlobRef(original_key(org_id, sha256), sha256, row["required"]))
        if row["derived"]:
            refs += [BlobRef(derivative_key(org_id, sha256, v), None, True) for v in ("display", "thumbnail")]
    if await sql.has_table(conn, "meeting_attachments"):
        refs += [BlobRef(r["store_key"], r["sha256"], True) for r in await stored_attachments(conn)]
    return refs


@dataclass(frozen=True)
class Dumped:
    """The database dumped, and what was read in the same snapshot."""

    path: Path
    server_version: str
    pg_dump: pgtools.Tool
    schema_version: int
    rows: dict[str, int]
    refs: list[BlobRef]


async def _dump(settings: Settings, dump: Path) -> Dumped:
    assert settings.database_url
    conn = await connect(settings.database_url)
    try:
        tx = conn.transaction(isolation="repeatable_read", readonly=True)
        await tx.start()
        try:
            snapshot = await sql.export_snapshot(conn)
            major, version = await sql.server_version(conn)
            pg_dump = pgtools.choose("pg_dump", at_least=major, prefer=major)
            log.info("[1/3] database: pg_dump %s of PostgreSQL %s, one snapshot", pg_dump.version, version)
            running = asyncio.create_task(
                pgtools.run(
                    pg_dump,
                    ["--format=custom", f"--snapshot={snapshot}", f"--file={dump}"],
                    settings.database_url,
                    "[1/3] database",
                )
            )
            try:  # while pg_dump runs, in the same snapshot
                level = await sql.schema_version(conn)
                rows = await sql.table_rows(conn)
                refs = await referenced_blobs(conn)
            except BaseException:
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                    await running
                raise
            await running
        finally:
            await tx.rollback()  # it wrote nothing; the snapshot must stay exported until pg_dump is done
    finally:
        await conn.close()
    log.info("[1/3] database: %d tables, %d rows, schema at migration %04d", len(rows), sum(rows.values()), level)
    return Dumped(dump, version, pg_dump, level, rows, refs)


async def _fetch(store: BlobStore, ref: BlobRef, scratch: Path) -> Path | None:
    """A local path holding the blob's bytes (the store's own file, or a download); None if it is missing."""
    local = store.local_path(ref.key)
    if local is not None:
        return local if local.is_file() else None
    try:
        await store.download(ref.key, scratch)
    except KeyError:
        return None
    return scratch


async def _copy_blobs(
    tar: tarfile.TarFile, store: BlobStore, refs: list[BlobRef], work: Path
) -> tuple[list[Blob], list[str]]:
    blobs: list[Blob] = []
    missing: list[str] = []
    copied_bytes, last = 0, time.monotonic()
    for start in range(0, len(refs), _BATCH):
        batch = refs[start : start + _BATCH]
        paths = await asyncio.gather(*(_fetch(store, r, work / f"blob-{i}") for i, r in enumerate(batch)))
        for ref, path in zip(batch, paths, strict=True):
            if path is None:
                if ref.required:
                    log.error("photo store: %s is referenced by the database but missing from the store", ref.key)
                    missing.append(ref.key)
                continue
            member = await asyncio.to_thread(archive.add_file, tar, archive.BLOBS + ref.key, path)
            if ref.sha256 is not None and member.sha256 != ref.sha256:
                log.error("photo store: %s is damaged (its bytes hash to %s)", ref.key, member.sha256)
                missing.append(ref.key)  # its bytes stay in the tar, unlisted: restore never reads them
                continue
            blobs.append(Blob(key=ref.key, bytes=member.bytes, sha256=member.sha256))
            copied_bytes += member.bytes
        if time.monotonic() - last >= _EVERY or start + _BATCH >= len(refs):
            last = time.monotonic()
            log.info(
                "[2/3] photo store: %d/%d blobs, %s",
                min(start + _BATCH, len(refs)),
                len(refs),
                archive.human_size(copied_bytes),
            )
    return blobs, missing


def _secret_key(tar: tarfile.TarFile, settings: Settings) -> SecretKey:
    if settings.secret_key:
        log.info("[3/3] secret key: from FIELDWORK_SECRET_KEY, not archived: keep it with the backups")
        return SecretKey(source="environment", fingerprint=archive.fingerprint(settings.secret_key))
    path = settings.home_path / archive.SECRET_KEY
    if not path.is_file():
        log.info("[3/3] secret key: none yet (no %s)", path)
        return SecretKey(source="none")
    member = archive.add_file(tar, archive.SECRET_KEY, path)
    log.info("[3/3] secret key: %s archived", path)
    return SecretKey(source="file", fingerprint=archive.fingerprint(path.read_text().strip()), member=member)


async def backup(settings: Settings, target: Path, now: datetime) -> Manifest:
    """Write the archive to `target` (complete or not at all); returns its manifest. Referenced blobs missing
    from the store are listed in `manifest.missing` (the rest is archived all the same)."""
    store = BlobStore.from_url(settings.photo_store_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    # beside the archive, not in /tmp: a large dump must fit where the archive will
    with tempfile.TemporaryDirectory(prefix=".fieldwork-backup-", dir=target.parent) as scratch:
        work = Path(scratch)
        dumped = await _dump(settings, work / archive.DATABASE)
        try:
            with archive.writing(partial) as tar:
                member = await asyncio.to_thread(archive.add_file, tar, archive.DATABASE, dumped.path)
                log.info("[1/3] database: dump of %s archived", archive.human_size(member.bytes))
                dumped.path.unlink()
                log.info("[2/3] photo store: %d blobs referenced (%s)", len(dumped.refs), settings.photo_store_url)
                blobs, missing = await _copy_blobs(tar, store, dumped.refs, work)
                manifest = Manifest(
                    format=archive.FORMAT,
                    version=archive.FORMAT_VERSION,
                    created_at=now,
                    schema_version=dumped.schema_version,
                    database=archive.Database(
                        member=member,
                        server_version=dumped.server_version,
                        pg_dump_version=dumped.pg_dump.version,
                        pg_dump_major=dumped.pg_dump.major,
                        rows=dumped.rows,
                    ),
                    blobs=blobs,
                    secret_key=_secret_key(tar, settings),
                    missing=missing,
                )
                archive.add_manifest(tar, manifest)
            archive.move_into_place(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    log.info(
        "backup written: %s (%s; %d tables, %d blobs%s)",
        target,
        archive.human_size(member.bytes + manifest.blob_bytes),
        len(manifest.database.rows),
        len(manifest.blobs),
        f", {len(missing)} MISSING" if missing else "",
    )
    return manifest
