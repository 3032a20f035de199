"""Staged upload files on a real filesystem: batched writes and hashes, rewinds, the lock, short files."""

from __future__ import annotations

import hashlib
import random

import pytest

from core.errors import Locked
from sync.photos.staging import BATCH, RunningHashes, StagedFile, StagedShort, remove, sha256_of


async def test_bytes_and_hash_survive_batches_and_a_rewind(tmp_path):
    data = random.Random(1).randbytes(3 * BATCH + 12345)
    path = tmp_path / "up"
    whole, chunk_hash = hashlib.sha256(), hashlib.sha1()
    staged = await StagedFile.open(path, start=0, hashers=[whole, chunk_hash])
    for at in range(0, len(data), 70_000):  # chunks as they come off a socket, across batch boundaries
        await staged.write(data[at : at + 70_000])
    assert await staged.finish_writing(durable=True) == len(data)  # what is still batched is written first
    await staged.release(finished=False)
    assert path.read_bytes() == data
    assert whole.hexdigest() == hashlib.sha256(data).hexdigest() == await sha256_of(path)
    assert staged.last_hash() is chunk_hash and chunk_hash.digest() == hashlib.sha1(data).digest()

    again = await StagedFile.open(path, start=len(data), hashers=[])
    await again.write(b"refused chunk")
    await again.rewind(len(data))
    assert await again.finish_writing(durable=False) == len(data)
    await again.release(finished=True)
    assert not StagedFile.lock_path(path).exists(), "a finished upload's lock file goes"
    remove(path)
    assert list(tmp_path.iterdir()) == []


async def test_unacknowledged_bytes_are_cut_and_missing_ones_reported(tmp_path):
    path = tmp_path / "up"
    path.write_bytes(b"acknowledged" + b"never acknowledged")
    staged = await StagedFile.open(path, start=len(b"acknowledged"), hashers=[])
    await staged.write(b"!")
    await staged.finish_writing(durable=False)
    await staged.release(finished=False)
    assert path.read_bytes() == b"acknowledged!"
    with pytest.raises(StagedShort) as short:
        await StagedFile.open(path, start=100, hashers=[])
    assert short.value.size == len(b"acknowledged!")
    assert path.read_bytes() == b"acknowledged!", "never padded with zeros"


async def test_one_request_at_a_time(tmp_path):
    path = tmp_path / "up"
    first = await StagedFile.open(path, start=0, hashers=[])
    with pytest.raises(Locked):
        await StagedFile.open(path, start=0, hashers=[])
    await first.release(finished=False)
    second = await StagedFile.open(path, start=0, hashers=[])
    await second.release(finished=False)


def test_running_hashes_answer_only_for_the_offset_they_cover():
    hashes = RunningHashes(size=2)
    assert hashes.take("a", 0).digest() == hashlib.sha256().digest()
    running = hashlib.sha256(b"12345")
    hashes.keep("a", 5, running)
    assert hashes.take("a", 6) is None, "an offset it does not cover"
    assert hashes.take("a", 5) is None, "taken means gone"
    hashes.keep("a", 5, running)
    hashes.keep("b", 1, hashlib.sha256(b"x"))
    hashes.keep("c", 1, hashlib.sha256(b"y"))
    assert hashes.take("a", 5) is None, "the oldest was let go"
    assert hashes.take("c", 1) is not None
