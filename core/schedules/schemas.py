"""Input shapes for schedules. A schedule's payload depends on its kind, and the kinds are the registered
plug-ins' (core.schedules.kinds): the request shape is made from them when the app is built."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, cast

import msgspec
from msgspec import Meta

from core.schedules.kinds import ScheduleKind
from core.schedules.models import LocalStart
from core.structs import Name, Struct

RuleBody = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=500,
        description="an RFC 5545 RRULE body, repeating in the property's time zone (DAILY at most)",
        examples=["FREQ=MONTHLY;INTERVAL=6"],
    ),
]
Minutes = Annotated[int, Meta(ge=1, le=366 * 24 * 60, description="how long each occurrence lasts")]


class ScheduleBase(Struct):
    """What every schedule takes; the shape made by create_shape narrows `kind` to the registered kinds and adds
    their payload fields."""

    kind: str
    name: Name
    dtstart_local: LocalStart
    rrule: RuleBody | None = None
    duration_minutes: Minutes | None = None


def _payload_type(kinds: list[ScheduleKind]) -> Any:
    """One kind's payload Struct, as it is; several kinds sharing a field: an object (converted per kind when a
    schedule is made) whose description gives each kind's fields."""
    types = {kind.payload for kind in kinds}
    if len(types) == 1:
        (only,) = types
        return only
    shapes = "; ".join(f"{kind.name}: {{{_fields(kind.payload)}}}" for kind in kinds if kind.payload is not None)
    return Annotated[dict[str, Any], Meta(description=f"the kind's payload. {shapes}")]


def _fields(shape: type[msgspec.Struct]) -> str:
    return ", ".join(field.encode_name + ("" if field.required else "?") for field in msgspec.structs.fields(shape))


def create_shape(kinds: Mapping[str, ScheduleKind]) -> type[ScheduleBase]:
    """The request shape of a new schedule: `kind`, one of `kinds`, and each payload field a kind takes."""
    fields: dict[str, list[ScheduleKind]] = {}
    for kind in kinds.values():
        if kind.payload is not None:
            fields.setdefault(kind.payload_field, []).append(kind)
    lines = [f"{kind.name}: {kind.summary}" for kind in kinds.values()]
    defaults = [
        f"{kind.name} defaults to {kind.default_rrule} lasting {kind.default_minutes} minutes"
        for kind in kinds.values()
        if kind.default_rrule
    ]
    doc = (
        "A schedule of one of these kinds: " + "; ".join(lines) + ". rrule and duration_minutes are required "
        "unless the kind has defaults ("
        + ("; ".join(defaults) or "none")
        + "). "
        + " ".join(
            f"`{name}` is the payload of {', '.join(k.name for k in users)}"
            + (" (required there)" if any(k.payload_required for k in users) else "")
            + "."
            for name, users in fields.items()
        )
    )
    shape = msgspec.defstruct(
        "ScheduleCreate",
        [("kind", Literal[tuple(kinds)])]
        + [(name, _payload_type(users) | None, None) for name, users in fields.items()],
        bases=(ScheduleBase,),
        kw_only=True,
        forbid_unknown_fields=True,
        module=__name__,
        namespace={"__doc__": doc},
    )
    return cast(type[ScheduleBase], shape)
