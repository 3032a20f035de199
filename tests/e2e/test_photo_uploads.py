"""Photo bytes over tus, end to end: a real tus client (tuspy) against the real app on a real socket, the
photo rows through sync, derivatives made by a real worker, bytes served back with ETag and Range."""

from __future__ import annotations

import asyncio
import base64
import fcntl
import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from tusclient.exceptions import TusCommunicationError, TusUploadFailed

from sync.photos.staging import StagedFile
from sync.photos.storage import BlobStore
from tests.photo_world import (
    TUS,
    Phone,
    cutting_proxy,
    heic,
    jpeg,
    make_derivatives,
    sha256,
    tus_upload,
)
from tests.world import build_org


@pytest.fixture
async def org(db):
    return await build_org(db, "ph")


@pytest.fixture
async def staff(api, org, db):
    return await Phone.of(api, org, "staff", db)


def port_of(api) -> int:
    return api.base_url.port


async def test_tuspy_uploads_in_chunks_and_resumes_after_a_cut_connection(api, org, staff, settings, db, tmp_path):
    data = jpeg(2400, 1800, seed=3)
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    photo_id = await staff.photo_row()
    assert (await staff.pulled(photo_id))["status"] == "pending"

    # through a connection that drops after ~60 % of the bytes: tuspy's first attempt fails mid-PATCH
    async with cutting_proxy(port_of(api), cut_after=int(len(data) * 0.6)) as proxy:
        client = staff.tus(f"http://127.0.0.1:{proxy}")
        with path.open("rb") as stream:
            uploader = client.uploader(file_stream=stream, chunk_size=len(data), metadata={"photo_id": photo_id})
            with pytest.raises((TusCommunicationError, TusUploadFailed, OSError)):
                await asyncio.to_thread(uploader.upload)
    url = uploader.url.replace(f":{proxy}/", f":{port_of(api)}/")  # created before the bytes went
    # the server learns of the cut a moment after the phone does
    deadline = asyncio.get_running_loop().time() + 10
    head = await api.head(url, headers={**staff.headers, **TUS})
    while head.headers["Upload-Offset"] == "0" and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
        head = await api.head(url, headers={**staff.headers, **TUS})
    kept = int(head.headers["Upload-Offset"])
    assert 0 < kept < len(data), "the bytes that arrived before the cut are kept"
    assert head.headers["Upload-Length"] == str(len(data)) and head.headers["Cache-Control"] == "no-store"

    # the phone is back: tuspy asks where the upload stands and sends the rest in chunks smaller than the file
    direct = staff.tus(str(api.base_url).rstrip("/"))
    resumed = await asyncio.to_thread(
        tus_upload, direct, path, photo_id, chunk_size=256 * 1024, url=url, upload_checksum=True
    )
    assert resumed == url
    done = await api.head(url, headers={**staff.headers, **TUS})
    assert done.headers["Upload-Offset"] == str(len(data))

    row = await staff.pulled(photo_id)
    assert (row["status"], row["sha256"], row["size_bytes"]) == ("uploaded", sha256(data), len(data))
    assert (row["width"], row["height"], row["content_type"]) == (2400, 1800, "image/jpeg")

    await make_derivatives(settings)
    assert (await staff.pulled(photo_id))["status"] == "ready"
    original = await api.get(f"/photos/{photo_id}/original", headers=staff.headers)
    assert original.status_code == 200 and original.content == data
    assert original.headers["ETag"] == f'"{sha256(data)}"' and "immutable" in original.headers["Cache-Control"]
    display = await api.get(f"/photos/{photo_id}/display", headers=staff.headers)
    thumbnail = await api.get(f"/photos/{photo_id}/thumbnail", headers=staff.headers)
    assert display.headers["content-type"] == thumbnail.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(display.content)).size == (1600, 1200)
    assert Image.open(io.BytesIO(thumbnail.content)).size == (320, 240)

    again = await api.get(
        f"/photos/{photo_id}/display", headers={**staff.headers, "If-None-Match": display.headers["ETag"]}
    )
    assert again.status_code == 304 and again.content == b""
    part = await api.get(f"/photos/{photo_id}/original", headers={**staff.headers, "Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == data[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(data)}"
    tail = await api.get(f"/photos/{photo_id}/original", headers={**staff.headers, "Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == data[-10:]
    beyond = await api.get(f"/photos/{photo_id}/original", headers={**staff.headers, "Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{len(data)}"

    # the supervisor sees it; staff of another property, and another org, do not
    supervisor = await Phone.of(api, org, "supervisor", db)
    assert (await api.get(f"/photos/{photo_id}/thumbnail", headers=supervisor.headers)).status_code == 200
    elsewhere = await Phone.of(api, org, "elsewhere", db)
    assert (await api.get(f"/photos/{photo_id}/thumbnail", headers=elsewhere.headers)).status_code == 404
    audit = await db.fetch("SELECT action, actor_id FROM audit_log WHERE entity = 'photo' AND entity_id = $1", photo_id)
    assert [(r["action"], r["actor_id"]) for r in audit] == [("photo.upload", org.ids["staff"])]


async def test_options_says_what_the_server_speaks(api, settings):
    answer = await api.options("/uploads")
    assert answer.status_code == 204
    assert answer.headers["Tus-Version"] == "1.0.0"
    assert set(answer.headers["Tus-Extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "checksum",
        "termination",
        "expiration",
    }
    assert answer.headers["Tus-Checksum-Algorithm"] == "sha1,sha256"
    assert answer.headers["Tus-Max-Size"] == str(settings.max_photo_bytes)


async def test_a_chunk_that_fails_its_checksum_answers_460_and_is_discarded(api, staff):
    data = jpeg(seed=5)
    photo_id = await staff.photo_row()
    url = (await staff.create(photo_id, len(data))).headers["Location"]
    first = data[:5000]
    good = "sha256 " + base64.b64encode(hashlib.sha256(first).digest()).decode()
    assert (await staff.send(url, 0, first, **{"Upload-Checksum": good})).status_code == 204
    second = data[5000:9000]
    wrong = "sha1 " + base64.b64encode(hashlib.sha1(b"something else").digest()).decode()
    refused = await staff.send(url, 5000, second, **{"Upload-Checksum": wrong})
    assert refused.status_code == 460 and refused.json()["code"] == "checksum_mismatch"
    assert refused.headers["content-type"] == "application/problem+json"
    head = await staff.api.head(url, headers={**staff.headers, **TUS})
    assert head.headers["Upload-Offset"] == "5000", "the refused chunk left nothing behind"
    unknown = await staff.send(url, 5000, second, **{"Upload-Checksum": "md5 " + base64.b64encode(b"x" * 16).decode()})
    assert unknown.status_code == 400
    right = "sha1 " + base64.b64encode(hashlib.sha1(data[5000:]).digest()).decode()
    assert (await staff.send(url, 5000, data[5000:], **{"Upload-Checksum": right})).status_code == 204
    assert (await staff.pulled(photo_id))["sha256"] == sha256(data)


async def test_protocol_mistakes_are_refused_clearly(api, staff):
    data = jpeg(seed=6)
    photo_id = await staff.photo_row()
    url = (await staff.create(photo_id, len(data))).headers["Location"]
    stale = await staff.send(url, 10, data[10:])
    assert stale.status_code == 409 and stale.json()["offset"] == 0
    no_version = await staff.api.patch(
        url,
        content=data,
        headers={**staff.headers, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
    )
    assert no_version.status_code == 412 and no_version.headers["Tus-Version"] == "1.0.0"
    wrong_type = await staff.send(url, 0, data, **{"Content-Type": "image/jpeg"})
    assert wrong_type.status_code == 415
    too_long = await staff.send(url, 0, data + b"extra")
    assert too_long.status_code == 413
    no_photo = await staff.api.post("/uploads", headers={**staff.headers, **TUS, "Upload-Length": "10"})
    assert no_photo.status_code == 400 and no_photo.json()["header"] == "Upload-Metadata"
    too_big = await staff.create(photo_id, 10**12)
    assert too_big.status_code == 413
    assert (await staff.send(url, 0, data)).status_code == 204
    again = await staff.create(photo_id, len(data))
    assert again.status_code == 409 and again.json()["code"] == "already_uploaded"


async def test_another_users_upload_answers_404(api, org, staff, db):
    data = jpeg(seed=8)
    photo_id = await staff.photo_row()
    url = (await staff.create(photo_id, len(data))).headers["Location"]
    colleague = await Phone.of(api, org, "supervisor", db)
    stranger_org = await build_org(db, "ph2")
    stranger = await Phone.of(api, stranger_org, "staff", db)
    for other in (colleague, stranger):
        assert (await api.head(url, headers={**other.headers, **TUS})).status_code == 404
        assert (await other.send(url, 0, data)).status_code == 404
        assert (await api.delete(url, headers={**other.headers, **TUS})).status_code == 404
    # nor may anyone upload the bytes of a photo that is not theirs
    taken = await colleague.create(photo_id, len(data))
    assert taken.status_code == 404
    assert (await api.head(url, headers={**staff.headers, **TUS})).headers["Upload-Offset"] == "0"


async def test_an_expired_upload_answers_410_then_404_once_swept(api, staff, settings, db):
    data = jpeg(seed=9)
    photo_id = await staff.photo_row()
    url = (await staff.create(photo_id, len(data))).headers["Location"]
    assert (await staff.send(url, 0, data[:1000])).status_code == 204
    upload_id = url.rsplit("/", 1)[1]
    staged = settings.upload_dir / upload_id
    assert staged.stat().st_size == 1000
    await db.execute("UPDATE uploads SET expires_at = now() - interval '1 minute' WHERE id = $1", upload_id)
    assert (await api.head(url, headers={**staff.headers, **TUS})).status_code == 410
    assert (await staff.send(url, 1000, data[1000:])).status_code == 410

    from tests.integration.test_worker import run_job

    await run_job(settings, "expire_uploads")
    assert (await api.head(url, headers={**staff.headers, **TUS})).status_code == 404
    assert list(settings.upload_dir.iterdir()) == [], "its bytes and lock file are gone"


async def test_bytes_lost_with_the_machine_are_asked_for_again(api, staff, settings):
    """A PATCH in the middle is not fsynced: after a power cut the staged file may end before the acknowledged
    offset. The next PATCH finds it short, moves the offset back, and the phone resends from there."""
    data = jpeg(seed=16)
    photo_id = await staff.photo_row()
    url = (await staff.create(photo_id, len(data))).headers["Location"]
    assert (await staff.send(url, 0, data[:6000])).status_code == 204
    staged = settings.upload_dir / url.rsplit("/", 1)[1]
    with staged.open("rb+") as f:  # the page cache never reached the disk
        f.truncate(4096)
    short = await staff.send(url, 6000, data[6000:])
    assert short.status_code == 409 and short.json()["offset"] == 4096
    head = await api.head(url, headers={**staff.headers, **TUS})
    assert head.headers["Upload-Offset"] == "4096"
    assert (await staff.send(url, 4096, data[4096:])).status_code == 204
    assert (await staff.pulled(photo_id))["sha256"] == sha256(data)


async def test_termination_removes_the_upload_and_its_bytes(api, staff, settings):
    data = jpeg(seed=10)
    photo_id = await staff.photo_row()
    url = (await staff.create(photo_id, len(data))).headers["Location"]
    assert (await staff.send(url, 0, data[:2000])).status_code == 204
    assert (await api.delete(url, headers={**staff.headers, **TUS})).status_code == 204
    assert (await api.head(url, headers={**staff.headers, **TUS})).status_code == 404
    assert list(settings.upload_dir.iterdir()) == [], "its bytes and lock file are gone"


async def test_a_second_request_for_an_upload_in_flight_is_locked_out(api, staff, settings):
    data = jpeg(seed=11)
    photo_id = await staff.photo_row()
    url = (await staff.create(photo_id, len(data))).headers["Location"]
    lock = StagedFile.lock_path(settings.upload_dir / url.rsplit("/", 1)[1])
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("ab") as held:  # what the request receiving (or checking) this upload's bytes holds
        fcntl.flock(held, fcntl.LOCK_EX)
        locked = await staff.send(url, 0, data)
    assert locked.status_code == 423 and locked.json()["code"] == "locked"
    assert (await staff.send(url, 0, data)).status_code == 204


async def test_creation_with_upload_and_bytes_before_their_row(api, staff, settings):
    data = jpeg(seed=12)
    photo_id = staff.client.store.create(
        "photos",
        {
            "property_id": staff.org.property_id,
            "record_table": "handover_notes",
            "record_id": "n",
            "uploaded_by": staff.org.ids["staff"],
        },
    )
    # the bytes go first, in the creating POST itself
    created = await staff.api.post(
        "/uploads",
        content=data,
        headers={
            **staff.headers,
            **TUS,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": f"photo_id {base64.b64encode(photo_id.encode()).decode()}",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert created.status_code == 201 and created.headers["Upload-Offset"] == str(len(data))
    # then the row: its push attaches the bytes, and the phone's next pull brings what the server found
    assert (await staff.client.sync()).rejected == 0
    row = await staff.pulled(photo_id)
    assert (row["status"], row["sha256"]) == ("uploaded", sha256(data))


async def test_the_same_bytes_are_stored_once(api, staff, settings):
    data = jpeg(seed=13)
    first, second = await staff.photo_row(), await staff.photo_row()
    assert (await staff.upload(first, data)).status_code == 204
    assert (await staff.upload(second, data)).status_code == 204
    store = BlobStore.from_url(settings.photo_store_url)
    root = store.local_root
    assert root is not None
    originals = [p for p in root.rglob("*") if p.is_file() and "originals" in p.parts]
    assert [p.name for p in originals] == [sha256(data)]
    assert list(settings.upload_dir.iterdir()) == [], "finished uploads leave nothing in staging"
    await make_derivatives(settings)
    assert (await staff.pulled(first))["status"] == (await staff.pulled(second))["status"] == "ready"


async def test_an_iphone_heic_is_accepted_and_converted(api, staff, settings):
    data = heic(1000, 750)
    photo_id = await staff.photo_row()
    assert (await staff.upload(photo_id, data)).status_code == 204
    row = await staff.pulled(photo_id)
    assert (row["content_type"], row["width"], row["height"]) == ("image/heic", 1000, 750)
    await make_derivatives(settings)
    display = await staff.api.get(f"/photos/{photo_id}/display", headers=staff.headers)
    assert display.status_code == 200 and display.headers["content-type"] == "image/jpeg"
    converted = Image.open(io.BytesIO(display.content))
    assert converted.format == "JPEG" and converted.size == (1000, 750)


def png_bomb(width: int, height: int) -> bytes:
    """A PNG header claiming width x height, with almost no data: decoding it would need gigabytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("bomb", png_bomb(60_000, 60_000), "too_many_pixels"),
        ("truncated", jpeg(1600, 1200, seed=14)[: len(jpeg(1600, 1200, seed=14)) // 2], "truncated"),
        ("text named .jpg", b"this is not a photo, just text in a file called photo.jpg\n" * 20, "not_an_image"),
    ],
)
async def test_bad_bytes_are_refused_and_the_phone_is_told(api, staff, name, data, code):
    photo_id = await staff.photo_row()
    refused = await staff.upload(photo_id, data)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == code and body["photo_id"] == photo_id and body["detail_zh"]
    row = await staff.pulled(photo_id)
    assert (row["status"], row["rejection"]) == ("rejected", code)
    assert row["rejection_en"] and row["rejection_zh"]
    served = await staff.api.get(f"/photos/{photo_id}/original", headers=staff.headers)
    assert served.status_code == 409 and served.json()["code"] == "photo_rejected"
    # a retake of the same photo may be sent again
    retake = jpeg(seed=15)
    assert (await staff.upload(photo_id, retake)).status_code == 204
    assert (await staff.pulled(photo_id))["status"] == "uploaded"


def test_sample_files_exist(tmp_path: Path) -> None:
    """The samples above are what they claim (so a refusal is the server's doing)."""
    assert Image.open(io.BytesIO(jpeg())).format == "JPEG"
    assert Image.open(io.BytesIO(heic())).format in ("HEIF", "HEIC")
