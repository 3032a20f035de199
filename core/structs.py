"""Base Structs and the shared constrained types (msgspec `Annotated` aliases)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from msgspec import Meta

from core.errors import BadRequest


class Struct(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every input and output shape: keyword-only, unknown fields refused."""


class Frozen(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Struct, immutable: the base of shapes that are values (checklist items, survey questions, KPI figures).
    It derives from msgspec.Struct itself because type checkers refuse a frozen subclass of a base that is not
    frozen."""


Id = Annotated[
    str,
    Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="1-64 characters of A-Z a-z 0-9 _ -", examples=["p8kZ2qR0aXc4"]),
]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Text = Annotated[str, Meta(max_length=2000)]
Email = Annotated[
    str, Meta(pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$", max_length=254, examples=["li.wei@example.com"])
]
Phone = Annotated[
    str, Meta(pattern=r"^\+?[0-9]{6,15}$", description="digits, optional leading +", examples=["13800138000"])
]
Password = Annotated[str, Meta(min_length=8, max_length=200)]
TimeZone = Annotated[str, Meta(min_length=1, max_length=64, description="IANA time zone", examples=["Asia/Shanghai"])]
# a moment given by a client: with its UTC offset, since a bare wall time could be any of 24 hours of instants
Instant = Annotated[
    datetime,
    Meta(tz=True, description="a moment with its UTC offset", examples=["2026-12-01T09:00:00+08:00"]),
]
Latitude = Annotated[float, Meta(ge=-90, le=90)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]
Radius = Annotated[int, Meta(ge=1, le=100_000, description="metres")]
Limit = Annotated[int, Meta(ge=1, le=500)]

T = TypeVar("T")
S = TypeVar("S", bound=msgspec.Struct)


def record_as(row: Any, shape: type[S]) -> S:
    """A database row (an asyncpg Record, or a mapping) as `shape`, from the columns the shape has (the row may
    carry more)."""
    return msgspec.convert({k: v for k, v in dict(row).items() if k in shape.__struct_fields__}, shape)


class Page(Struct, Generic[T]):
    """One page of a list. Pass `next_cursor` back as `cursor` for the next page; null means the end."""

    items: list[T]
    next_cursor: str | None = None


def page_of(items: list[T], limit: int) -> Page[T]:
    """Rows were fetched with limit + 1: the extra one only says there is a next page."""
    more = len(items) > limit
    items = items[:limit]
    return Page(items=items, next_cursor=cursor_after(items[-1].id) if more else None)  # type: ignore[attr-defined]


# A cursor is the key of a page's last item with a check appended, base64url-encoded: opaque to clients, and
# anything else sent as `cursor` (typed by hand, cut short, from another list's key space) is told apart and
# refused instead of reading as a position past the end (an empty page). The check finds mistakes, not
# forgeries: a made-up key only moves a keyset position within what the caller may see anyway.
_CHECK_BYTES = 4


def _check(key: bytes) -> bytes:
    return hashlib.blake2b(key, digest_size=_CHECK_BYTES, person=b"fieldwork-page").digest()


def cursor_after(key: str) -> str:
    """The `next_cursor` of a page whose last item has this key."""
    raw = key.encode()
    return base64.urlsafe_b64encode(raw + _check(raw)).rstrip(b"=").decode()


def read_cursor(cursor: str | None) -> str | None:
    """The key a `cursor` from cursor_after names (None for none); BadRequest for anything else."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, check = raw[:-_CHECK_BYTES], raw[-_CHECK_BYTES:]
        if key and hmac.compare_digest(check, _check(key)):
            return key.decode()
    except (ValueError, binascii.Error):  # not base64, or not UTF-8 (UnicodeDecodeError is a ValueError)
        pass
    raise BadRequest("cursor must be the next_cursor of a page of this list", parameter="cursor")
