"""All of sync's SQL. Cursors are xid8 values; they cross the wire as integers and enter SQL as bigint."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import asyncpg

from sync.scope import Grants, Params, grants_from, live_column, predicate, tombstone_column
from sync.tables import Column, Table


def xid8(placeholder: str) -> str:
    """A bigint parameter as an xid8 (there is no direct cast)."""
    return f"({placeholder}::bigint)::text::xid8"


def wire_value(column: Column, ref: str) -> str:
    """SQL giving the wire form of a column: times in epoch milliseconds, JSON as its text."""
    if column.kind == "time":
        return f"(date_part('epoch', {ref}) * 1000)::int8"
    if column.kind == "float":
        return f"{ref}::float8"
    if column.kind == "json":
        return f"{ref}::text"
    return ref


def wire_columns(table: Table, version: int) -> list[Column]:
    """The columns a client at `version` knows, in the order pulls select them (after `id`)."""
    return [c for c in table.columns if c.since <= version]


def record_select(table: Table, version: int) -> str:
    return ", ".join(["t.id", *(wire_value(c, live_column(c.name)) for c in wire_columns(table, version))])


def non_default(column: Column) -> str:
    """True where a column added by a client migration holds what the migrated phone does not have.

    WatermelonDB fills an added column with null when the app declares it optional (every column not `required`
    here: the server may hold null there), else with 0, '' or false: a row whose value is that needs no update."""
    ref = live_column(column.name)
    if not column.required:
        return f"{ref} IS NOT NULL"
    if column.kind in ("int", "float"):
        return f"coalesce({ref}, 0) <> 0"
    if column.kind == "bool":
        return f"coalesce({ref}, false)"
    if column.kind == "text":
        return f"coalesce({ref}, '') <> ''"
    return f"{ref} IS NOT NULL"


# --- cursors and grants -------------------------------------------------------------------------------


async def quiet_since(
    conn: asyncpg.Connection, org_id: str, user_id: str, since: int, tables: Sequence[Table]
) -> int | None:
    """The cursor now, if nothing at all was written for this org (and no grant of the user changed) at or
    after `since`; None when a full look is needed. One statement, so one snapshot."""
    since_xid = xid8("$3")
    checks = [
        "EXISTS (SELECT 1 FROM sync_scope_events WHERE org_id = $1 AND user_id = $2 AND xid >= " + since_xid + ")",
        "(SELECT horizon FROM sync_state) > " + since_xid,
    ]
    for table in tables:
        checks.append(f"EXISTS (SELECT 1 FROM {table.name} WHERE org_id = $1 AND sync_xid >= {since_xid})")
        checks.append(
            "EXISTS (SELECT 1 FROM sync_tombstones WHERE org_id = $1 AND table_name = "
            f"'{table.name}' AND xid >= {since_xid})"
        )
    row = await conn.fetchrow(
        f"SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS cursor, ({' OR '.join(checks)}) AS busy",
        org_id,
        user_id,
        since,
    )
    assert row is not None
    return None if row["busy"] or since > row["cursor"] else int(row["cursor"])


async def snapshot_cursor(conn: asyncpg.Connection) -> tuple[int, int]:
    """The new cursor (the snapshot's xmin) and the tombstone horizon, read as the transaction's first statement."""
    row = await conn.fetchrow(
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS cursor, "
        "(SELECT horizon FROM sync_state)::text::bigint AS horizon"
    )
    assert row is not None
    return int(row["cursor"]), int(row["horizon"])


async def grants_at(conn: asyncpg.Connection, org_id: str, user_id: str, cursor: int) -> Grants:
    """What the user held at `cursor`: the grant events below it, replayed. Every transaction below a cursor
    has finished, so the answer never changes once a cursor has been handed out."""
    below = xid8("$3")
    rows = await conn.fetch(
        f"""
        SELECT kind, value FROM (
            SELECT DISTINCT ON (kind, value) kind, value, added FROM sync_scope_events
            WHERE org_id = $1 AND user_id = $2 AND xid < {below}
            ORDER BY kind, value, xid DESC, seq DESC
        ) AS latest WHERE added
        """,
        org_id,
        user_id,
        cursor,
    )
    pairs = [(r["kind"], r["value"]) for r in rows]
    units = [value for kind, value in pairs if kind == "unit"]
    places = []
    if units:
        places = [
            (r["id"], r["building_id"], r["property_id"])
            for r in await conn.fetch(
                "SELECT id, building_id, property_id FROM units WHERE org_id = $1 AND id = ANY($2::text[])",
                org_id,
                units,
            )
        ]
    return grants_from(user_id, pairs, places)


# --- pull ---------------------------------------------------------------------------------------------


class Window:
    """The part of a pull that is the same for every table: who, which cursors, which grants."""

    def __init__(self, org_id: str, session_id: str, since: int | None, cursor: int, old: Grants | None, new: Grants):
        self.org_id, self.session_id, self.since, self.cursor = org_id, session_id, since, cursor
        self.old, self.new = old, new


def full_query(table: Table, window: Window, version: int) -> tuple[str, list[Any]]:
    params = Params()
    org = params.add(window.org_id)
    visible = predicate(window.new, table, params)
    sql = f"SELECT {record_select(table, version)} FROM {table.name} AS t WHERE t.org_id = {org} AND {visible}"
    return sql, params.values


def incremental_queries(
    table: Table, window: Window, version: int, added_columns: Sequence[Column]
) -> dict[str, tuple[str, list[Any]]]:
    """created / updated / deleted since the window's `since`, for its new grants.

    - changed: written in [since, cursor) by anyone but this session (no echo);
    - created: changed rows first made in the window (not by this session), and rows the grants newly reveal;
    - updated: the other changed rows, and rows holding values in columns a client migration just added;
    - deleted: tombstones in the window the device could have seen, and rows the grants no longer reveal,
      unless the row is visible now.
    """
    assert window.since is not None and window.old is not None
    old, new = window.old, window.new
    moved = not new.same_view(old, table)
    body = record_select(table, version)

    def common(params: Params) -> tuple[str, str, str, str]:
        org, since, cursor, me = (
            params.add(v) for v in (window.org_id, window.since, window.cursor, window.session_id)
        )
        return org, xid8(since), xid8(cursor), me

    def rows(params: Params, section: str) -> str:
        org, since, cursor, me = common(params)
        changed = f"t.sync_xid >= {since} AND t.sync_xid < {cursor} AND t.sync_session IS DISTINCT FROM {me}"
        first_made = f"t.sync_created_xid >= {since} AND t.sync_created_session IS DISTINCT FROM {me}"
        revealed = f"NOT ({predicate(old, table, params)})" if moved else "false"
        arrived = "false"
        if table.movable:
            # moved here in the window from a view the caller does not hold (a round reassigned to them)
            arrived = (
                f"EXISTS (SELECT 1 FROM sync_tombstones AS tb WHERE tb.org_id = t.org_id AND tb.table_name = "
                f"'{table.name}' AND tb.id = t.id AND tb.xid >= {since} AND tb.xid < {cursor} "
                f"AND NOT ({predicate(new, table, params, tombstone_column)}))"
            )
        is_new = f"(({changed} AND {first_made}) OR {revealed} OR {arrived})"
        base = f"SELECT {body} FROM {table.name} AS t WHERE t.org_id = {org} AND {predicate(new, table, params)}"
        if section == "created":
            return f"{base} AND {is_new}"
        wanted = " OR ".join([changed, *(non_default(c) for c in added_columns)])
        return f"{base} AND NOT {is_new} AND ({wanted})"

    def deleted(params: Params) -> str:
        org, since, cursor, me = common(params)
        could_see = " OR ".join(f"({predicate(g, table, params, tombstone_column)})" for g in (old, new))
        visible = predicate(new, table, params)
        query = f"""
            SELECT DISTINCT tb.id FROM sync_tombstones AS tb
            WHERE tb.org_id = {org} AND tb.table_name = '{table.name}' AND tb.xid >= {since} AND tb.xid < {cursor}
              AND tb.session IS DISTINCT FROM {me} AND ({could_see})
              AND NOT EXISTS (
                  SELECT 1 FROM {table.name} AS t WHERE t.org_id = tb.org_id AND t.id = tb.id AND {visible})
        """
        if moved:
            query += (
                f"UNION SELECT t.id FROM {table.name} AS t "
                f"WHERE t.org_id = {org} AND {predicate(old, table, params)} AND NOT {visible}"
            )
        return query

    queries = {}
    for section in ("created", "updated", "deleted"):
        params = Params()
        text = deleted(params) if section == "deleted" else rows(params, section)
        queries[section] = (text, params.values)
    return queries


# --- push ---------------------------------------------------------------------------------------------

SQL_ARRAY = {
    "text": "text[]",
    "int": "int8[]",
    "float": "float8[]",
    "bool": "bool[]",
    "time": "float8[]",
    "json": "text[]",
}


def stored_value(column: Column, ref: str) -> str:
    """SQL turning a pushed wire value back into the stored type."""
    if column.kind == "time":
        return f"to_timestamp({ref} / 1000.0)"
    if column.kind == "json":
        return f"{ref}::jsonb"
    return ref


async def start_push(
    conn: asyncpg.Connection, org_id: str, user_id: str, session_id: str, now: datetime | None = None
) -> int:
    """Pushes of one user run one at a time (two devices, or a retry racing its own first attempt), and rows
    written from here to the commit are stamped with the pushing session (no echo on its pulls). `now`: the
    app's clock, which the database's `fieldwork_now()` answers until the commit (a column defaulting to it is
    the moment the record reached the server, as the app's clock tells it). Returns the next transaction id: no
    cursor handed out so far can be above it."""
    ceiling = await conn.fetchval(
        "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint FROM "
        "(SELECT pg_advisory_xact_lock(hashtextextended($1, 0)), set_config('fieldwork.session', $2, true), "
        "set_config('fieldwork.now', $3, true)) AS s",
        f"sync-push:{org_id}:{user_id}",
        session_id,
        now.isoformat() if now is not None else "",
    )
    return int(ceiling)


async def end_device_writes(conn: asyncpg.Connection) -> None:
    """Rows written from here to the commit are the server's: every device gets them, the pushing one too."""
    await conn.execute("SELECT set_config('fieldwork.session', '', true)")


async def stored_answer(conn: asyncpg.Connection, org_id: str, session_id: str, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT body_hash, answer FROM sync_pushes WHERE org_id = $1 AND session_id = $2 AND key = $3",
        org_id,
        session_id,
        key,
    )


async def store_answer(
    conn: asyncpg.Connection, org_id: str, session_id: str, key: str, body_hash: str, answer: object
) -> None:
    await conn.execute(
        "INSERT INTO sync_pushes (org_id, session_id, key, body_hash, answer) VALUES ($1, $2, $3, $4, $5)",
        org_id,
        session_id,
        key,
        body_hash,
        answer,
    )


async def existing_rows(
    conn: asyncpg.Connection, table: Table, org_id: str, ids: list[str]
) -> dict[str, dict[str, Any]]:
    """The rows a push touches, locked, in wire form, with their change stamps."""
    columns = ", ".join(f"{wire_value(c, live_column(c.name))} AS {c.name}" for c in table.columns)
    rows = await conn.fetch(
        f"SELECT t.id, {columns}, t.sync_xid::text::bigint AS sync_xid, t.sync_session "
        f"FROM {table.name} AS t WHERE t.org_id = $1 AND t.id = ANY($2::text[]) FOR UPDATE",
        org_id,
        ids,
    )
    return {row["id"]: dict(row) for row in rows}


async def last_deletions(
    conn: asyncpg.Connection, table: Table, org_id: str, ids: list[str]
) -> dict[str, tuple[int, str | None]]:
    """id -> (xid, session) of the newest tombstone of each id that has one."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT ON (id) id, xid::text::bigint AS xid, session FROM sync_tombstones
        WHERE org_id = $1 AND table_name = $2 AND id = ANY($3::text[]) ORDER BY id, xid DESC
        """,
        org_id,
        table.name,
        ids,
    )
    return {row["id"]: (int(row["xid"]), row["session"]) for row in rows}


async def existing_property_ids(conn: asyncpg.Connection, org_id: str, ids: list[str]) -> set[str]:
    rows = await conn.fetch("SELECT id FROM properties WHERE org_id = $1 AND id = ANY($2::text[])", org_id, ids)
    return {row["id"] for row in rows}


def _unnest(columns: Sequence[Column], params: Params, records: Sequence[dict[str, Any]]) -> str:
    arrays = [f"{params.add([r['id'] for r in records])}::text[]"]
    arrays += [f"{params.add([r.get(c.name) for r in records])}::{SQL_ARRAY[c.kind]}" for c in columns]
    names = ", ".join(["id", *(c.name for c in columns)])
    return f"unnest({', '.join(arrays)}) AS v({names})"


async def copy_new_records(
    conn: asyncpg.Connection, table: Table, org_id: str, columns: Sequence[Column], records: Sequence[dict[str, Any]]
) -> bool:
    """COPY records that should all be new; False, with nothing written, when one of the ids exists already
    (the caller then inserts them one statement at a time, skipping those). About twice as fast as INSERT."""
    if any(c.kind == "json" for c in columns):
        return False  # the jsonb codec is text-only; COPY speaks binary
    names = ["org_id", "id", *(c.name for c in columns)]
    echo = any(not c.writable for c in table.columns)
    if echo:
        names.append("sync_session")  # see insert_records
    # records of one group carry the same columns; only times need converting
    take = itemgetter(*(c.name for c in columns)) if len(columns) > 1 else lambda r: tuple(r[c.name] for c in columns)
    times = [i + 2 for i, c in enumerate(columns) if c.kind == "time"]  # positions after org_id and id
    extra = (None,) if echo else ()
    rows = []
    for record in records:
        row = [org_id, record["id"], *take(record), *extra]
        for i in times:
            if row[i] is not None:
                row[i] = datetime.fromtimestamp(row[i] / 1000, UTC)
        rows.append(row)
    try:
        async with conn.transaction():  # a savepoint: a clash undoes only this
            await conn.copy_records_to_table(table.name, records=rows, columns=names)
    except asyncpg.UniqueViolationError:
        return False
    return True


async def insert_records(
    conn: asyncpg.Connection, table: Table, org_id: str, columns: Sequence[Column], records: Sequence[dict[str, Any]]
) -> set[str]:
    """Insert new records; returns the ids inserted (an id another writer created meanwhile is skipped).

    A table with server-owned columns (defaults the device did not send) echoes the new rows back to the
    pushing device: their stamp names no session, so its next pull brings the server's values."""
    params = Params()
    org = params.add(org_id)
    source = _unnest(columns, params, records)
    names = ", ".join(c.name for c in columns)
    values = ", ".join(stored_value(c, f"v.{c.name}") for c in columns)
    if any(not c.writable for c in table.columns):
        names, values = f"{names}, sync_session", f"{values}, NULL"
    rows = await conn.fetch(
        f"INSERT INTO {table.name} (org_id, id, {names}) SELECT {org}, v.id, {values} FROM {source} "
        "ON CONFLICT (org_id, id) DO NOTHING RETURNING id",
        *params.values,
    )
    return {row["id"] for row in rows}


async def update_records(
    conn: asyncpg.Connection, table: Table, org_id: str, columns: Sequence[Column], records: Sequence[dict[str, Any]]
) -> set[str]:
    """Update existing records with the given columns; returns the ids whose values actually changed."""
    params = Params()
    org = params.add(org_id)
    source = _unnest(columns, params, records)
    assignments = ", ".join(f"{c.name} = {stored_value(c, f'v.{c.name}')}" for c in columns)
    current = ", ".join(f"t.{c.name}" for c in columns)
    pushed = ", ".join(stored_value(c, f"v.{c.name}") for c in columns)
    rows = await conn.fetch(
        f"UPDATE {table.name} AS t SET {assignments} FROM {source} "
        f"WHERE t.org_id = {org} AND t.id = v.id AND ROW({current}) IS DISTINCT FROM ROW({pushed}) RETURNING t.id",
        *params.values,
    )
    return {row["id"] for row in rows}


async def delete_records(conn: asyncpg.Connection, table: Table, org_id: str, ids: list[str]) -> int:
    status = await conn.execute(f"DELETE FROM {table.name} WHERE org_id = $1 AND id = ANY($2::text[])", org_id, ids)
    return int(status.split()[-1])


# --- retention ----------------------------------------------------------------------------------------


async def prune(conn: asyncpg.Connection, *, before: Any, answers_before: Any) -> dict[str, int]:
    """Forget tombstones and superseded grant events older than `before`, and push answers older than
    `answers_before`. The horizon moves past everything older than `before`: a device whose cursor lies below
    it may have missed what was forgotten, so its next pull is a full re-sync."""
    row = await conn.fetchrow(
        """
        WITH top AS (
            SELECT max(xid) AS xid FROM (
                SELECT xid FROM sync_tombstones WHERE deleted_at < $1
                UNION ALL SELECT xid FROM sync_scope_events WHERE at < $1) AS old
        ),
        moved AS (
            UPDATE sync_state SET horizon = greatest(horizon, ((SELECT xid FROM top)::text::bigint + 1)::text::xid8)
            WHERE (SELECT xid FROM top) IS NOT NULL RETURNING 1
        ),
        tombstones AS (DELETE FROM sync_tombstones WHERE deleted_at < $1 RETURNING 1),
        events AS (
            DELETE FROM sync_scope_events AS e WHERE e.at < $1 AND EXISTS (
                SELECT 1 FROM sync_scope_events AS later
                WHERE later.org_id = e.org_id AND later.user_id = e.user_id AND later.kind = e.kind
                  AND later.value = e.value AND later.seq > e.seq AND later.at < $1)
            RETURNING 1
        ),
        answers AS (DELETE FROM sync_pushes WHERE at < $2 RETURNING 1)
        SELECT (SELECT count(*) FROM tombstones) AS tombstones, (SELECT count(*) FROM events) AS grant_events,
               (SELECT count(*) FROM answers) AS push_answers, (SELECT count(*) FROM moved) AS horizon_moved
        """,
        before,
        answers_before,
    )
    assert row is not None
    return {key: int(value) for key, value in dict(row).items()}


# --- after a restore ----------------------------------------------------------------------------------

_STAMPED_TABLES = """
    SELECT c.oid::regclass::text FROM pg_attribute AS a
      JOIN pg_class AS c ON c.oid = a.attrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace
     WHERE a.attname = 'sync_xid' AND NOT a.attisdropped AND c.relkind = 'r' AND n.nspname = current_schema()
     ORDER BY 1"""


async def restamp(conn: asyncpg.Connection) -> int:
    """Make a restored database's change stamps this server's (call inside a transaction); returns the new stamp.

    Stamps are transaction ids of the server the backup was taken on: on another server they say nothing, and
    where its counter is behind they lie in the future, so every edit of a restored record would be a conflict
    and no pull window would ever hold them. Every stamp becomes this transaction's id, the scope history keeps
    only each grant's latest event, and the horizon moves here: each device's next pull is a full replacement
    (its cursor is from before the restore), after which it syncs on as usual.
    """
    stamp = await conn.fetchval("SELECT pg_current_xact_id()::text::bigint")
    for (table,) in await conn.fetch(_STAMPED_TABLES):  # names from the catalogue, quoted by regclass::text
        # the touch trigger would keep the old creation stamp; nothing else may fire for a restamp either
        await conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        await conn.execute(
            f"UPDATE {table} SET sync_xid = pg_current_xact_id(), sync_created_xid = pg_current_xact_id()"
        )
        await conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    await conn.execute(
        """DELETE FROM sync_scope_events WHERE (org_id, user_id, seq) NOT IN (
               SELECT DISTINCT ON (org_id, user_id, kind, value) org_id, user_id, seq FROM sync_scope_events
                ORDER BY org_id, user_id, kind, value, xid DESC, seq DESC)"""
    )
    await conn.execute("UPDATE sync_scope_events SET xid = pg_current_xact_id()")
    await conn.execute("UPDATE sync_tombstones SET xid = pg_current_xact_id()")
    await conn.execute("UPDATE sync_state SET horizon = pg_current_xact_id()")
    return int(stamp)
