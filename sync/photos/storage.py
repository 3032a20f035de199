"""Content-addressed photo storage: a local directory by default, S3-compatible object storage for scale.

Both go through obstore, so the code paths differ only where a local directory allows something better (moving an
upload into place instead of copying it, letting the worker open the file directly).
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import msgspec
import obstore
from obstore.store import LocalStore, S3Store

if TYPE_CHECKING:
    from obstore.store import ClientConfig  # a TypedDict that exists only in obstore's stubs

CHUNK = 1024 * 1024  # streamed reads: big enough to keep per-chunk overhead low, small enough for many clients
_KEY = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")
_ENDPOINT_VARS = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT")


class StoredObject(msgspec.Struct, frozen=True):
    size: int
    etag: str | None


def check_key(key: str) -> str:
    """Return `key` if it is a safe relative object key, else raise ValueError."""
    if not _KEY.fullmatch(key) or ".." in key or any(part == "." for part in key.split("/")):
        raise ValueError(f"invalid storage key {key!r}: use relative paths of [A-Za-z0-9._-] segments, no '..'")
    return key


class BlobStore:
    """Where photo bytes live: a local directory or an S3-compatible bucket, one API for both.

    Keys are relative paths like "org1/originals/ab/abcdef…"; the same key always holds the same bytes, so writes
    never need to replace an object with different content.
    """

    def __init__(self, store: LocalStore | S3Store, local_root: Path | None = None) -> None:
        self._store = store
        self._root = local_root

    @classmethod
    def from_url(cls, url: str) -> BlobStore:
        """Open "file:///abs/dir" or "/abs/dir" (created if missing) or "s3://bucket/optional/prefix".

        S3 takes its credentials, region and endpoint from the standard AWS_* variables (obstore reads them);
        an http:// endpoint (MinIO, Ceph, a test server) is allowed explicitly.
        """
        parts = urlsplit(url)
        if parts.scheme == "file" and parts.netloc in ("", "localhost") and parts.path.startswith("/"):
            return cls.local(Path(unquote(parts.path)))
        if parts.scheme == "" and url.startswith("/"):
            return cls.local(Path(url))
        if parts.scheme == "s3" and parts.netloc:
            endpoint = next((os.environ[v] for v in _ENDPOINT_VARS if os.environ.get(v)), "")
            prefix = parts.path.strip("/") or None
            # only ever turn http on: passing False would override an AWS_ALLOW_HTTP the operator set
            client: ClientConfig | None = {"allow_http": True} if endpoint.startswith("http://") else None
            return cls(S3Store(parts.netloc, prefix=prefix, client_options=client))
        raise ValueError(
            f"unsupported photo storage URL {url!r}: use file:///absolute/dir, /absolute/dir or s3://bucket[/prefix]"
        )

    @classmethod
    def local(cls, root: Path) -> BlobStore:
        root = root.resolve()
        root.mkdir(parents=True, exist_ok=True)
        return cls(LocalStore(root), local_root=root)

    @property
    def local_root(self) -> Path | None:
        """The directory of a local store, else None."""
        return self._root

    def local_path(self, key: str) -> Path | None:
        """The file holding `key` in a local store (it may not exist), else None."""
        return None if self._root is None else self._root / check_key(key)

    async def put_file(self, key: str, path: Path) -> bool:
        """Store the file at `path` under `key` unless the key exists; True if this call stored it.

        A local store on the same filesystem takes the file itself (an atomic rename), so `path` is gone exactly
        when this returns True from a move; in every other case (an upload, or the key already present) `path` is
        left in place and the caller deletes it. Two concurrent calls for a new key may both return True: they
        wrote the same bytes.
        """
        target = self.local_path(check_key(key))
        if target is not None:
            moved = await asyncio.to_thread(_move_into_place, path, target)
            if moved is not None:
                return moved
        elif await self.head(key) is not None:
            return False
        # obstore streams a Path in chunks (multipart above 5 MiB on S3, a staged file renamed into place locally)
        await obstore.put_async(self._store, key, path)
        return True

    async def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Write a small object; overwriting is fine since the same key holds the same bytes."""
        # LocalStore rejects attributes (NotImplementedError), so the content type only goes to object storage
        attributes = {"Content-Type": content_type} if content_type and self._root is None else None
        await obstore.put_async(self._store, check_key(key), data, attributes=attributes)

    async def replace_file(self, key: str, path: Path) -> None:
        """Store the file at `path` under `key` whatever is there (a restore repairing a damaged object)."""
        await obstore.put_async(self._store, check_key(key), path)

    async def sha256(self, key: str) -> tuple[int, str] | None:
        """(size, sha256) of the bytes stored under `key`, read back in full; None if missing."""
        try:
            result = await obstore.get_async(self._store, check_key(key))
        except FileNotFoundError:
            return None
        digest, size = hashlib.sha256(), 0
        async for chunk in result.stream(min_chunk_size=CHUNK):
            digest.update(chunk)
            size += len(chunk)
        return size, digest.hexdigest()

    async def head(self, key: str) -> StoredObject | None:
        try:
            meta = await obstore.head_async(self._store, check_key(key))
        except FileNotFoundError:
            return None
        return StoredObject(size=meta["size"], etag=meta["e_tag"])

    async def read(self, key: str) -> bytes:
        """The whole object (small objects only); KeyError if missing."""
        try:
            result = await obstore.get_async(self._store, check_key(key))
            return bytes(await result.bytes_async())
        except FileNotFoundError:
            raise KeyError(key) from None

    async def read_range(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Stream bytes [start, end) in chunks; KeyError (when iteration starts) if missing.

        `end` past the object's size is clamped; `start` must be below the size (callers answer 416 from head()).
        """
        check_key(key)
        if not 0 <= start <= end:
            raise ValueError(f"invalid byte range [{start}, {end})")
        if start == end:  # obstore rejects empty ranges
            if await self.head(key) is None:
                raise KeyError(key)
            return
        try:
            result = await obstore.get_async(self._store, key, options={"range": (start, end)})
        except FileNotFoundError:
            raise KeyError(key) from None
        async for chunk in result.stream(min_chunk_size=CHUNK):
            yield chunk

    async def download(self, key: str, path: Path) -> None:
        """Stream the object to `path`, which appears complete or not at all; KeyError if missing."""
        try:
            result = await obstore.get_async(self._store, check_key(key))
        except FileNotFoundError:
            raise KeyError(key) from None
        partial = path.with_name(f".{path.name}.part")
        file = await asyncio.to_thread(partial.open, "wb")
        try:
            try:
                async for chunk in result.stream(min_chunk_size=CHUNK):
                    await asyncio.to_thread(file.write, chunk)
            finally:
                await asyncio.to_thread(file.close)
            await asyncio.to_thread(os.replace, partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)  # not awaited: this also runs on cancellation
            raise

    async def delete(self, key: str) -> None:
        """Remove the object; a missing one is fine (S3 says so itself, a local store raises)."""
        try:
            await obstore.delete_async(self._store, check_key(key))
        except FileNotFoundError:
            pass


def _move_into_place(path: Path, target: Path) -> bool | None:
    """Rename `path` to `target` unless it exists: True if moved, False if present, None if across filesystems."""
    if target.exists():
        return False
    # Flush the data before the rename makes it visible: after a crash a content-addressed key that exists is never
    # written again, so it must not be left pointing at an empty or torn file.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(path, target)
    except OSError as exc:
        if exc.errno == errno.EXDEV:
            return None
        raise
    return True
