"""SQL about the database as a whole: its snapshot, its tables, its migration level."""

from __future__ import annotations

import asyncpg

_USER_RELATIONS = """
    SELECT c.oid::regclass::text AS name, c.relkind::text AS relkind
      FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
       AND n.nspname NOT LIKE 'pg\\_temp%' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
     ORDER BY 1"""


async def export_snapshot(conn: asyncpg.Connection) -> str:
    """The id of this (repeatable read) transaction's snapshot, for pg_dump --snapshot."""
    snapshot: str = await conn.fetchval("SELECT pg_export_snapshot()")
    return snapshot


async def server_version(conn: asyncpg.Connection) -> tuple[int, str]:
    """(major, full version) of the server."""
    number = int(await conn.fetchval("SHOW server_version_num"))
    return number // 10000, str(await conn.fetchval("SHOW server_version")).split()[0]


async def user_relations(conn: asyncpg.Connection) -> list[str]:
    """Tables, views and sequences outside the system schemas: none in an empty database."""
    return [r["name"] for r in await conn.fetch(_USER_RELATIONS)]


async def table_rows(conn: asyncpg.Connection) -> dict[str, int]:
    """Rows of every table (exact counts, in this transaction's snapshot)."""
    tables = [r["name"] for r in await conn.fetch(_USER_RELATIONS) if r["relkind"] == "r"]
    rows: dict[str, int] = {}
    for table in tables:  # names come from the catalogue, already quoted by regclass::text
        rows[table] = int(await conn.fetchval(f"SELECT count(*) FROM ONLY {table}"))
    return rows


async def has_table(conn: asyncpg.Connection, name: str) -> bool:
    return await conn.fetchval("SELECT to_regclass($1)", name) is not None


async def schema_version(conn: asyncpg.Connection) -> int:
    """The newest migration applied (0 before any)."""
    if not await has_table(conn, "schema_migrations"):
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))
