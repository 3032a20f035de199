"""Photo bytes for people who may see the photo: the original, the display size and the thumbnail, with ETag,
Cache-Control and single byte ranges (a photo viewer resuming a large original)."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import Stream

from api.deps import AppServices, CurrentCaller
from bootstrap.services import Services
from core.access import Caller
from core.db import acquire
from core.errors import NotFound, RangeNotSatisfiable
from sync.photos.serving import Variant, locate

# the bytes under a photo id never change, so a browser may keep them; private: they are not for shared caches
CACHE = "private, max-age=31536000, immutable"


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one range of `Range: bytes=…` as [start, end), or None for the whole (no header, a header we may
    ignore: several ranges or a malformed one, RFC 9110 §14.2). Raises RangeNotSatisfiable."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()) or (first and not first.isdigit()):
        return None
    if last and not last.isdigit():
        return None
    if not first:  # the last n bytes
        start, end = max(0, size - int(last)), size
        if int(last) == 0:
            raise RangeNotSatisfiable("a suffix range of 0 bytes", size=size)
    else:
        start, end = int(first), min(size, int(last) + 1) if last else size
    if start >= size or end <= start:
        raise RangeNotSatisfiable(f"the photo has {size} bytes", size=size)
    return start, end


@get(
    "/photos/{photo_id:str}/{variant:str}",
    tags=["photos"],
    summary="A photo's bytes: original, display (≤ 1600 px) or thumbnail (320 px)",
    description="409 `not_uploaded` before its bytes arrive, `not_ready` while its derivatives are made, "
    "`photo_rejected` when its bytes were refused. Supports If-None-Match and one byte range.",
)
async def photo_bytes(
    request: Request[Any, Any, Any],
    photo_id: FromPath[str],
    variant: FromPath[Literal["original", "display", "thumbnail"]],
    caller: CurrentCaller,
    services: AppServices,
) -> Response[Any]:
    return await serve_photo(request, services, caller, photo_id, variant)


async def serve_photo(
    request: Request[Any, Any, Any], services: Services, caller: Caller, photo_id: str, variant: Variant
) -> Response[Any]:
    """The bytes of the photo if `caller` may see it (the owners' pages serve them too, signed in by cookie)."""
    async with acquire(services.pool) as conn:
        found = await locate(conn, caller, photo_id, variant)
    stored = await services.store.head(found.key)
    if stored is None:  # the row says the bytes exist: a derivative deleted by hand, or a store misconfigured
        raise NotFound(f"the {variant} of photo {photo_id} is missing from storage", photo_id=photo_id)
    headers = {
        "ETag": found.etag,
        "Cache-Control": CACHE,
        "Accept-Ranges": "bytes",
        "Content-Disposition": f'inline; filename="{found.filename}"',
    }
    if found.etag in request.headers.get("if-none-match", ""):
        return Response(b"", status_code=304, headers=headers)
    if_range = request.headers.get("if-range")
    wanted = None if if_range and if_range != found.etag else byte_range(request.headers.get("range"), stored.size)
    start, end = wanted or (0, stored.size)
    headers["Content-Length"] = str(end - start)
    if wanted:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{stored.size}"
    return Stream(
        services.store.read_range(found.key, start, end),
        status_code=206 if wanted else 200,
        media_type=found.content_type,
        headers=headers,
    )
