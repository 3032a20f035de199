"""ASGI middleware at the edge of the app: who the client is, and how long its body may take to arrive.

Neither is left to the server's own options, so that `create_app(settings)` behaves the same under
`fieldwork serve`, in the tests, or under any ASGI server.
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import ClientException
from litestar.middleware.base import DefineMiddleware
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from core.ratelimit import address_key


class BodyTimeout:
    """A request body that stops arriving (fewer bytes than its Content-Length, then nothing) is dropped after
    `seconds` without a byte: 408, and the connection closed.

    uvicorn has no such limit: its keep-alive timeout runs only between requests, so a handler waiting for the
    rest of a body would wait for ever, holding the connection and the handler's task. Like nginx's
    client_body_timeout, this limits the wait between two reads, not the whole body, so a slow phone can still
    upload a large photo. Once the body is complete, `receive` only waits for the client to disconnect (a
    streamed answer listens for that), and that wait is not limited.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        complete = False

        async def timed_receive() -> ReceiveMessage:
            nonlocal complete
            if complete:
                return await receive()
            try:
                async with asyncio.timeout(self.seconds):
                    message = await receive()
            except TimeoutError:
                raise ClientException(
                    f"the request body stopped arriving: no bytes for {self.seconds:g} seconds",
                    status_code=408,
                    headers={"Connection": "close"},
                ) from None
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, timed_receive, send)


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The client's address as the attempt limits count it: the connecting peer, or the address a trusted
    proxy names (edge_middleware); an IPv6 client by its /64."""
    host = connection.client.host if connection.client else ""
    return address_key(host) if host else "unknown"


def edge_middleware(body_timeout: float, trusted_proxies: list[str]) -> list[DefineMiddleware]:
    """The edge middleware, outermost first: X-Forwarded-For is believed only from the listed proxies (uvicorn's
    own middleware, which takes the rightmost address a trusted proxy did not add), none by default."""
    middleware = [DefineMiddleware(BodyTimeout, seconds=body_timeout)]
    if trusted_proxies:
        # uvicorn types its ASGI messages with TypedDicts of its own, which mypy cannot match to Litestar's
        proxy_headers = DefineMiddleware(ProxyHeadersMiddleware, trusted_hosts=trusted_proxies)  # type: ignore[arg-type]
        middleware.insert(0, proxy_headers)
    return middleware
