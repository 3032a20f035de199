"""Photos for the upload tests: a phone's photo rows through sync, real image files, a real tus client, a
connection cut on purpose, and the worker that makes derivatives."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import random
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
from PIL import Image
from tusclient.client import TusClient

from sync.client import SyncClient
from tests.integration.test_sync_protocol import settle
from tests.world import Org, login
from workers.settings import connect_queue, create_worker

TUS = {"Tus-Resumable": "1.0.0"}


def jpeg(width: int = 1200, height: int = 900, *, seed: int = 1, exif: Image.Exif | None = None) -> bytes:
    """A photo-like JPEG: noise over a gradient, so it compresses like a photo and is not tiny."""
    rng = random.Random(seed)
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.frombytes("RGB", (width // 4, height // 4), rng.randbytes(width // 4 * (height // 4) * 3))
    image = Image.blend(base, noise.resize((width, height)), 0.35)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def heic(width: int = 800, height: int = 600) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.open(io.BytesIO(jpeg(width, height, seed=7))).save(out, format="HEIF")
    return out.getvalue()


def metadata(photo_id: str, **more: str) -> str:
    values = {"photo_id": photo_id, "filename": f"{photo_id}.jpg", **more}
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Phone:
    """One person's phone: a sync client for photo rows, and their auth headers for tus and photo URLs."""

    def __init__(self, api: httpx.AsyncClient, org: Org, who: str, headers: dict[str, str], client: SyncClient, db):
        self.api, self.org, self.who, self.headers, self.client, self.db = api, org, who, headers, client, db

    @classmethod
    async def of(cls, api: httpx.AsyncClient, org: Org, who: str, db: asyncpg.Connection) -> Phone:
        headers = await login(api, org, who)
        return cls(api, org, who, headers, await SyncClient.from_server(api, ":memory:", headers), db)

    async def photo_row(self, *, record_id: str = "note-1", push: bool = True) -> str:
        photo_id = self.client.store.create(
            "photos",
            {
                "property_id": self.org.property_id,
                "record_table": "handover_notes",
                "record_id": record_id,
                "uploaded_by": self.org.ids[self.who],
                "purpose": "evidence",
            },
        )
        if push:
            assert (await self.client.sync()).rejected == 0
        return photo_id

    async def pulled(self, photo_id: str) -> dict:
        await settle(self.db)  # the cursor covers the server's last writes
        await self.client.sync()
        row = self.client.store.get("photos", photo_id)
        assert row is not None
        return row

    async def create(self, photo_id: str, length: int, **headers: str) -> httpx.Response:
        return await self.api.post(
            "/uploads",
            headers={
                **self.headers,
                **TUS,
                "Upload-Length": str(length),
                "Upload-Metadata": metadata(photo_id),
                **headers,
            },
        )

    async def send(self, url: str, offset: int, data: bytes, **headers: str) -> httpx.Response:
        return await self.api.patch(
            url,
            content=data,
            headers={
                **self.headers,
                **TUS,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
                **headers,
            },
        )

    async def upload(self, photo_id: str, data: bytes) -> httpx.Response:
        """The whole file in one PATCH; the PATCH's answer."""
        created = await self.create(photo_id, len(data))
        assert created.status_code == 201, created.text
        return await self.send(created.headers["Location"], 0, data)

    def tus(self, base_url: str) -> TusClient:
        return TusClient(f"{base_url}/uploads", headers=self.headers)


def tus_upload(client: TusClient, path: Path, photo_id: str, *, chunk_size: int, url: str | None = None, **kw) -> str:
    """Upload with tuspy (blocking: call it in a thread); returns the upload's URL."""
    with path.open("rb") as stream:  # tuspy leaves a file it opened itself open
        uploader = client.uploader(
            file_stream=stream, chunk_size=chunk_size, metadata={"photo_id": photo_id}, url=url, **kw
        )
        uploader.upload()
    return uploader.url


@contextlib.asynccontextmanager
async def cutting_proxy(target_port: int, cut_after: int) -> AsyncIterator[int]:
    """A TCP proxy that forwards to the server, but drops each client's connection once `cut_after` bytes of
    the request have passed (a phone entering a lift); yields its port."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, limit: int | None) -> None:
        passed = 0
        try:
            while data := await reader.read(65536):
                if limit is not None and passed + len(data) > limit:
                    writer.write(data[: limit - passed])
                    await writer.drain()
                    break
                passed += len(data)
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
        upstream = asyncio.create_task(pipe(client_reader, server_writer, cut_after))
        downstream = asyncio.create_task(pipe(server_reader, client_writer, None))
        await upstream
        client_writer.transport.abort()  # the phone's side of the connection is gone too
        downstream.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await downstream

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def make_derivatives(settings) -> None:
    """What the worker does every few seconds: queue derivatives for photos that wait, and make them."""
    queue = await connect_queue(settings)
    try:
        assert await queue.enqueue_job("queue_derivatives") is not None
    finally:
        await queue.aclose()
    worker = create_worker(settings, burst=True, handle_signals=False)
    try:
        await worker.main()
    finally:
        await worker.close()
    assert worker.jobs_failed == 0
