"""BlobStore against a local directory and a real S3-compatible server (moto, started here on a random port)."""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
import tracemalloc
from pathlib import Path

import pytest

from sync.photos.storage import BlobStore

MiB = 1024 * 1024


def random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return BlobStore.from_url(f"file://{tmp_path}/blobs")
    return BlobStore.from_url(request.getfixturevalue("s3_bucket"))


async def collect(store: BlobStore, key: str, start: int, end: int) -> bytes:
    return b"".join([chunk async for chunk in store.read_range(key, start, end)])


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


async def test_put_file_stores_once(store: BlobStore, tmp_path: Path) -> None:
    first = write(tmp_path / "first.upload", b"original bytes")
    assert await store.put_file("org1/originals/ab/abc", first) is True
    # moved into a local store (same filesystem), uploaded and left in place for object storage
    assert first.exists() is (store.local_root is None)
    assert (store.local_path("org1/originals/ab/abc") is None) is (store.local_root is None)

    second = write(tmp_path / "second.upload", b"something else entirely")
    assert await store.put_file("org1/originals/ab/abc", second) is False
    assert second.exists()
    assert await store.read("org1/originals/ab/abc") == b"original bytes"
    head = await store.head("org1/originals/ab/abc")
    assert head is not None and head.size == len(b"original bytes")


async def test_put_file_streams_a_large_file(store: BlobStore, tmp_path: Path) -> None:
    data = random_bytes(20 * MiB + 12345, seed=20)
    source = write(tmp_path / "big.upload", data)
    middle = hashlib.sha256()
    tracemalloc.start()
    try:
        assert await store.put_file("org1/originals/cd/big", source) is True
        async for chunk in store.read_range("org1/originals/cd/big", 7 * MiB + 3, 13 * MiB + 11):
            middle.update(chunk)
        await store.download("org1/originals/cd/big", tmp_path / "copy.jpg")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    head = await store.head("org1/originals/cd/big")
    assert head is not None and head.size == len(data)
    assert middle.digest() == hashlib.sha256(data[7 * MiB + 3 : 13 * MiB + 11]).digest()
    assert_same_file(tmp_path / "copy.jpg", data)
    if store.local_root is None:
        # S3 gives a multipart upload's ETag a "-<parts>" suffix: the file went up in 5 MiB parts
        assert head.etag is not None and head.etag.strip('"').endswith("-5")
    else:
        # moto runs in this process and keeps objects in Python memory, so only the local store is measured
        assert peak < 6 * MiB, f"peak Python allocation {peak / MiB:.1f} MiB while handling a 20 MiB file"


def assert_same_file(path: Path, data: bytes) -> None:
    assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert not list(path.parent.glob(".*.part"))


@pytest.mark.skipif(
    not Path("/dev/shm").is_dir() or os.stat("/dev/shm").st_dev == os.stat(tempfile.gettempdir()).st_dev,
    reason="needs a second filesystem (/dev/shm) to force the copy path",
)
async def test_put_file_across_filesystems_copies(tmp_path: Path) -> None:
    store = BlobStore.from_url(str(tmp_path / "blobs"))
    data = random_bytes(6 * MiB, seed=6)
    with tempfile.NamedTemporaryFile(dir="/dev/shm", suffix=".upload") as upload:
        upload.write(data)
        upload.flush()
        assert await store.put_file("org1/originals/ef/cross", Path(upload.name)) is True
        assert os.fstat(upload.fileno()).st_nlink == 1  # copied, so the caller still owns (and deletes) its file
    local = store.local_path("org1/originals/ef/cross")
    assert local is not None
    assert_same_file(local, data)


async def test_read_range_returns_the_requested_slice(store: BlobStore) -> None:
    data = random_bytes(1000, seed=1)
    await store.put_bytes("org1/thumbs/ab/abc.webp", data, content_type="image/webp")
    assert await store.read("org1/thumbs/ab/abc.webp") == data
    assert await collect(store, "org1/thumbs/ab/abc.webp", 0, 10) == data[:10]
    assert await collect(store, "org1/thumbs/ab/abc.webp", 400, 611) == data[400:611]
    assert await collect(store, "org1/thumbs/ab/abc.webp", 990, 1000) == data[990:]
    assert await collect(store, "org1/thumbs/ab/abc.webp", 990, 5000) == data[990:]
    assert await collect(store, "org1/thumbs/ab/abc.webp", 5, 5) == b""
    with pytest.raises(ValueError):
        await collect(store, "org1/thumbs/ab/abc.webp", 10, 5)


async def test_put_bytes_overwrites(store: BlobStore) -> None:
    await store.put_bytes("org1/thumbs/x.webp", b"one")
    await store.put_bytes("org1/thumbs/x.webp", b"two")
    assert await store.read("org1/thumbs/x.webp") == b"two"


async def test_missing_key(store: BlobStore, tmp_path: Path) -> None:
    assert await store.head("org1/nothing/here") is None
    with pytest.raises(KeyError):
        await store.read("org1/nothing/here")
    with pytest.raises(KeyError):
        await collect(store, "org1/nothing/here", 0, 10)
    with pytest.raises(KeyError):
        await collect(store, "org1/nothing/here", 0, 0)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(KeyError):
        await store.download("org1/nothing/here", out / "photo.jpg")
    assert not list(out.iterdir())
    await store.delete("org1/nothing/here")


async def test_delete_removes_the_object(store: BlobStore) -> None:
    await store.put_bytes("org1/originals/ab/gone", b"bytes")
    await store.delete("org1/originals/ab/gone")
    assert await store.head("org1/originals/ab/gone") is None


async def test_from_url_local_creates_the_directory(tmp_path: Path) -> None:
    for url, root in [(f"file://{tmp_path}/a/b", tmp_path / "a/b"), (str(tmp_path / "c/d"), tmp_path / "c/d")]:
        store = BlobStore.from_url(url)
        assert root.is_dir()
        assert store.local_root == root.resolve()
        assert store.local_path("org1/x") == root.resolve() / "org1/x"


@pytest.mark.parametrize(
    "url", ["relative/dir", "http://example.com/photos", "s3://", "s3:///prefix", "gs://bucket", "file://host/dir", ""]
)
def test_from_url_rejects_other_forms(url: str) -> None:
    with pytest.raises(ValueError, match="s3://bucket"):
        BlobStore.from_url(url)


@pytest.mark.parametrize(
    "key", ["", "/abs", "../up", "a/../b", "a/..", "a..b", "a//b", "a/./b", "a/", "a b", "ä", "a\\b", "a?b"]
)
async def test_invalid_keys_are_rejected(key: str, tmp_path: Path) -> None:
    store = BlobStore.from_url(str(tmp_path))
    with pytest.raises(ValueError, match="invalid storage key"):
        await store.head(key)
    with pytest.raises(ValueError):
        await store.put_bytes(key, b"x")
    with pytest.raises(ValueError):
        await store.put_file(key, write(tmp_path / "f", b"x"))
    with pytest.raises(ValueError):
        await store.delete(key)
    with pytest.raises(ValueError):
        store.local_path(key)
    with pytest.raises(ValueError):
        await collect(store, key, 0, 1)
