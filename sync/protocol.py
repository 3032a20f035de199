"""The wire shapes of sync (WatermelonDB's, plus what our answers add)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from core.structs import Struct

# WatermelonDB ids are [a-zA-Z0-9]{16}; `_-.` are safe too. Nothing that could break a path or a query.
RecordId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="1-64 of A-Z a-z 0-9 _ - .")]
Cursor = Annotated[int, Meta(gt=0, description="the `timestamp` of a previous pull")]


class TableChanges(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    created: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    deleted: list[RecordId] = []


class PullAnswer(Struct):
    """What GET /sync/pull answers (streamed). `experimentalStrategy` appears only on a full re-sync."""

    timestamp: int
    changes: dict[str, TableChanges]
    experimentalStrategy: Literal["replacement"] | None = None  # WatermelonDB's name


class MigrationColumns(msgspec.Struct, kw_only=True):
    table: str
    columns: list[str] = []


class Migration(msgspec.Struct, kw_only=True):
    """What WatermelonDB sends after a local schema migration."""

    from_version: int = msgspec.field(name="from")
    tables: list[str] = []
    columns: list[MigrationColumns] = []


class Rejection(Struct):
    table: str
    id: str
    reason: Literal["changed_on_server", "deleted_on_server"]


class Applied(Struct):
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0


class PushAnswer(Struct):
    """`experimentalRejectedIds` lists, per table, the records not applied because they changed (or were
    deleted) on the server after `last_pulled_at`: WatermelonDB keeps them unsynced, pulls, and pushes
    them again. Everything else in the push was applied, in one transaction."""

    experimentalRejectedIds: dict[str, list[str]]  # WatermelonDB's name
    rejected: list[Rejection]
    applied: dict[str, Applied]
    replayed: bool = False


class SchemaColumn(Struct):
    name: str
    type: Literal["string", "number", "boolean"]
    kind: str
    required: bool
    writable: bool
    immutable: bool
    choices: list[str]
    since: int


class SchemaTable(Struct):
    name: str
    since: int
    columns: list[SchemaColumn]
    readable: bool
    writes: list[str]


class SchemaDoc(Struct):
    """The sync declaration as the caller's role sees it."""

    version: int
    tables: list[SchemaTable]
