"""Schedules and their occurrences. These are also the shapes the API returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from core.structs import Struct

_LOCAL = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"
# A wall time in the property's zone, without an offset: RFC 3339's date-time (OpenAPI's "format": "date-time")
# requires one, so the schema says what it is instead.
LocalStart = Annotated[
    datetime,
    Meta(
        tz=False,
        description="the first occurrence, in the property's local time (no offset)",
        examples=["2026-12-01T09:00:00"],
        # Litestar's OpenAPI reads "extra"; msgspec's own JSON schema the rest
        extra_json_schema={
            "format": "local-date-time",
            "pattern": _LOCAL,
            "extra": {"format": "local-date-time", "pattern": _LOCAL},
        },
    ),
]


class Schedule(Struct):
    org_id: str
    id: str
    property_id: str
    kind: str  # one of the registered kinds (core.schedules.kinds)
    name: str
    rrule: str
    dtstart_local: LocalStart  # wall time in `timezone`
    timezone: str  # the property's, read with the schedule
    duration_minutes: int
    payload: dict[str, Any]  # as the kind's payload Struct takes it ({} for a kind that takes none)
    paused: bool
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    materialised_until: datetime | None


class Occurrence(Struct):
    starts_at: datetime
    ends_at: datetime
    local_start: str  # ISO 8601 with the offset, in the property's time zone


class Made(msgspec.Struct, frozen=True, kw_only=True):
    """One occurrence, as a Maker gets it."""

    starts_at: datetime
    ends_at: datetime
    missed: bool

    def key(self, schedule_id: str) -> str:
        """What the occurrence's records are keyed by: a record made twice for it is made once."""
        return f"{schedule_id}:{self.starts_at:%Y%m%dT%H%M%SZ}"
