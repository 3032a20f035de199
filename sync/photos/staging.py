"""Partial uploads on disk: one file per upload, appended to by one request at a time.

The lock is flock(2) on the file itself: a second request for the same upload is refused at once rather than
interleaving bytes, and a process that dies mid-request releases it with its file descriptors. Writes are
batched into ~1 MiB and done in a thread, with the running hashes, so neither memory nor the event loop grow
with the upload.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import hashlib
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

from core.errors import Locked

BATCH = 1024 * 1024


class StagedFile:
    """An upload's file, held under its lock from open() to close()."""

    def __init__(self, path: Path, fd: int, hashers: list[Any]):
        self.path = path
        self._fd = fd
        self._hashers = hashers
        self._pending: list[bytes] = []
        self._pending_size = 0
        # the batch being written while the next one arrives: disk and socket work at the same time
        self._writing: asyncio.Future[None] | None = None

    @classmethod
    async def open(cls, path: Path, *, start: int, hashers: list[Any]) -> StagedFile:
        """Lock the file and set its end at `start` (bytes past it were never acknowledged: a request cut
        before it recorded them). Raises Locked when another request holds it."""

        def do() -> int:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise Locked("another request is sending this upload's bytes; retry when it ends") from None
                raise
            if os.fstat(fd).st_size != start:
                os.ftruncate(fd, start)
            os.lseek(fd, start, os.SEEK_SET)
            return fd

        return cls(path, await asyncio.to_thread(do), hashers)

    async def write(self, chunk: bytes) -> None:
        self._pending.append(chunk)
        self._pending_size += len(chunk)
        if self._pending_size >= BATCH:
            await self._start_batch()

    async def _start_batch(self) -> None:
        await self._drain()
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending, self._pending_size = [], 0

        def do() -> None:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            for hasher in self._hashers:  # hashlib releases the GIL on large buffers
                hasher.update(data)

        self._writing = asyncio.ensure_future(asyncio.to_thread(do))

    async def _drain(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            await writing

    async def flush(self) -> None:
        """Write everything received so far (and hash it)."""
        await self._start_batch()
        await self._drain()

    async def rewind(self, to: int) -> None:
        """Drop everything after `to` (a chunk refused: checksum mismatch, too long)."""
        await self._drain()
        self._pending, self._pending_size = [], 0
        await asyncio.to_thread(lambda: (os.ftruncate(self._fd, to), os.lseek(self._fd, to, os.SEEK_SET)))

    async def close(self) -> int:
        """Write what is batched and make it durable (before its offset is acknowledged), then unlock;
        returns the file's size."""

        def do() -> int:
            try:
                os.fsync(self._fd)
                return os.fstat(self._fd).st_size
            finally:
                os.close(self._fd)  # releases the flock

        try:
            await self.flush()
        finally:
            size = await asyncio.to_thread(do)
        return size


class RunningHashes:
    """The sha256 of each upload's acknowledged bytes, kept in this process between its PATCHes so the last one
    need not read the file back. Bytes below an acknowledged offset never change, so an entry is right for as
    long as its offset is where the upload stands; a PATCH served by another process finds none, and the
    upload's completion reads the file instead."""

    def __init__(self, size: int = 512) -> None:
        self._held: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        self._size = size

    def take(self, upload_id: str, offset: int) -> Any | None:
        """The hash of the first `offset` bytes, if this process has it (for 0, a new one)."""
        held = self._held.pop(upload_id, None)
        if offset == 0:
            return hashlib.sha256()
        return held[1] if held is not None and held[0] == offset else None

    def keep(self, upload_id: str, offset: int, hasher: Any) -> None:
        self._held[upload_id] = (offset, hasher)
        while len(self._held) > self._size:
            self._held.popitem(last=False)


async def sha256_of(path: Path) -> str:
    """The file's sha256, read in blocks (an upload resumed across requests could not keep a running hash)."""

    def do() -> str:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while block := f.read(BATCH):
                digest.update(block)
        return digest.hexdigest()

    return await asyncio.to_thread(do)


def remove(path: Path) -> None:
    path.unlink(missing_ok=True)
