"""Sync use cases for the edges: reading pull parameters, the caller's grants now, the schema document."""

from __future__ import annotations

import asyncpg
import msgspec

from core import jsontext
from core.access import Caller
from core.errors import BadRequest
from sync import repository as sql
from sync.catalog import Catalog
from sync.protocol import Migration, SchemaColumn, SchemaDoc, SchemaTable
from sync.pull import PullRequest
from sync.scope import Grants

# a cursor far beyond any xid PostgreSQL will hand out (and within JavaScript's safe integers)
MAX_CURSOR = 2**53 - 1


def read_cursor(value: str | None, name: str, *, optional: bool) -> int | None:
    """A cursor as WatermelonDB sends it: an integer > 0; for a first pull also `null`, nothing or 0."""
    if value in (None, "", "null", "undefined", "0") and optional:
        return None
    try:
        cursor = int(value or "")
    except ValueError:
        raise BadRequest(f"{name} must be the integer timestamp of a previous pull", parameter=name) from None
    if not 0 < cursor <= MAX_CURSOR:
        raise BadRequest(f"{name} must be between 1 and {MAX_CURSOR}", parameter=name)
    return cursor


_migration = msgspec.json.Decoder(Migration)


def pull_request(
    catalog: Catalog, last_pulled_at: str | None, schema_version: int | None, migration: str | None
) -> PullRequest:
    version = catalog.version if schema_version is None else schema_version
    if version < 1:
        raise BadRequest("schema_version must be 1 or more", parameter="schema_version")
    parsed = None
    if migration not in (None, "", "null"):
        try:
            parsed = jsontext.decode(migration or "", _migration)
        except msgspec.DecodeError as exc:
            raise BadRequest(
                f"migration must be WatermelonDB's migration object: {exc}", parameter="migration"
            ) from None
    return PullRequest(
        since=read_cursor(last_pulled_at, "last_pulled_at", optional=True),
        schema_version=version,
        migration=parsed,
    )


async def grants_now(conn: asyncpg.Connection, caller: Caller) -> Grants:
    """What the caller holds now (pushes are checked against the present, not a cursor)."""
    return await sql.grants_at(conn, caller.org_id, caller.user_id, MAX_CURSOR)


def schema_for(catalog: Catalog, role: str) -> SchemaDoc:
    return SchemaDoc(
        version=catalog.version,
        tables=[
            SchemaTable(
                name=table.name,
                since=table.since,
                readable=role in table.read,
                writes=list(table.write.get(role, ())),
                columns=[
                    SchemaColumn(
                        name=c.name,
                        type=c.wire_type,  # type: ignore[arg-type]
                        kind=c.kind,
                        required=c.required,
                        writable=c.writable,
                        immutable=c.immutable,
                        choices=list(c.choices),
                        since=c.since,
                    )
                    for c in table.columns
                ],
            )
            for table in catalog.tables
        ],
    )
