"""Migrations: each applied once, in a transaction, under an advisory lock; edited files refused."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.db import connect
from core.migrate import MigrationError, load_migrations, migrate
from tests.conftest import ROOT, scratch_database


@pytest.fixture
async def empty_database(servers):
    async with scratch_database(servers[0]) as url:
        yield url


async def applied(url: str) -> list[int]:
    conn = await connect(url)
    try:
        return [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")]
    finally:
        await conn.close()


async def test_two_migrators_at_once_apply_each_migration_once(empty_database):
    conns = [await connect(empty_database) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
    finally:
        for c in conns:
            await c.close()
    versions = [m.version for result in results for m in result]
    assert sorted(versions) == [m.version for m in load_migrations()]  # each applied by exactly one of them
    assert await applied(empty_database) == sorted(versions)


def test_two_fieldwork_migrate_processes_started_together(empty_database, tmp_path):
    env = {**os.environ, "DATABASE_URL": empty_database, "FIELDWORK_HOME": str(tmp_path)}
    env.pop("REDIS_URL", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cli", "migrate"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    said = sorted(out for out, _ in outputs)
    assert said[0].startswith("applied: 0001_places_people") or said[1].startswith("applied: 0001")
    assert "the database is up to date" in "".join(said)
    assert asyncio.run(applied(empty_database)) == [m.version for m in load_migrations()]


def write(directory: Path, name: str, sql: str) -> None:
    (directory / name).write_text(sql)


async def test_an_edited_migration_is_refused(empty_database, tmp_path):
    write(tmp_path, "0001_things.sql", "CREATE TABLE things (id int);")
    conn = await connect(empty_database)
    try:
        assert [m.name for m in await migrate(conn, load_migrations(tmp_path))] == ["things"]
        assert await migrate(conn, load_migrations(tmp_path)) == []  # nothing left to do
        write(tmp_path, "0001_things.sql", "CREATE TABLE things (id bigint);")
        with pytest.raises(MigrationError, match="edited after it was applied"):
            await migrate(conn, load_migrations(tmp_path))
    finally:
        await conn.close()


async def test_a_failing_migration_leaves_nothing_behind(empty_database, tmp_path):
    write(tmp_path, "0001_good.sql", "CREATE TABLE good (id int);")
    write(tmp_path, "0002_bad.sql", "CREATE TABLE half (id int); SELECT no_such_function();")
    conn = await connect(empty_database)
    try:
        with pytest.raises(Exception, match="no_such_function"):
            await migrate(conn, load_migrations(tmp_path))
        assert await conn.fetchval("SELECT to_regclass('half')") is None
        assert await conn.fetchval("SELECT to_regclass('good')") == "good"
    finally:
        await conn.close()
    assert await applied(empty_database) == [1]


def test_misnamed_files_are_refused(tmp_path):
    write(tmp_path, "1_oops.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_lowercase_name\.sql"):
        load_migrations(tmp_path)


async def test_tombstones_keep_the_columns_the_declaration_scopes_by(db):
    from bootstrap.domains import registry

    TABLES = registry().catalog.tables

    rows = await db.fetch(
        "SELECT c.relname AS table, encode(t.tgargs, 'escape') AS args FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname LIKE '%_sync_tombstone'"
    )
    kept = {r["table"]: tuple(a for a in r["args"].split("\\000") if a) for r in rows}
    assert kept == {table.name: table.scope_columns for table in TABLES}


async def test_every_movable_scope_column_leaves_a_tombstone_when_it_changes(db):
    from bootstrap.domains import registry

    TABLES = registry().catalog.tables

    rows = await db.fetch(
        "SELECT c.relname AS table, encode(t.tgargs, 'escape') AS args, "
        "(SELECT array_agg(a.attname::text) FROM pg_attribute a WHERE a.attrelid = t.tgrelid "
        " AND a.attnum = ANY(t.tgattr)) AS columns "
        "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname LIKE '%_sync_moved'"
    )
    moved = {r["table"]: (tuple(r["columns"]), tuple(a for a in r["args"].split("\\000") if a)) for r in rows}
    assert moved == {t.name: (t.movable, t.scope_columns) for t in TABLES if t.movable}
