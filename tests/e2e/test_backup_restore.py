"""`fieldwork backup` and `fieldwork restore` through the real CLI: a backup taken while phones push records and
upload photos restores into a fresh install (a new empty database, a new FIELDWORK_HOME) with every acknowledged
push present and every photo's bytes matching its sha256; restore refuses an installation that holds data."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import pytest

from api.app import create_app
from core.db import connect
from core.embedded import embedded_services
from core.migrate import load_migrations, migrate
from ops.archive import MANIFEST
from sync.photos.storage import BlobStore
from sync.photos.uploads import derivative_key, original_key
from tests.conftest import ROOT, scratch_database, serve
from tests.integration.test_sync_protocol import settle
from tests.photo_world import Phone, jpeg, make_derivatives, sha256
from tests.world import build_org

PHONES = 3


async def fieldwork(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """Run the real CLI in a child process; its exit code and everything it printed."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


def install_env(database_url: str, home: Path, **more: str) -> dict[str, str]:
    """The environment of an installation on an external PostgreSQL, its secret key kept in FIELDWORK_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDWORK_") and k not in ("DATABASE_URL",)}
    return {**env, "DATABASE_URL": database_url, "FIELDWORK_HOME": str(home), **more}


@dataclass
class Ack:
    """A push or an upload the server answered with success, and when (the event loop's clock)."""

    at: float
    notes: dict[str, str] = field(default_factory=dict)  # note id -> body
    photos: list[str] = field(default_factory=list)
    uploaded: dict[str, str] = field(default_factory=dict)  # photo id -> sha256 of its bytes


async def work(
    phone: Phone, n: int, acks: list[Ack], stop: asyncio.Event, at_least: int, busy: asyncio.Event | None = None
) -> None:
    """Make a note with a photo, push them, upload the photo's bytes; again, until told to stop (`busy` is set
    once the first upload of this run is acknowledged)."""
    loop = asyncio.get_running_loop()
    done = 0
    while done < at_least or not stop.is_set():
        store = phone.client.store
        body = f"phone {n} note {done}"
        note_id = store.create(
            "handover_notes",
            {
                "property_id": phone.org.property_id,
                "author_id": phone.org.ids[phone.who],
                "body": body,
                "status": "open",
                "created_at": 1_765_000_000_000 + done,
            },
        )
        photo_id = await phone.photo_row(record_id=note_id, push=False)
        summary = await phone.client.sync()  # raises unless the push is answered 200
        assert summary.rejected == 0
        acks.append(Ack(at=loop.time(), notes={note_id: body}, photos=[photo_id]))
        data = jpeg(320, 240, seed=n * 1000 + done)
        answer = await phone.upload(photo_id, data)
        assert answer.status_code == 204, answer.text
        acks.append(Ack(at=loop.time(), uploaded={photo_id: sha256(data)}))
        if busy is not None:
            busy.set()
        done += 1


async def test_a_backup_taken_while_phones_push_restores_every_acknowledged_push(api, db, settings, servers, tmp_path):
    org = await build_org(db, "bk")
    phones = [await Phone.of(api, org, who, db) for who in ("staff", "supervisor", "staff")]
    (settings.home_path / "secret.key").write_text(settings.secret_key or "")  # the key `fieldwork up` would make
    acks: list[Ack] = []
    # some photos get their derivatives before the backup, so those are archived too
    already = asyncio.Event()
    already.set()
    await asyncio.gather(*(work(p, n, acks, already, 2) for n, p in enumerate(phones)))
    await make_derivatives(settings)

    stop, busy = asyncio.Event(), asyncio.Event()
    pushing = [asyncio.create_task(work(p, n, acks, stop, 0, busy)) for n, p in enumerate(phones)]
    await asyncio.wait_for(busy.wait(), 60)
    archive = tmp_path / "backups"
    archive.mkdir()
    loop = asyncio.get_running_loop()
    began = loop.time()
    code, out = await fieldwork("backup", str(archive), env=install_env(str(settings.database_url), tmp_path))
    ended = loop.time()
    stop.set()
    await asyncio.gather(*pushing)
    assert code == 0, out
    assert any(began < a.at < ended for a in acks), "pushes were meant to run while the backup was taken"
    assert "[1/3] database" in out and "[2/3] photo store" in out and "backup written" in out
    (made,) = archive.glob("fieldwork-*.tar")
    assert made.stat().st_mode & 0o077 == 0, "the archive holds the secret key: its owner's alone"
    with tarfile.open(made) as tar:
        manifest = msgspec.json.decode(tar.extractfile(MANIFEST).read())  # type: ignore[union-attr]
    assert manifest["secret_key"]["source"] == "file" and manifest["missing"] == []
    assert manifest["database"]["rows"]["handover_notes"] >= 6 and manifest["schema_version"] >= 9

    fresh = tmp_path / "fresh"
    async with scratch_database(servers[0], "template0") as restored_url:
        code, out = await fieldwork("restore", str(made), env=install_env(restored_url, fresh))
        assert code == 0, out
        assert "[1/3] photo store" in out and "[2/3] database" in out and "as counted at backup" in out
        restored = await connect(restored_url)
        try:
            await _check_restored(restored, org.org_id, [a for a in acks if a.at < began], fresh)
        finally:
            await restored.close()
    assert (fresh / "secret.key").read_text() == settings.secret_key, "survey links keep working"
    assert (fresh / "secret.key").stat().st_mode & 0o077 == 0


async def _check_restored(conn, org_id: str, acknowledged: list[Ack], home: Path) -> None:
    notes = {r["id"]: r["body"] for r in await conn.fetch("SELECT id, body FROM handover_notes")}
    photos = {r["id"]: r for r in await conn.fetch("SELECT id, status, sha256 FROM photos WHERE org_id = $1", org_id)}
    pushed = {k: v for a in acknowledged for k, v in a.notes.items()}
    assert len(pushed) >= 6
    assert {k: notes.get(k) for k in pushed} == pushed, "every acknowledged push is restored"
    assert {p for a in acknowledged for p in a.photos} <= set(photos)
    uploaded = {k: v for a in acknowledged for k, v in a.uploaded.items()}
    assert {k: photos[k]["sha256"] for k in uploaded} == uploaded, "every acknowledged upload is restored"
    assert await conn.fetchval("SELECT max(version) FROM schema_migrations") is not None

    store = BlobStore.from_url(f"file://{home / 'photos'}")
    with_bytes = [p for p in photos.values() if p["status"] in ("uploaded", "ready")]
    assert len(with_bytes) >= len(uploaded) and any(p["status"] == "ready" for p in with_bytes)
    for photo in with_bytes:
        held = await store.sha256(original_key(org_id, photo["sha256"]))
        assert held is not None and held[1] == photo["sha256"], photo["id"]
        if photo["status"] == "ready":
            for variant in ("display", "thumbnail"):
                assert await store.head(derivative_key(org_id, photo["sha256"], variant)) is not None


async def test_restore_refuses_an_installation_that_holds_data(api, db, settings, servers, tmp_path):
    org = await build_org(db, "full")
    staff = await Phone.of(api, org, "staff", db)
    assert (await staff.upload(await staff.photo_row(), jpeg(200, 150))).status_code == 204
    made = tmp_path / "backup.tar"
    env = install_env(str(settings.database_url), tmp_path)
    code, out = await fieldwork("backup", str(made), env=env)
    assert code == 0, out
    before = await db.fetchval("SELECT count(*) FROM audit_log")

    # into the very installation it came from: the database holds tables
    code, out = await fieldwork("restore", str(made), env=install_env(str(settings.database_url), tmp_path / "h"))
    assert code == 1 and "restore refused" in out and "already holds" in out, out
    assert await db.fetchval("SELECT count(*) FROM audit_log") == before
    assert not (tmp_path / "h" / "photos").exists() or not any((tmp_path / "h" / "photos").iterdir())

    # an empty database, but a home holding another secret key
    other = tmp_path / "other"
    other.mkdir()
    (other / "secret.key").write_text("x" * 48)
    (tmp_path / "secret.key").write_text("y" * 48)
    code, out = await fieldwork("backup", str(made), env=env)
    assert code == 0, out
    async with scratch_database(servers[0], "template0") as empty_url:
        code, out = await fieldwork("restore", str(made), env=install_env(empty_url, other))
        assert code == 1 and "different secret key" in out, out
        check = await connect(empty_url)
        try:
            assert await check.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
        finally:
            await check.close()


async def test_an_archive_from_an_older_schema_is_migrated_after_restore(servers, tmp_path):
    migrations = load_migrations()
    async with scratch_database(servers[0], "template0") as old_url:
        conn = await connect(old_url)
        try:
            await migrate(conn, migrations[:-1])  # the installation runs the previous release
            await conn.execute("INSERT INTO orgs (org_id, name, slug) VALUES ('old-org', 'Old Org', 'old')")
        finally:
            await conn.close()
        made = tmp_path / "old.tar"
        code, out = await fieldwork("backup", str(made), env=install_env(old_url, tmp_path))
        assert code == 0, out
    async with scratch_database(servers[0], "template0") as new_url:
        code, out = await fieldwork("restore", str(made), env=install_env(new_url, tmp_path / "fresh"))
        assert code == 0, out
        latest = migrations[-1]
        assert f"migrations: {latest.version:04d}_{latest.name}" in out
        conn = await connect(new_url)
        try:
            assert await conn.fetchval("SELECT max(version) FROM schema_migrations") == latest.version
            assert await conn.fetchval("SELECT name FROM orgs WHERE org_id = 'old-org'") == "Old Org"
        finally:
            await conn.close()


def embedded_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDWORK_") and k not in ("DATABASE_URL",)}
    return {**env, "FIELDWORK_HOME": str(home)}


@pytest.fixture
def homes() -> Iterator[tuple[Path, Path]]:
    # postgres runs as an unprivileged user when we are root: the directories must be reachable by it
    made = [Path(tempfile.mkdtemp(prefix="fw-backup-", dir="/tmp")) for _ in range(2)]
    for path in made:
        path.chmod(0o755)
    yield made[0], made[1]
    for path in made:
        subprocess.run(["rm", "-rf", str(path)], check=False)


async def test_the_embedded_default_backs_up_and_restores_into_a_new_home(homes):
    old, new = homes
    code, out = await fieldwork(
        "create-org",
        "Embedded Org",
        "--admin-email",
        "a@emb.test",
        "--admin-password",
        "pw-0123456789",
        env=embedded_env(old),
    )
    assert code == 0, out
    (old / "secret.key").write_text("k" * 64)
    code, out = await fieldwork("backup", str(old), env=embedded_env(old))  # a directory: a dated file in it
    assert code == 0, out
    assert "pg_dump 16" in out, "the embedded server's own pg_dump"
    (made,) = old.glob("fieldwork-*.tar")

    code, out = await fieldwork("restore", str(made), env=embedded_env(new))
    assert code == 0, out
    assert (new / "secret.key").read_text() == "k" * 64
    with embedded_services(new, postgres=True, redis=False) as embedded:
        assert embedded.database_url
        conn = await connect(embedded.database_url)
        try:
            assert await conn.fetchval("SELECT name FROM orgs") == "Embedded Org"
        finally:
            await conn.close()
    # a second restore into the now restored home is refused
    code, out = await fieldwork("restore", str(made), env=embedded_env(new))
    assert code == 1 and "restore refused" in out, out


async def test_phones_sync_on_after_a_restore_onto_a_server_whose_transaction_ids_are_behind(
    api, db, settings, homes, tmp_path
):
    """Change stamps are transaction ids: a new server's counter starts far behind the old one's. Restored
    stamps are made the new server's, so a phone syncs on (a full pull, then its edits go through) instead of
    having every edit of a restored record refused as a conflict."""
    org = await build_org(db, "move")
    staff = await Phone.of(api, org, "staff", db)
    note = staff.client.store.create(
        "handover_notes",
        {
            "property_id": org.property_id,
            "author_id": org.ids["staff"],
            "body": "before the move",
            "status": "open",
            "created_at": 1_765_000_000_000,
        },
    )
    assert (await staff.client.sync()).rejected == 0
    await settle(db)
    await staff.client.sync()
    made = tmp_path / "backup.tar"
    code, out = await fieldwork("backup", str(made), env=install_env(str(settings.database_url), tmp_path))
    assert code == 0, out

    _, new = homes  # a new machine on the embedded default: a PostgreSQL of its own
    code, out = await fieldwork("restore", str(made), env=embedded_env(new))
    assert code == 0, out
    with embedded_services(new, postgres=True, redis=False) as embedded:
        assert embedded.database_url
        moved = msgspec.structs.replace(settings, database_url=embedded.database_url, home=str(new))
        conn = await connect(embedded.database_url)
        try:
            behind = await conn.fetchval("SELECT pg_current_xact_id()::text::bigint")
            assert staff.client.store.last_pulled_at > behind, "the new server's counter is meant to be behind"
            async with serve(create_app(moved)) as moved_api:
                staff.client.http = moved_api
                staff.client.store.update("handover_notes", note, {"body": "edited after the move"})
                assert (await staff.client.sync()).rejected == 0
                assert await conn.fetchval("SELECT body FROM handover_notes WHERE id = $1", note) == (
                    "edited after the move"
                )
                # and the new server's changes reach the phone
                supervisor = await Phone.of(moved_api, org, "supervisor", conn)
                other = await supervisor.photo_row(record_id=note)
                await settle(conn)
                await staff.client.sync()
                assert staff.client.store.get("photos", other) is not None
        finally:
            await conn.close()


async def test_a_blob_missing_from_the_store_is_reported_and_the_rest_archived(api, db, settings, servers, tmp_path):
    org = await build_org(db, "gap")
    staff = await Phone.of(api, org, "staff", db)
    kept, lost = jpeg(200, 150, seed=1), jpeg(200, 150, seed=2)
    for data in (kept, lost):
        assert (await staff.upload(await staff.photo_row(), data)).status_code == 204
    (settings.home_path / "photos" / original_key(org.org_id, sha256(lost))).unlink()  # a damaged disk
    made = tmp_path / "gap.tar"
    code, out = await fieldwork("backup", str(made), env=install_env(str(settings.database_url), tmp_path))
    assert code == 1 and "1 photo store objects the database refers to are missing" in out, out
    with tarfile.open(made) as tar:
        manifest = msgspec.json.decode(tar.extractfile(MANIFEST).read())  # type: ignore[union-attr]
    assert manifest["missing"] == [original_key(org.org_id, sha256(lost))]
    assert [b["sha256"] for b in manifest["blobs"]] == [sha256(kept)]
    async with scratch_database(servers[0], "template0") as empty_url:
        code, out = await fieldwork("restore", str(made), env=install_env(empty_url, tmp_path / "fresh"))
    assert code == 0 and "1 blobs were missing from the store when the backup was taken" in out, out


async def test_a_damaged_archive_is_refused_and_the_database_left_empty(api, db, settings, servers, tmp_path):
    org = await build_org(db, "rot")
    staff = await Phone.of(api, org, "staff", db)
    data = jpeg(200, 150, seed=5)
    assert (await staff.upload(await staff.photo_row(), data)).status_code == 204
    made = tmp_path / "rot.tar"
    code, out = await fieldwork("backup", str(made), env=install_env(str(settings.database_url), tmp_path))
    assert code == 0, out
    with tarfile.open(made) as tar:
        blob = tar.getmember(f"blobs/{original_key(org.org_id, sha256(data))}")
    with made.open("r+b") as raw:  # one bit flipped in the photo's bytes
        raw.seek(blob.offset_data + 100)
        byte = raw.read(1)
        raw.seek(blob.offset_data + 100)
        raw.write(bytes([byte[0] ^ 1]))
    async with scratch_database(servers[0], "template0") as empty_url:
        code, out = await fieldwork("restore", str(made), env=install_env(empty_url, tmp_path / "fresh"))
        assert code == 1 and "restore failed" in out and "is damaged" in out, out
        check = await connect(empty_url)
        try:
            assert await check.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
        finally:
            await check.close()
