"""Input shapes for webhooks."""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, UnsetType

from core.structs import Struct

WebhookUrl = Annotated[
    str,
    Meta(
        pattern=r"^https?://[^\s/?#]+[^\s]*$",
        max_length=2000,
        description="an http:// or https:// URL the worker POSTs each notification to; its host must be, and resolve "
        "to, public addresses only (or ones in FIELDWORK_WEBHOOK_ALLOW_NETWORKS), else 422",
        examples=["https://ops.example.com/fieldwork/hooks"],
    ),
]
Kind = Annotated[str, Meta(pattern=r"^[a-z0-9_.-]{1,64}$", examples=["schedule.custom"])]
Kinds = Annotated[list[Kind], Meta(min_length=1, max_length=50, description="the kinds to send; null: every kind")]


class WebhookCreate(Struct):
    url: WebhookUrl
    kinds: Kinds | None = None


class WebhookUpdate(Struct):
    url: WebhookUrl | UnsetType = UNSET
    kinds: Kinds | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET
