"""The pages' router: what every page shares (no bearer token: a page signs in with a cookie; CSRF-checked forms;
gzip; errors as pages) and the static files (our CSS and a little JavaScript, cached for a year under their
content's hash)."""

from __future__ import annotations

from litestar import Router
from litestar.config.compression import CompressionConfig
from litestar.datastructures import CacheControlHeader
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.compression import CompressionMiddleware
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from api.auth import PUBLIC
from api.pages.csrf import PageCSRF
from api.pages.errors import PAGE_ERRORS
from api.pages.render import STATIC
from api.pages.session import SESSION_DEPENDENCIES


def _gzip() -> DefineMiddleware:
    # level 6: nearly level 9's size in two thirds of its time
    # photos are JPEG already: compressing them again costs time and saves nothing
    photos = ["^/owner/photos/", "^/console/photos/"]
    config = CompressionConfig(backend="gzip", minimum_size=512, gzip_compress_level=6, exclude=photos)
    return DefineMiddleware(CompressionMiddleware, config=config)


def pages_router(*handlers: ControllerRouterHandler) -> Router:
    return Router(
        path="/",
        route_handlers=[*handlers],
        middleware=[DefineMiddleware(PageCSRF), _gzip()],
        exception_handlers=PAGE_ERRORS,  # type: ignore[arg-type]
        dependencies=SESSION_DEPENDENCIES,
        opt=PUBLIC,
    )


def static_router() -> Router:
    return create_static_files_router(
        path="/static",
        directories=[STATIC],
        opt=PUBLIC,
        cache_control=CacheControlHeader(max_age=365 * 24 * 3600, public=True),
        middleware=[_gzip()],
    )
