"""Notification kinds: each kind a package sends is declared by its plug-in, so webhooks can subscribe to kinds
that exist (a typo is refused, not silently never sent) and `GET /notifications/kinds` can list them."""

from __future__ import annotations

import re

import msgspec

KIND = re.compile(r"^[a-z0-9_.-]{1,64}$")


class NotificationKind(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    about_zh: str
    about_en: str
