"""The asyncpg pool (codecs set once) and the transaction helper."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Mapping
from typing import Any, TypeVar, cast

import asyncpg
import msgspec

from core.errors import Conflict, DomainError, NotFound, Unavailable
from core.outages import RETRY_AFTER

T = TypeVar("T")

_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.Decoder().decode


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(
            kind,
            schema="pg_catalog",
            encoder=lambda value: _json_encode(value).decode(),
            decoder=_json_decode,
            format="text",
        )


# Seconds to open one connection: the server answers at once when it is up or refused; longer means it is
# unreachable, and a request is better answered 503 than held (asyncpg's own default is 60).
CONNECT_TIMEOUT = 5


async def _connect_or_unavailable(*args: Any, **kwargs: Any) -> asyncpg.Connection:
    """asyncpg.connect for the pool: a server that cannot be reached is Unavailable, whatever the socket said
    (refused, no such socket file, a timeout, a name that does not resolve)."""
    try:
        return await asyncpg.connect(*args, **kwargs)
    except OSError as exc:  # TimeoutError and socket.gaierror are OSErrors too
        raise Unavailable(
            "the database cannot be reached; try again shortly", dependency="PostgreSQL", retry_after=RETRY_AFTER
        ) from exc


async def create_pool(url: str, *, size: int = 10) -> asyncpg.Pool:
    """A pool that outlives server restarts: a connection the server closed is replaced when next acquired,
    and acquiring one while the server is down raises Unavailable (or CannotConnectNowError while it starts)."""
    pool = await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=size,
        init=_init_connection,
        connect=_connect_or_unavailable,
        timeout=CONNECT_TIMEOUT,
        server_settings={"timezone": "UTC", "application_name": "fieldwork"},
    )
    assert pool is not None
    return pool


async def connect(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url, server_settings={"timezone": "UTC", "application_name": "fieldwork"})
    await _init_connection(conn)
    return conn


@contextlib.asynccontextmanager
async def acquire(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the pool, outside any transaction (reads of one statement each)."""
    async with pool.acquire() as conn:
        yield cast(asyncpg.Connection, conn)  # a pool's connection proxy behaves as the connection


@contextlib.asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside one transaction: commits on success, rolls back on any exception except a
    DomainError raised with keep_changes=True."""
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            yield cast(asyncpg.Connection, conn)  # a pool's connection proxy behaves as the connection
        except DomainError as exc:
            if not conn.is_closed():
                await (tx.commit() if exc.keep_changes else tx.rollback())
            raise
        except BaseException:
            # a connection the server dropped has no transaction left to roll back; trying would replace the
            # error that says so (ConnectionDoesNotExistError) with "the connection is closed"
            if not conn.is_closed():
                await tx.rollback()
            raise
        await tx.commit()


def changes_of(update: object) -> dict[str, object]:
    """The fields of an Update Struct that were given (not UNSET)."""
    import msgspec

    return {
        name: value
        for name in update.__struct_fields__  # type: ignore[attr-defined]
        if (value := getattr(update, name)) is not msgspec.UNSET
    }


async def update_row(
    conn: asyncpg.Connection,
    table: str,
    *,
    org_id: str,
    row_id: str,
    changes: dict[str, object],
    returning: str,
) -> asyncpg.Record:
    """UPDATE one tenant row by (org_id, id) and return `returning` of it; NotFound if the row is gone.
    Table and column names come from our own Structs and repositories, never from a request."""
    columns = list(changes)
    assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(columns, start=3))
    row = await conn.fetchrow(
        f"UPDATE {table} SET {assignments}, updated_at = now() WHERE org_id = $1 AND id = $2 RETURNING {returning}",
        org_id,
        row_id,
        *changes.values(),
    )
    if row is None:
        raise NotFound(f"{row_id} was not found; it may have just been deleted", entity=table, id=row_id)
    return row


async def set_columns(
    conn: asyncpg.Connection, table: str, org_id: str, row_id: str, changes: Mapping[str, object]
) -> None:
    """UPDATE columns of one tenant row (names from our own code, never from a request); nothing to change: no-op."""
    if not changes:
        return
    assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changes, start=3))
    await conn.execute(
        f"UPDATE {table} SET {assignments} WHERE org_id = $1 AND id = $2", org_id, row_id, *changes.values()
    )


async def insert_row(
    conn: asyncpg.Connection, table: str, values: Mapping[str, object], *, tail: str = ""
) -> asyncpg.Record | None:
    """INSERT one row of `values` followed by `tail` (ON CONFLICT …, RETURNING …); the row RETURNING gave, if
    any. Table and column names come from our own code, never from a request."""
    names = ", ".join(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    row: asyncpg.Record | None = await conn.fetchrow(
        f"INSERT INTO {table} ({names}) VALUES ({placeholders}) {tail}", *values.values()
    )
    return row


async def insert_returning(conn: asyncpg.Connection, query: str, *args: Any) -> asyncpg.Record:
    """Run an INSERT … RETURNING that always yields its row."""
    row = await conn.fetchrow(query, *args)
    assert row is not None, "INSERT … RETURNING gave no row"
    return row


async def unique_or_conflict(operation: Awaitable[T], message: str, field: str) -> T:
    """Run an INSERT/UPDATE; a unique-constraint violation becomes a Conflict naming the field."""
    try:
        return await operation
    except asyncpg.UniqueViolationError:
        raise Conflict(message, field=field) from None
