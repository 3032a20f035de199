"""Photo uploads over tus against a plain file copy of the same bytes on the same disk, and the server's memory
while a 200 MB upload streams through it.

    .venv/bin/python -m bench.photos_upload            # 200 MB, 3 rounds
    .venv/bin/python -m bench.photos_upload --mb 50    # a quicker run

Each round, alternating so drift hits both alike:
- **tus**: tuspy uploads the file to `python -m cli serve` (its own process, default settings but for the photo size
  limit) in 8 MiB PATCHes, timed from the creating POST to the last answer, which comes after the server checked
  the bytes (sha256, type sniffing, a decode) and moved them into the content-addressed store;
- **copy**: `shutil.copyfile` of the same file to the same disk, then fsync, as the server fsyncs what it received.

The file is a real JPEG padded to the size after its end-of-image marker (decoders ignore trailing bytes), so the
server accepts and stores it like a photo. The server's RSS is sampled every 20 ms during each upload; the
figure is its peak growth over its RSS before that upload.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image
from tusclient.client import TusClient

from bench._support import (
    MB,
    Result,
    RssSampler,
    fieldwork_server,
    markdown_table,
    median,
    say,
    scratch_database,
    text_table,
)
from bench.sync import PASSWORD, build_world
from core.db import connect

CHUNK = 8 * MB


def padded_jpeg(path: Path, size: int) -> None:
    image = Image.radial_gradient("L").resize((1200, 900)).convert("RGB")
    head = io.BytesIO()
    image.save(head, "JPEG", quality=85)
    with path.open("wb") as out:
        out.write(head.getvalue())
        left = size - head.tell()
        block = os.urandom(MB)
        while left > 0:
            out.write(block[: min(left, MB)])
            left -= MB


def copy_once(src: Path, dst: Path) -> float:
    started = time.perf_counter()
    shutil.copyfile(src, dst)
    with dst.open("rb+") as f:
        os.fsync(f.fileno())
    elapsed = time.perf_counter() - started
    dst.unlink()
    return elapsed


async def photo_row(database_url: str, org_id: str, property_id: str, user_id: str, photo_id: str) -> None:
    conn = await connect(database_url)
    try:
        await conn.execute(
            """INSERT INTO photos (org_id, id, property_id, record_table, record_id, uploaded_by)
               VALUES ($1, $2, $3, 'handover_notes', 'bench', $4)""",
            org_id,
            photo_id,
            property_id,
            user_id,
        )
    finally:
        await conn.close()


def tus_once(base_url: str, headers: dict[str, str], path: Path, photo_id: str) -> float:
    client = TusClient(f"{base_url}/uploads", headers=headers)
    with path.open("rb") as stream:
        started = time.perf_counter()
        uploader = client.uploader(file_stream=stream, chunk_size=CHUNK, metadata={"photo_id": photo_id})
        uploader.upload()
        elapsed = time.perf_counter() - started
    assert uploader.offset == path.stat().st_size
    return elapsed


async def run(size_mb: int, rounds: int) -> list[Result]:
    size = size_mb * MB
    with tempfile.TemporaryDirectory(prefix="fieldwork-bench-upload-", dir=Path.cwd()) as tmp:
        home = Path(tmp)
        source = home / "photo.jpg"
        padded_jpeg(source, size)
        async with scratch_database() as url:
            world = await build_world(url)
            os.environ["FIELDWORK_MAX_PHOTO_BYTES"] = str(size + MB)
            with fieldwork_server(url, home / "server") as server:
                async with httpx.AsyncClient(base_url=server.url) as api:
                    login = await api.post("/auth/login", json={"login": world.email, "password": PASSWORD})
                    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
                tus_times, copy_times, growth = [], [], []
                for n in range(rounds + 1):  # the first round warms both up and is not counted
                    photo_id = f"bench-photo-{n}"
                    # a different byte each round: the same bytes would be stored once, and the move skipped
                    with source.open("rb+") as f:
                        f.seek(size - 1)
                        f.write(bytes([n]))
                    await photo_row(url, world.org_id, world.property_id, world.user_id, photo_id)
                    with RssSampler(server.pid) as rss:
                        seconds = await asyncio.to_thread(tus_once, server.url, headers, source, photo_id)
                    copy_seconds = copy_once(source, home / "copy.jpg")
                    say(
                        f"round {n}: tus {size_mb / seconds:.0f} MB/s, copy {size_mb / copy_seconds:.0f} MB/s, "
                        f"server RSS +{rss.growth / MB:.1f} MB"
                    )
                    if n:
                        tus_times.append(seconds)
                        copy_times.append(copy_seconds)
                        growth.append(rss.growth)
    tus_rate, copy_rate = size_mb / median(tus_times), size_mb / median(copy_times)
    ratio = tus_rate / copy_rate
    peak = max(growth) / MB
    return [
        Result(
            f"upload {size_mb} MB, MB/s (median of {rounds})",
            f"{tus_rate:.0f}",
            f"{copy_rate:.0f} (file copy + fsync)",
            f"{ratio:.2f}×",
            "≥ 0.50×",
            ratio >= 0.5,
        ),
        Result(
            f"server RSS growth during a {size_mb} MB upload",
            f"{peak:.1f} MB",
            "—",
            "—",
            "< 30 MB",
            peak < 30,
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200, help="the upload's size in MB (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds after one warm-up (default 3)")
    args = parser.parse_args()
    results = asyncio.run(run(args.mb, args.rounds))
    print(text_table(results))
    print()
    print(markdown_table(results))
    print(f"\n{os.cpu_count()} CPUs; python {sys.version.split()[0]}")
    return 0 if all(r.passed is not False for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
