"""What syncs: every table, column, wire type, read scope and write rule, declared once.

Anything not declared here does not exist for a device: pulls never send it, pushes naming it are refused.
A table or column carries `since`, the client schema version that added it, for WatermelonDB migration pulls.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from core.vocabulary import ROLES

# A table or column added later carries `since=<the next version>`: the client schema version is the newest
# `since` of every table and column (sync.catalog.Catalog.version).

ColumnKind = Literal["text", "int", "float", "bool", "time", "json"]
# The kinds of grant a caller holds: properties (staff and supervisors: assigned; owners: of their
# units), buildings (owners: of their units), units (owners: linked), self (the caller's own user id).
GrantKind = Literal["properties", "buildings", "units", "self"]


WIRE_TYPE: dict[str, str] = {
    "text": "string",
    "int": "number",
    "float": "number",
    "bool": "boolean",
    "time": "number",
    "json": "string",
}


class Column(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    kind: ColumnKind = "text"
    # required: a push creating a record must give it (non-null)
    required: bool = False
    # writable: a device may set it; a non-writable (server-owned) column in a push is accepted and ignored
    writable: bool = True
    # immutable: set on create, a push changing it later is refused
    immutable: bool = False
    max_length: int = 2000
    choices: tuple[str, ...] = ()
    since: int = 1

    @property
    def wire_type(self) -> str:
        return WIRE_TYPE[self.kind]


class Visible(msgspec.Struct, frozen=True):
    """A row is visible when its `column` is one of the caller's grants of `dimension`."""

    column: str
    dimension: GrantKind


class AnyOf(msgspec.Struct, frozen=True):
    """A row is visible when any of the rules makes it so (an order: reported by the caller, or theirs to fix)."""

    rules: tuple[Visible, ...]


# Every row of the caller's org.
ALL: Literal["all"] = "all"
ReadRule = Visible | AnyOf | Literal["all"]


def read_parts(rule: ReadRule) -> tuple[Visible, ...]:
    """The Visible rules a rule is made of (none for "all")."""
    if isinstance(rule, Visible):
        return (rule,)
    if isinstance(rule, AnyOf):
        return rule.rules
    return ()


WriteOp = Literal["create", "update", "delete", "delete_own", "update_own"]


class Table(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    columns: tuple[Column, ...]
    # who sees which rows: role -> rule (roles absent see nothing of this table)
    read: dict[str, ReadRule]
    # who may push what: role -> operations. *_own: only rows whose owner_column is the caller.
    write: dict[str, tuple[WriteOp, ...]] = {}
    # a create must name the caller here; it never changes afterwards
    owner_column: str | None = None
    # scope columns the server may change on a live row (a round reassigned): each change leaves a tombstone
    # (trigger sync_moved), so the devices that no longer see the row delete it
    movable: tuple[str, ...] = ()
    since: int = 1

    def column(self, name: str) -> Column | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    @property
    def scope_columns(self) -> tuple[str, ...]:
        """The columns that decide who sees a row: kept on its tombstone when it is deleted."""
        columns = {part.column for rule in self.read.values() for part in read_parts(rule)}
        return tuple(sorted(columns - {"id"}))


def in_properties(column: str = "property_id") -> dict[str, ReadRule]:
    return {"admin": ALL, "supervisor": Visible(column, "properties"), "staff": Visible(column, "properties")}


PROPERTIES = Table(
    name="properties",
    columns=(
        Column(name="name", required=True, writable=False),
        Column(name="address", writable=False),
        Column(name="timezone", required=True, writable=False),
        Column(name="geo_lat", kind="float", writable=False),
        Column(name="geo_lon", kind="float", writable=False),
        Column(name="geo_radius_m", kind="int", writable=False),
    ),
    read={**in_properties("id"), "owner": Visible("id", "properties")},
)

BUILDINGS = Table(
    name="buildings",
    columns=(
        Column(name="property_id", required=True, writable=False),
        Column(name="name", required=True, writable=False),
    ),
    read={**in_properties(), "owner": Visible("id", "buildings")},
)

UNITS = Table(
    name="units",
    columns=(
        Column(name="property_id", required=True, writable=False),
        Column(name="building_id", required=True, writable=False),
        Column(name="number", required=True, writable=False),
        Column(name="floor", kind="int", writable=False),
        Column(name="area_m2", kind="float", writable=False),
    ),
    read={**in_properties(), "owner": Visible("id", "units")},
)

# 交接班记录: what one shift leaves for the next on a property ("lift 2 rattles, engineer called").
# Anyone on the property's staff writes and resolves entries; the author or a supervisor deletes them.
HANDOVER_NOTES = Table(
    name="handover_notes",
    columns=(
        Column(name="property_id", required=True, immutable=True),
        Column(name="author_id", required=True, immutable=True),
        Column(name="body", required=True, max_length=4000),
        Column(name="status", required=True, choices=("open", "resolved")),
        Column(name="resolved_by"),
        Column(name="resolved_at", kind="time"),
        Column(name="created_at", kind="time", required=True, immutable=True),
    ),
    read=in_properties(),
    write={
        "admin": ("create", "update", "delete"),
        "supervisor": ("create", "update", "delete"),
        "staff": ("create", "update", "delete_own"),
    },
    owner_column="author_id",
)

# A photo's metadata. Its bytes travel separately (tus, /uploads); the row never waits for them.
PHOTOS = Table(
    name="photos",
    columns=(
        Column(name="property_id", required=True, immutable=True),
        Column(
            name="record_table",
            required=True,
            immutable=True,
            choices=(
                "handover_notes",
                "rounds",
                "checkpoint_visits",
                "check_results",
                "rectification_orders",
                "tickets",
            ),
        ),
        Column(name="record_id", required=True, immutable=True, max_length=64),
        Column(name="uploaded_by", required=True, immutable=True),
        Column(name="taken_at", kind="time"),
        # the type found in the bytes (what the phone declared is in the upload's metadata)
        Column(name="content_type", max_length=100, writable=False),
        Column(name="note", max_length=2000),
        # pending (no bytes yet) -> uploaded (checked) -> ready (derivatives made) | rejected (see `rejection`)
        Column(name="status", writable=False),
        Column(name="width", kind="int", writable=False),
        Column(name="height", kind="int", writable=False),
        Column(name="purpose", choices=("before", "after", "evidence", "signature"), since=2),
        # what the server found in the bytes (sync/photos/)
        Column(name="sha256", writable=False, since=4),
        Column(name="size_bytes", kind="int", writable=False, since=4),
        Column(name="captured_at", kind="time", writable=False, since=4),
        Column(name="gps_lat", kind="float", writable=False, since=4),
        Column(name="gps_lon", kind="float", writable=False, since=4),
        Column(name="device_model", writable=False, since=4),
        Column(name="rejection", writable=False, since=4),
        Column(name="rejection_en", writable=False, since=4),
        Column(name="rejection_zh", writable=False, since=4),
        # the household whose owners see it too (a ticket's before and after photos: the service desk sets it)
        Column(name="owner_unit_id", writable=False, since=6),
    ),
    read={
        **in_properties(),
        "owner": AnyOf((Visible("uploaded_by", "self"), Visible("owner_unit_id", "units"))),
    },
    write={
        "admin": ("create", "update", "delete"),
        "supervisor": ("create", "update", "delete"),
        "staff": ("create", "update_own", "delete_own"),
        "owner": ("create", "update_own", "delete_own"),
    },
    owner_column="uploaded_by",
)

# A person's in-app notifications (core.notifications delivers them). Each user sees only their own; the
# phone may only mark one read.
_EVERYONE = ROLES

INBOX = Table(
    name="inbox",
    columns=(
        Column(name="user_id", required=True, writable=False),
        Column(name="notification_id", required=True, writable=False),
        Column(name="kind", required=True, writable=False),
        Column(name="title_zh", required=True, writable=False),
        Column(name="title_en", required=True, writable=False),
        Column(name="body_zh", writable=False),
        Column(name="body_en", writable=False),
        Column(name="property_id", writable=False),
        Column(name="record_table", writable=False),
        Column(name="record_id", writable=False),
        Column(name="created_at", kind="time", required=True, writable=False),
        Column(name="read_at", kind="time"),
    ),
    read={role: Visible("user_id", "self") for role in _EVERYONE},
    write={role: ("update_own",) for role in _EVERYONE},
    owner_column="user_id",
    since=3,
)

# The kernel's synced tables; the domain packages add theirs through their plug-ins (sync.plugins).
TABLES: tuple[Table, ...] = (PROPERTIES, BUILDINGS, UNITS, HANDOVER_NOTES, INBOX, PHOTOS)
