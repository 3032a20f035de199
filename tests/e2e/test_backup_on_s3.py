"""A backup of an installation whose photos are on S3-compatible storage (a real moto server) restores into a new
bucket and a new database, every blob read back from the bucket matching its sha256."""

from __future__ import annotations

import uuid

import boto3
import msgspec
import pytest

from core.db import connect
from sync.photos.storage import BlobStore
from sync.photos.uploads import original_key
from tests.conftest import scratch_database
from tests.e2e.test_backup_restore import fieldwork, install_env
from tests.photo_world import Phone, jpeg, sha256
from tests.world import build_org


@pytest.fixture
def settings(settings, s3_bucket):
    return msgspec.structs.replace(settings, photo_store=s3_bucket)


async def test_a_backup_round_trips_through_object_storage(api, db, settings, servers, s3_endpoint, tmp_path):
    org = await build_org(db, "s3bk")
    staff = await Phone.of(api, org, "staff", db)
    photos = {}
    for seed in range(3):
        data = jpeg(400, 300, seed=seed)
        photo_id = await staff.photo_row(record_id=f"note-{seed}")
        assert (await staff.upload(photo_id, data)).status_code == 204
        photos[photo_id] = sha256(data)
    assert settings.photo_store and settings.secret_key
    made = tmp_path / "backup.tar"
    source = install_env(
        str(settings.database_url),
        tmp_path,
        FIELDWORK_PHOTO_STORE=settings.photo_store,
        FIELDWORK_SECRET_KEY=settings.secret_key,
    )
    code, out = await fieldwork("backup", str(made), env=source)
    assert code == 0, out
    assert "secret key: from FIELDWORK_SECRET_KEY, not archived" in out

    bucket = f"restored-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    async with scratch_database(servers[0], "template0") as restored_url:
        target = install_env(restored_url, tmp_path / "fresh", FIELDWORK_PHOTO_STORE=f"s3://{bucket}/fieldwork")
        code, out = await fieldwork("restore", str(made), env=target)
        assert code == 0, out
        # no key configured where the backup had one from the environment: the operator is told
        assert "secret key in use differs from the backup's" in out
        conn = await connect(restored_url)
        try:
            rows = await conn.fetch("SELECT id, sha256 FROM photos WHERE org_id = $1", org.org_id)
        finally:
            await conn.close()
    assert {r["id"]: r["sha256"] for r in rows} == photos
    store = BlobStore.from_url(f"s3://{bucket}/fieldwork")
    for digest in photos.values():
        held = await store.sha256(original_key(org.org_id, digest))
        assert held is not None and held[1] == digest
