"""The same photo flow with its bytes on S3-compatible object storage (a real moto server): staged bytes are
uploaded rather than moved, and the worker downloads the original to make derivatives."""

from __future__ import annotations

import io

import msgspec
import pytest
from PIL import Image

from sync.photos.storage import BlobStore
from tests.photo_world import Phone, jpeg, make_derivatives, sha256
from tests.world import build_org


@pytest.fixture
def settings(settings, s3_bucket):
    return msgspec.structs.replace(settings, photo_store=s3_bucket)


async def test_photos_live_in_object_storage(api, db, settings):
    org = await build_org(db, "s3")
    staff = await Phone.of(api, org, "staff", db)
    data = jpeg(2000, 1500, seed=21)
    photo_id = await staff.photo_row()
    assert (await staff.upload(photo_id, data)).status_code == 204
    store = BlobStore.from_url(settings.photo_store_url)
    assert store.local_root is None
    stored = await store.head(f"{org.org_id}/originals/{sha256(data)[:2]}/{sha256(data)}")
    assert stored is not None and stored.size == len(data)
    assert not any(settings.upload_dir.iterdir()), "nothing is left in staging"

    await make_derivatives(settings)
    assert (await staff.pulled(photo_id))["status"] == "ready"
    display = await api.get(f"/photos/{photo_id}/display", headers=staff.headers)
    assert Image.open(io.BytesIO(display.content)).size == (1600, 1200)
    part = await api.get(f"/photos/{photo_id}/original", headers={**staff.headers, "Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data[10:20]
