"""Partial uploads on disk: one file per upload, appended to by one request at a time.

The lock is flock(2) on a lock file beside the upload's bytes: a second request for the same upload is refused
at once rather than interleaving bytes, and a process that dies mid-request releases it with its file
descriptors. It is a file of its own so that it outlives the bytes' move into the photo store: the request that
completes an upload holds it until the upload is recorded as finished. Whoever takes the lock reads the upload's
state afterwards, so a lock file removed once its upload finished misleads nobody. Writes are batched into
~1 MiB and done in a thread, with the running hashes, so neither memory nor the event loop grow with the upload.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import hashlib
import os
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

from core.errors import Locked

BATCH = 1024 * 1024


class Hasher(Protocol):
    """A running hash: what hashlib's constructors give."""

    def update(self, data: bytes, /) -> None: ...
    def copy(self) -> Hasher: ...
    def digest(self) -> bytes: ...
    def hexdigest(self) -> str: ...


class StagedShort(Exception):
    """The staged bytes end before the acknowledged offset: acknowledged bytes were not yet on disk when the
    machine went down (offsets are made durable only at completion), or a finished upload's bytes moved on."""

    def __init__(self, size: int):
        super().__init__(f"staged bytes end at {size}")
        self.size = size


class StagedFile:
    """An upload's file, held under its lock from open() to close()."""

    def __init__(self, path: Path, lock_fd: int, fd: int, hashers: list[Hasher]):
        self.path = path
        self._lock_fd = lock_fd
        self._fd: int | None = fd
        self._hashers = hashers
        self._pending: list[bytes] = []
        self._pending_size = 0
        # the batch being written while the next one arrives: disk and socket work at the same time
        self._writing: asyncio.Future[None] | None = None

    @staticmethod
    def lock_path(path: Path) -> Path:
        return path.with_name(path.name + ".lock")

    @classmethod
    async def open(cls, path: Path, *, start: int, hashers: list[Hasher]) -> StagedFile:
        """Take the upload's lock and set the end of its bytes at `start` (bytes past it were never
        acknowledged: a request cut before it recorded them). Raises Locked when another request holds it."""

        def do() -> tuple[int, int]:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock_fd = os.open(cls.lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                os.close(lock_fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise Locked(
                        "another request is sending or checking this upload's bytes; retry when it ends"
                    ) from None
                raise
            size = os.fstat(fd).st_size
            if size < start:  # never made longer with zeros: the bytes were moved on, or lost with the machine
                os.close(fd)
                os.close(lock_fd)
                raise StagedShort(size)
            if size > start:
                os.ftruncate(fd, start)
            os.lseek(fd, start, os.SEEK_SET)
            return lock_fd, fd

        lock_fd, fd = await asyncio.to_thread(do)
        return cls(path, lock_fd, fd, hashers)

    async def write(self, chunk: bytes) -> None:
        self._pending.append(chunk)
        self._pending_size += len(chunk)
        if self._pending_size >= BATCH:
            await self._start_batch()

    async def _start_batch(self) -> None:
        await self._drain()
        if not self._pending:
            return
        pieces, self._pending, self._pending_size = self._pending, [], 0
        fd = self._fd
        assert fd is not None

        def do() -> None:
            for hasher in self._hashers:  # hashlib releases the GIL on large buffers
                for piece in pieces:
                    hasher.update(piece)
            # one writev for the batch (no joined copy); a short write resumes where it stopped
            views = [memoryview(piece) for piece in pieces]
            start = os.lseek(fd, 0, os.SEEK_CUR)
            while views:
                written = os.writev(fd, views)
                while views and written >= len(views[0]):
                    written -= len(views[0])
                    views.pop(0)
                if views:
                    views[0] = views[0][written:]
            # start writing the batch back to disk now (Linux: DONTNEED on dirty pages starts their writeback
            # without waiting), so the fsync at the end of the upload has little left to wait for
            os.posix_fadvise(fd, start, os.lseek(fd, 0, os.SEEK_CUR) - start, os.POSIX_FADV_DONTNEED)

        self._writing = asyncio.ensure_future(asyncio.to_thread(do))

    async def _drain(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            await writing

    async def flush(self) -> None:
        """Write everything received so far (and hash it)."""
        await self._start_batch()
        await self._drain()

    def last_hash(self) -> Hasher:
        """The last of the hashers given to open() (the request's checksum, when it sent one)."""
        return self._hashers[-1]

    async def rewind(self, to: int) -> None:
        """Drop everything after `to` (a chunk refused: checksum mismatch, too long)."""
        await self._drain()
        self._pending, self._pending_size = [], 0
        fd = self._fd
        assert fd is not None

        def cut() -> None:
            os.ftruncate(fd, to)
            os.lseek(fd, to, os.SEEK_SET)

        await asyncio.to_thread(cut)

    async def finish_writing(self, *, durable: bool) -> int:
        """Write what is batched; returns the size of the bytes. The lock stays held until release().

        `durable` (the last bytes of an upload) fsyncs them. A PATCH in the middle does not: an fsync per
        chunk would stall every chunk on the disk, and bytes lost with the machine are found short at the next
        PATCH (StagedShort), which moves the upload's offset back for the phone to send them again."""
        await self.flush()  # should it fail, release() closes the file
        fd, self._fd = self._fd, None
        assert fd is not None

        def do() -> int:
            try:
                if durable:
                    os.fsync(fd)
                return os.fstat(fd).st_size
            finally:
                os.close(fd)

        return await asyncio.to_thread(do)

    async def release(self, *, finished: bool) -> None:
        """Let the next request in. `finished`: the upload left `receiving`, so its lock file goes too."""

        def do() -> None:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if finished:
                self.lock_path(self.path).unlink(missing_ok=True)
            os.close(self._lock_fd)  # releases the flock

        await self._drain()
        await asyncio.to_thread(do)


class RunningHashes:
    """The sha256 of each upload's acknowledged bytes, kept in this process between its PATCHes so the last one
    need not read the file back. Bytes below an acknowledged offset never change, so an entry is right for as
    long as its offset is where the upload stands; a PATCH served by another process finds none, and the
    upload's completion reads the file instead."""

    def __init__(self, size: int = 512) -> None:
        self._held: OrderedDict[str, tuple[int, Hasher]] = OrderedDict()
        self._size = size

    def take(self, upload_id: str, offset: int) -> Hasher | None:
        """The hash of the first `offset` bytes, if this process has it (for 0, a new one)."""
        held = self._held.pop(upload_id, None)
        if offset == 0:
            return hashlib.sha256()
        return held[1] if held is not None and held[0] == offset else None

    def keep(self, upload_id: str, offset: int, hasher: Hasher) -> None:
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
    """An upload's bytes and lock file (an upload no longer receiving, or expired)."""
    path.unlink(missing_ok=True)
    StagedFile.lock_path(path).unlink(missing_ok=True)
