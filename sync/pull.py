"""Pull: every change in the caller's scope since their cursor, streamed in chunks.

The answer is built from one REPEATABLE READ snapshot. Its new cursor is that snapshot's xmin: every
transaction below it has finished, so rows stamped in [old cursor, new cursor) are exactly the changes this
pull owes, and a transaction that commits late (a lower xid committing after a higher one) is picked up by
the next pull instead of being skipped. Rows come from a server-side cursor a chunk at a time (the next chunk
is fetched while the last one is written) and are encoded with msgspec, so memory does not grow with the pull.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import asyncpg
import msgspec

from core.access import Caller
from core.db import acquire
from sync import repository as sql
from sync.catalog import Catalog
from sync.protocol import Migration
from sync.tables import Column, Table

log = logging.getLogger("fieldwork.sync.pull")

# rows per chunk written to the socket; bounds the memory one pull holds
CHUNK_ROWS = 2000

_encode = msgspec.json.Encoder().encode


class PullRequest(msgspec.Struct, frozen=True, kw_only=True):
    since: int | None
    schema_version: int  # the client's; the catalog's when it gives none
    migration: Migration | None = None


def migrated(request: PullRequest, tables: Sequence[Table]) -> tuple[set[str], dict[str, list[Column]]]:
    """Tables and columns a client migration added since its last sync: by the versions given, and by the
    names it lists (only names of this declaration count)."""
    migration = request.migration
    if migration is None or request.since is None:
        return set(), {}
    start, end = migration.from_version, request.schema_version
    listed = set(migration.tables)
    listed_columns = {(entry.table, name) for entry in migration.columns for name in entry.columns}
    new_tables = {t.name for t in tables if start < t.since <= end or t.name in listed}
    new_columns = {
        t.name: [c for c in t.columns if c.since <= end and (start < c.since or (t.name, c.name) in listed_columns)]
        for t in tables
        if t.name not in new_tables
    }
    return new_tables, {name: columns for name, columns in new_columns.items() if columns}


def empty_answer(cursor: int, tables: Sequence[Table]) -> bytes:
    body = ",".join(f'"{t.name}":{{"created":[],"updated":[],"deleted":[]}}' for t in tables)
    return f'{{"timestamp":{cursor},"changes":{{{body}}}}}'.encode()


async def answer_if_quiet(
    conn: asyncpg.Connection, catalog: Catalog, caller: Caller, request: PullRequest
) -> bytes | None:
    """The whole answer when nothing changed for the org since the cursor (the common case of a phone
    polling): one statement, no transaction. None means: stream a full look."""
    if request.since is None or request.migration is not None:
        return None
    tables = catalog.tables_for(request.schema_version)
    cursor = await sql.quiet_since(conn, caller.org_id, caller.user_id, request.since, tables)
    return None if cursor is None else empty_answer(cursor, tables)


async def stream(pool: asyncpg.Pool, catalog: Catalog, caller: Caller, request: PullRequest) -> AsyncIterator[bytes]:
    version = min(request.schema_version, catalog.version)
    tables = catalog.tables_for(version)
    new_tables, new_columns = migrated(request, tables)
    rows = 0
    async with acquire(pool) as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        cursor, horizon = await sql.snapshot_cursor(conn)
        since = request.since
        full = since is None or since < horizon or since > cursor
        new = await sql.grants_at(conn, caller.org_id, caller.user_id, cursor)
        old = None if full or since is None else await sql.grants_at(conn, caller.org_id, caller.user_id, since)
        window = sql.Window(caller.org_id, caller.session_id, since, cursor, old, new)
        strategy = ',"experimentalStrategy":"replacement"' if full and since is not None else ""
        yield f'{{"timestamp":{cursor}{strategy},"changes":{{'.encode()
        for index, table in enumerate(tables):
            yield ("," if index else "").encode() + f'"{table.name}":{{'.encode()
            if full or table.name in new_tables:
                queries = {"created": sql.full_query(table, window, version)}
            else:
                queries = sql.incremental_queries(table, window, version, new_columns.get(table.name, []))
            for position, section in enumerate(("created", "updated", "deleted")):
                yield f'{"," if position else ""}"{section}":['.encode()
                if section in queries:
                    query, args = queries[section]
                    encode = _encode_ids if section == "deleted" else _record_encoder(table, version)
                    async for chunk in _chunks(conn, query, args, encode):
                        rows += chunk.count
                        yield chunk.data
                yield b"]"
            yield b"}"
        yield b"}}"
    log.info(
        "pull user=%s since=%s cursor=%s rows=%d%s", caller.user_id, since, cursor, rows, " (full)" if full else ""
    )


class _Chunk(msgspec.Struct):
    data: bytes
    count: int


def _encode_ids(rows: list[Any]) -> bytes:
    return _encode([row[0] for row in rows])


def _record_encoder(table: Table, version: int) -> Callable[[list[Any]], bytes]:
    """Rows (id, then the wire columns in declared order) to a JSON array of records."""
    return _rows_encoder(table.name, tuple(c.name for c in sql.wire_columns(table, version)))


@functools.cache
def _rows_encoder(table_name: str, columns: tuple[str, ...]) -> Callable[[list[Any]], bytes]:
    record = msgspec.defstruct(f"Pulled_{table_name}", [(name, Any) for name in ("id", *columns)])

    def encode(rows: list[Any]) -> bytes:
        return _encode([record(*row) for row in rows])

    return encode


async def _chunks(
    conn: asyncpg.Connection, query: str, args: list[object], encode: Callable[[list[Any]], bytes]
) -> AsyncIterator[_Chunk]:
    """Encoded chunks of a query's rows, comma-joined across chunks; the next chunk is fetched from
    PostgreSQL while the caller writes this one to the socket."""
    cursor = await conn.cursor(query, *args)
    pending: asyncio.Future[list[Any]] | None = asyncio.ensure_future(cursor.fetch(CHUNK_ROWS))
    first = True
    try:
        while pending is not None:
            rows = await pending
            pending = asyncio.ensure_future(cursor.fetch(CHUNK_ROWS)) if len(rows) == CHUNK_ROWS else None
            if rows:
                body = encode(rows)[1:-1]
                yield _Chunk(body if first else b"," + body, len(rows))
                first = False
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await pending
