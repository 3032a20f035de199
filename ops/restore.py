"""`fieldwork restore`: an archive of `fieldwork backup` brought back into an empty installation.

Blobs first (each checked against the manifest on the way out of the archive and again read back from the store),
then the database in one transaction (pg_restore --single-transaction), so a restore that fails part-way leaves the
database empty and can simply be run again: blobs already put are the same bytes under the same keys.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

from core.db import connect
from core.migrate import load_migrations, migrate
from core.settings import Settings
from ops import archive, pgtools
from ops import repository as sql
from ops.archive import ArchiveError, Manifest, Reader
from sync.photos.storage import BlobStore, check_key
from sync.repository import restamp

log = logging.getLogger("fieldwork.backup")

_EVERY = 2.0  # seconds between progress lines


class NotEmpty(Exception):
    """The installation already holds data; restore only fills an empty one."""


class RestoreError(Exception):
    """The restore could not be completed; the message says why."""


def _check_archive(manifest: Manifest) -> None:
    known = max(m.version for m in load_migrations())
    if manifest.schema_version > known:
        raise ArchiveError(
            f"the backup's database is at migration {manifest.schema_version:04d}, newer than this fieldwork knows "
            f"({known:04d}): restore it with the fieldwork version that made it, or a newer one"
        )
    for blob in manifest.blobs:
        try:
            check_key(blob.key)
        except ValueError as exc:
            raise ArchiveError(f"the manifest lists an unsafe key: {exc}") from None


def _key_to_write(archived_in: Reader, manifest: Manifest, settings: Settings, scratch: Path) -> str | None:
    """The archived secret key to put in FIELDWORK_HOME (None: nothing to write); warns when the key the server
    will use differs from the one the backup was taken with. Refuses a home holding another key."""
    kept = manifest.secret_key
    path = settings.home_path / archive.SECRET_KEY
    present = path.read_text().strip() if path.is_file() else None
    archived = None
    if kept.member is not None:
        archived_in.extract(kept.member.name, kept.member.bytes, kept.member.sha256, scratch / "key")
        archived = (scratch / "key").read_text().strip()
        if present is not None and present != archived:
            raise NotEmpty(f"{path} holds a different secret key: restore into a new FIELDWORK_HOME")
    configured = settings.secret_key or archived or present
    if kept.fingerprint and (configured is None or archive.fingerprint(configured) != kept.fingerprint):
        where = "FIELDWORK_SECRET_KEY" if kept.source == "environment" else f"the archived {archive.SECRET_KEY}"
        log.warning(
            "the secret key in use differs from the backup's (fingerprint %s, from %s): survey links listed again "
            "for printing will not match the households' invitations (links already handed out still work) and "
            "every phone must refresh its access token; set FIELDWORK_SECRET_KEY to the key the backup was taken "
            "with",
            kept.fingerprint,
            where,
        )
    return archived if present is None else None


async def _check_empty(url: str) -> int:
    """Refuse a database holding anything; returns the server's major version."""
    conn = await connect(url)
    try:
        if found := await sql.user_relations(conn):
            shown = ", ".join(found[:5]) + (" …" if len(found) > 5 else "")
            raise NotEmpty(
                f"the database already holds {len(found)} tables or other objects ({shown}): restore fills an empty "
                "installation only. Point DATABASE_URL at a new empty database (createdb), or, on the embedded "
                "default, use a new FIELDWORK_HOME"
            )
        major, _ = await sql.server_version(conn)
        return major
    finally:
        await conn.close()


async def _put_blobs(reader: Reader, manifest: Manifest, store: BlobStore, scratch: Path) -> None:
    total, done, last = len(manifest.blobs), 0, time.monotonic()
    for blob in manifest.blobs:
        staged = scratch / "blob"
        reader.extract(archive.BLOBS + blob.key, blob.bytes, blob.sha256, staged)
        await store.replace_file(blob.key, staged)
        staged.unlink(missing_ok=True)
        if await store.sha256(blob.key) != (blob.bytes, blob.sha256):
            raise RestoreError(f"the photo store gave back other bytes than were put under {blob.key}")
        done += 1
        if time.monotonic() - last >= _EVERY or done == total:
            last = time.monotonic()
            log.info("[1/3] photo store: %d/%d blobs put and verified", done, total)


async def _restore_database(tool: pgtools.Tool, dump: Path, url: str, manifest: Manifest) -> list[str]:
    """pg_restore in one transaction, the rows checked against the manifest, then migrations brought up to date;
    returns the migrations applied."""
    log.info("[2/3] database: pg_restore %s, one transaction", tool.version)
    args = ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error", str(dump)]
    try:
        await pgtools.run(tool, args, url, "[2/3] database")
    except RuntimeError as exc:
        raise RestoreError(str(exc)) from None
    conn = await connect(url)
    try:
        rows = await sql.table_rows(conn)
        if differ := sorted(t for t in manifest.database.rows if rows.get(t) != manifest.database.rows[t]):
            raise RestoreError(f"restored tables do not hold the rows the backup counted: {', '.join(differ)}")
        log.info("[2/3] database: %d tables, %d rows, as counted at backup", len(rows), sum(rows.values()))
        applied = [f"{m.version:04d}_{m.name}" for m in await migrate(conn)]
        log.info("[3/3] migrations: %s", ", ".join(applied) if applied else "none needed, the schema is current")
        async with conn.transaction():
            stamp = await restamp(conn)
    finally:
        await conn.close()
    log.info("[3/3] sync: changes stamped %d on this server; each phone's next pull is a full replacement", stamp)
    return applied


async def restore(settings: Settings, path: Path) -> Manifest:
    """Restore the archive at `path` into the installation `settings` name (its database must be empty)."""
    assert settings.database_url
    with Reader(path) as reader:
        manifest = reader.manifest()
        _check_archive(manifest)
        log.info(
            "archive of %s: schema at migration %04d, %d tables, %d blobs, secret key %s",
            manifest.created_at.isoformat(timespec="seconds"),
            manifest.schema_version,
            len(manifest.database.rows),
            len(manifest.blobs),
            manifest.secret_key.source,
        )
        if manifest.missing:
            log.warning("%d blobs were missing from the store when the backup was taken", len(manifest.missing))
        major = await _check_empty(settings.database_url)
        settings.home_path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".fieldwork-restore-", dir=settings.home_path) as folder:
            scratch = Path(folder)
            key = _key_to_write(reader, manifest, settings, scratch)
            pg_restore = pgtools.choose("pg_restore", at_least=manifest.database.pg_dump_major, prefer=major)
            store = BlobStore.from_url(settings.photo_store_url)
            log.info(
                "[1/3] photo store: %d blobs (%s) into %s",
                len(manifest.blobs),
                archive.human_size(manifest.blob_bytes),
                settings.photo_store_url,
            )
            await _put_blobs(reader, manifest, store, scratch)
            member = manifest.database.member
            reader.extract(member.name, member.bytes, member.sha256, scratch / "dump")
            await _restore_database(pg_restore, scratch / "dump", settings.database_url, manifest)
        if key is not None:
            _write_key(settings.home_path / archive.SECRET_KEY, key)
            log.info("secret key written to %s", settings.home_path / archive.SECRET_KEY)
    return manifest


def _write_key(path: Path, key: str) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:  # never readable by others
        out.write(key)
    os.replace(tmp, path)
