"""Photo uploads over tus against a plain file copy of the same bytes on the same disk, and the server's memory
while a 200 MB upload streams through it.

    .venv/bin/python -m bench.photos_upload            # 200 MB, 5 rounds
    .venv/bin/python -m bench.photos_upload --mb 50    # a quicker run

Each round, one after the other so drift hits all alike:
- **tus, one PATCH**: the creating POST, then the whole file in one PATCH streamed from disk in 1 MiB reads
  (httpx), as tus-js-client and tuspy send it by default; timed to the last answer, which comes after the server
  fsynced the bytes, checked them (sha256, type sniffing, a decode) and moved them into the content-addressed
  store. The server is `python -m cli serve` (its own process, default settings but for the photo size limit);
- **tus, tuspy in 8 MiB PATCHes** (informative): each chunk read whole into memory, sent, acknowledged;
- **copy**: `shutil.copyfile` of the same file to the same disk, then fsync.

The ratio is the median of each round's upload rate over that round's copy rate (this disk's speed drifts).
The file is a real JPEG padded to the size after its end-of-image marker (decoders ignore trailing bytes), so the
server accepts and stores it like a photo. The server's RSS is sampled every 20 ms during each upload; the
figure is its peak growth over its RSS before that upload.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from PIL import Image
from tusclient.client import TusClient

from bench._support import (
    MB,
    Result,
    RssSampler,
    fieldwork_server,
    median,
    print_results,
    say,
    scratch_database,
)
from bench.sync import PASSWORD, build_world
from core.db import connect

CHUNK = 8 * MB  # tuspy's PATCH size in the second row
READ = MB  # the streaming client's reads


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


def tus_streaming(base_url: str, headers: dict[str, str], path: Path, photo_id: str) -> float:
    """The upload as tus-js-client and tuspy send it by default: one PATCH for the whole file after the
    creating POST, the body streamed from disk (never whole in the client's memory)."""
    size = path.stat().st_size
    tus = {**headers, "Tus-Resumable": "1.0.0"}

    def body() -> Iterator[bytes]:
        with path.open("rb") as f:
            while block := f.read(READ):
                yield block

    with httpx.Client(base_url=base_url, timeout=120) as client:
        started = time.perf_counter()
        created = client.post(
            "/uploads",
            headers={**tus, "Upload-Length": str(size), "Upload-Metadata": f"photo_id {b64(photo_id)}"},
        )
        assert created.status_code == 201, created.text
        sent = client.patch(
            created.headers["Location"],
            content=body(),
            headers={
                **tus,
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(size),
            },
        )
        elapsed = time.perf_counter() - started
    assert sent.status_code == 204 and sent.headers["Upload-Offset"] == str(size), sent.text
    return elapsed


def tus_chunked(base_url: str, headers: dict[str, str], path: Path, photo_id: str) -> float:
    """tuspy with 8 MiB PATCHes: each chunk read whole into memory, then sent and acknowledged."""
    client = TusClient(f"{base_url}/uploads", headers=headers)
    with path.open("rb") as stream:
        started = time.perf_counter()
        uploader = client.uploader(file_stream=stream, chunk_size=CHUNK, metadata={"photo_id": photo_id})
        uploader.upload()
        elapsed = time.perf_counter() - started
    assert uploader.offset == path.stat().st_size
    return elapsed


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


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
                times: dict[str, list[float]] = {"stream": [], "chunked": [], "copy": []}
                growth = []
                for n in range(rounds + 1):  # the first round warms everything up and is not counted
                    seconds = {}
                    for way, send in (("stream", tus_streaming), ("chunked", tus_chunked)):
                        photo_id = f"bench-{way}-{n}"
                        # a different byte each time: the same bytes would be stored once, and the move skipped
                        with source.open("rb+") as f:
                            f.seek(size - 1)
                            f.write(bytes([n * 2 + (way == "chunked")]))
                        await photo_row(url, world.org_id, world.property_id, world.user_id, photo_id)
                        with RssSampler(server.pid) as rss:
                            seconds[way] = await asyncio.to_thread(send, server.url, headers, source, photo_id)
                        growth.append(rss.growth)
                    seconds["copy"] = copy_once(source, home / "copy.jpg")
                    say(
                        f"round {n}: streamed {size_mb / seconds['stream']:.0f} MB/s, tuspy in 8 MiB chunks "
                        f"{size_mb / seconds['chunked']:.0f} MB/s, copy {size_mb / seconds['copy']:.0f} MB/s, "
                        f"server RSS +{growth[-2] / MB:.1f} / +{growth[-1] / MB:.1f} MB"
                    )
                    if n:
                        for way, value in seconds.items():
                            times[way].append(value)
                    else:
                        growth.clear()
    rate = {way: size_mb / median(values) for way, values in times.items()}
    peak = max(growth) / MB
    copy = f"{rate['copy']:.0f} (file copy + fsync)"
    # the disk's speed drifts from round to round: each round's upload is set against that round's copy
    streamed, chunked = (
        median([c / t for c, t in zip(times["copy"], times[way], strict=True)]) for way in ("stream", "chunked")
    )
    return [
        Result(
            f"upload {size_mb} MB in one PATCH, MB/s (medians of {rounds} rounds)",
            f"{rate['stream']:.0f}",
            copy,
            f"{streamed:.2f}×",
            "≥ 0.50×",
            streamed >= 0.5,
        ),
        Result(
            f"upload {size_mb} MB, tuspy 8 MiB PATCHes, MB/s",
            f"{rate['chunked']:.0f}",
            copy,
            f"{chunked:.2f}×",
            "—",
            None,
        ),
        Result(f"server RSS growth during a {size_mb} MB upload", f"{peak:.1f} MB", "—", "—", "< 30 MB", peak < 30),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200, help="the upload's size in MB (default 200)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds after one warm-up (default 5)")
    args = parser.parse_args()
    results = asyncio.run(run(args.mb, args.rounds))
    return print_results(results, f"- {os.cpu_count()} CPUs; python {sys.version.split()[0]}", "bench.photos_upload")


if __name__ == "__main__":
    sys.exit(main())
