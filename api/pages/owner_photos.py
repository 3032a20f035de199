"""Photo bytes for the owner's pages, signed in by the session cookie (the API's photo route takes a bearer token,
which a browser's <img> cannot send). The same scope as every photo URL (sync/photos/serving.py `locate`: the
photos' read rule, which lets an owner see their own photos and those named for their household); anything else
is a 404, whether it exists or not."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from api.deps import AppServices
from api.pages.session import Owner
from api.routes.photos import serve_photo
from sync.photos.serving import Variant


@get("/owner/photos/{photo_id:str}", include_in_schema=False)
async def owner_photo(
    request: Request[Any, Any, Any], photo_id: FromPath[str], owner: Owner, services: AppServices
) -> Response[Any]:
    """The display size (at most 1600 px), what a thumbnail links to."""
    return await serve_photo(request, services, owner, photo_id, "display")


@get("/owner/photos/{photo_id:str}/{variant:str}", include_in_schema=False)
async def owner_photo_variant(
    request: Request[Any, Any, Any],
    photo_id: FromPath[str],
    variant: FromPath[Variant],
    owner: Owner,
    services: AppServices,
) -> Response[Any]:
    return await serve_photo(request, services, owner, photo_id, variant)
