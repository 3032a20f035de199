"""Notification shapes: what the outbox holds, what a person's inbox shows, what a webhook receives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.structs import Struct


class InboxItem(Struct):
    id: str
    notification_id: str
    kind: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    property_id: str | None
    record_table: str | None
    record_id: str | None
    created_at: datetime
    read_at: datetime | None


class Webhook(Struct):
    """A webhook as it is listed: never with its secret."""

    id: str
    url: str
    active: bool
    kinds: list[str] | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(Webhook):
    """A new webhook and its signing secret, shown this once: store it where the receiver can read it."""

    secret: str


class WebhookPayload(Struct):
    """The JSON body of a webhook POST. `id` is the notification's: it is also the X-Fieldwork-Delivery header,
    and the same on a retry, so a receiver that keeps the ids it has seen acts on each notification once."""

    id: str
    kind: str
    created_at: datetime
    property_id: str | None
    record_table: str | None
    record_id: str | None
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    data: dict[str, Any]
