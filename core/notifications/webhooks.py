"""Webhook POSTs: the body, its signature, and what counts as delivered.

A receiver checks `X-Fieldwork-Signature: sha256=<hex>`, the HMAC-SHA256 with the webhook's secret of
`<X-Fieldwork-Timestamp>.<raw body>`, may refuse stale timestamps, and keeps the `X-Fieldwork-Delivery` ids it
has acted on: a delivery can arrive twice (a worker killed after the receiver answered, before it recorded the
answer), never with another id.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import httpx
import msgspec

from core.notifications.models import WebhookPayload

_encode = msgspec.json.Encoder().encode
ERROR_SNIPPET = 200  # characters of a refusing receiver's answer kept in last_error


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


async def post(client: httpx.AsyncClient, url: str, secret: str, payload: WebhookPayload, now: datetime) -> str | None:
    """POST one notification; None when the receiver answered 2xx, else what went wrong. Redirects are not
    followed (a 3xx is a failure): the signed body goes only where the admin said."""
    body, headers = request_of(secret, payload, now)
    try:
        async with client.stream("POST", url, content=body, headers=headers) as response:
            if response.is_success:
                return None
            snippet = b""
            async for chunk in response.aiter_bytes():
                snippet += chunk
                if len(snippet) >= ERROR_SNIPPET:
                    break
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return f"{type(exc).__name__}: {exc}".rstrip(": ")
    text = snippet.decode(errors="replace")[:ERROR_SNIPPET].strip()
    return f"HTTP {response.status_code}" + (f": {text}" if text else "")
