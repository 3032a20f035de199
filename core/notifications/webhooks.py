"""Webhook POSTs: the body, its signature, and what counts as delivered.

A receiver checks `X-Fieldwork-Signature: sha256=<hex>`, the HMAC-SHA256 with the webhook's secret of
`<X-Fieldwork-Timestamp>.<raw body>`, may refuse stale timestamps, and keeps the `X-Fieldwork-Delivery` ids it
has acted on: a delivery can arrive twice (a worker killed after the receiver answered, before it recorded the
answer), never with another id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

import httpcore
import httpx
import msgspec

from core.egress import Egress, GuardedBackend
from core.notifications.models import WebhookPayload

_encode = msgspec.json.Encoder().encode
ERROR_SNIPPET = 200  # characters of a refusing receiver's answer kept in last_error
# what a receiver that is down, slow or speaking broken HTTP makes httpcore raise
HTTP_ERRORS = (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def request_of(secret: str, payload: WebhookPayload, now: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one attempt (the timestamp is the attempt's, the body the same every time)."""
    body = _encode(payload)
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "fieldwork-webhooks/1",
        "X-Fieldwork-Delivery": payload.id,
        "X-Fieldwork-Timestamp": timestamp,
        "X-Fieldwork-Signature": signature(secret, timestamp, body),
    }
    return body, headers


class Sender:
    """Webhook POSTs over one connection pool whose every new connection passes the egress check
    (core/egress.py). httpcore, not httpx, because the check has to sit where the socket is opened, and
    httpcore takes a network backend there; it also never follows a redirect (a 3xx is a failure), so the
    signed body goes only where the admin said. No proxy is read from the environment: a proxy would
    connect on our behalf to an address this process never sees. Certificates are checked against the
    URL's name, with the CA bundle httpx would use (SSL_CERT_FILE / SSL_CERT_DIR are honoured)."""

    def __init__(self, egress: Egress, timeout_seconds: float) -> None:
        self.timeout = dict.fromkeys(("connect", "read", "write", "pool"), timeout_seconds)
        self.pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=GuardedBackend(egress)
        )

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.pool.aclose()

    async def post(self, url: str, secret: str, payload: WebhookPayload, now: datetime) -> str | None:
        """POST one notification; None when the receiver answered 2xx, else what went wrong. Raises Refused
        when the URL's host is (now) an address webhooks may not reach."""
        body, headers = request_of(secret, payload, now)
        try:
            target = httpx.URL(url)  # the parser registration checked the URL with
            # what httpx would add: Host as the URL has it ([v6] bracketed), credentials given in the URL
            headers["Host"] = target.netloc.decode("ascii")
            if target.userinfo:
                credentials = f"{target.username}:{target.password}".encode()
                headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
            async with self.pool.stream(
                "POST",
                httpcore.URL(scheme=target.raw_scheme, host=target.raw_host, port=target.port, target=target.raw_path),
                headers=list(headers.items()),
                content=body,
                extensions={"timeout": self.timeout},
            ) as response:
                if 200 <= response.status < 300:
                    return None
                snippet = b""
                async for chunk in response.aiter_stream():
                    snippet += chunk
                    if len(snippet) >= ERROR_SNIPPET:
                        break
        except (httpx.InvalidURL, *HTTP_ERRORS) as exc:
            return f"{type(exc).__name__}: {exc}".rstrip(": ")
        text = snippet.decode(errors="replace")[:ERROR_SNIPPET].strip()
        return f"HTTP {response.status}" + (f": {text}" if text else "")
