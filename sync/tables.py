"""What syncs: every table, column, wire type, read scope and write rule, declared once.

Anything not declared here does not exist for a device: pulls never send it, pushes naming it are refused.
A table or column carries `since`, the client schema version that added it, for WatermelonDB migration pulls.
"""

from __future__ import annotations

from typing import Literal

import msgspec

# The client schema version of this declaration. Raise it when a table or column is added, and give the
# new table or column `since=<the new version>`.
SCHEMA_VERSION = 1

Kind = Literal["text", "int", "float", "bool", "time", "json"]
Role = Literal["admin", "supervisor", "staff", "owner"]
# The grants a caller holds, by dimension: properties (staff and supervisors: assigned; owners: of their
# units), buildings (owners: of their units), units (owners: linked), self (the caller's own user id).
Dimension = Literal["properties", "buildings", "units", "self"]

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
    kind: Kind = "text"
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
    dimension: Dimension


# Every row of the caller's org (admins).
ALL: Literal["all"] = "all"
Rule = Visible | Literal["all"]

WriteOp = Literal["create", "update", "delete", "delete_own", "update_own"]


class Table(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    columns: tuple[Column, ...]
    # who sees which rows: role -> rule (roles absent see nothing of this table)
    read: dict[str, Rule]
    # who may push what: role -> operations. *_own: only rows whose owner_column is the caller.
    write: dict[str, tuple[WriteOp, ...]] = {}
    # a create must name the caller here; it never changes afterwards
    owner_column: str | None = None
    since: int = 1

    def column(self, name: str) -> Column | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    @property
    def scope_columns(self) -> tuple[str, ...]:
        """The columns that decide who sees a row: kept on its tombstone when it is deleted."""
        columns = {rule.column for rule in self.read.values() if isinstance(rule, Visible)}
        return tuple(sorted(columns - {"id"}))


def _in_properties(column: str = "property_id") -> dict[str, Rule]:
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
    read={**_in_properties("id"), "owner": Visible("id", "properties")},
)

BUILDINGS = Table(
    name="buildings",
    columns=(
        Column(name="property_id", required=True, writable=False),
        Column(name="name", required=True, writable=False),
    ),
    read={**_in_properties(), "owner": Visible("id", "buildings")},
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
    read={**_in_properties(), "owner": Visible("id", "units")},
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
    read=_in_properties(),
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
        Column(name="record_table", required=True, immutable=True, choices=("handover_notes",)),
        Column(name="record_id", required=True, immutable=True, max_length=64),
        Column(name="uploaded_by", required=True, immutable=True),
        Column(name="taken_at", kind="time"),
        Column(name="content_type", max_length=100),
        Column(name="note", max_length=2000),
        Column(name="status", writable=False),
        Column(name="width", kind="int", writable=False),
        Column(name="height", kind="int", writable=False),
    ),
    read={**_in_properties(), "owner": Visible("uploaded_by", "self")},
    write={
        "admin": ("create", "update", "delete"),
        "supervisor": ("create", "update", "delete"),
        "staff": ("create", "update_own", "delete_own"),
        "owner": ("create", "update_own", "delete_own"),
    },
    owner_column="uploaded_by",
)

TABLES: tuple[Table, ...] = (PROPERTIES, BUILDINGS, UNITS, HANDOVER_NOTES, PHOTOS)
BY_NAME: dict[str, Table] = {table.name: table for table in TABLES}
