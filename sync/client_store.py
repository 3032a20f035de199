"""The reference client's local database: WatermelonDB's raw records (`_status`, `_changed`) in stdlib sqlite3.

Built from the document `GET /sync/schema` serves and kept in the file, so an app restarts offline. Remote changes
are applied with WatermelonDB's rules (src/sync/impl/applyRemote.js, helpers.js): local edits win per column.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import secrets
import sqlite3
import string
from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta

log = logging.getLogger("fieldwork.sync.client")

Raw = dict[str, Any]
# {table: {"created": [raw], "updated": [raw], "deleted": [id]}}, as WatermelonDB's pushChanges receives it
Changes = dict[str, dict[str, list[Any]]]
# Names are put in SQL, so a hostile or broken server must not be able to name anything else.
Name = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,62}$")]

_ID_CHARACTERS = string.ascii_letters + string.digits
_SQL_TYPE = {"text": "TEXT", "int": "INTEGER", "float": "REAL", "bool": "INTEGER", "time": "INTEGER", "json": "TEXT"}
_KIND_OF_TYPE = {"string": "text", "number": "float", "boolean": "bool"}
# WatermelonDB's empty value for a non-optional column that got a null or a value of the wrong type
_EMPTY = {"string": "", "number": 0, "boolean": False}


class SyncError(Exception):
    """The server said something the protocol does not allow, or the local store cannot do what was asked."""


class ColumnSchema(msgspec.Struct, frozen=True, kw_only=True):
    name: Name
    type: Literal["string", "number", "boolean"]
    kind: Literal["text", "int", "float", "bool", "time", "json"] | None = None
    # required maps to WatermelonDB's non-optional: a bad remote value becomes '' / 0 / false, not null
    required: bool = False
    writable: bool = True
    immutable: bool = False
    since: int = 1

    @property
    def sql_type(self) -> str:
        return _SQL_TYPE[self.kind or _KIND_OF_TYPE[self.type]]


class TableSchema(msgspec.Struct, frozen=True, kw_only=True):
    name: Name
    columns: tuple[ColumnSchema, ...]
    since: int = 1

    def __post_init__(self) -> None:
        names = [column.name for column in self.columns]
        if "id" in names or len(set(names)) != len(names):
            raise ValueError(f"table {self.name} declares `id` or a column twice")


class Schema(msgspec.Struct, frozen=True, kw_only=True):
    version: Annotated[int, Meta(ge=1)]
    tables: tuple[TableSchema, ...]


class TableChanges(msgspec.Struct, kw_only=True):
    created: list[dict[str, Any]]
    updated: list[dict[str, Any]]
    deleted: list[str]


class PullStrategy(msgspec.Struct, kw_only=True):
    default: str
    override: dict[str, str] = {}


class PullAnswer(msgspec.Struct, kw_only=True, rename={"strategy": "experimentalStrategy"}):
    timestamp: Annotated[int, Meta(gt=0)]
    changes: dict[str, TableChanges]
    strategy: str | PullStrategy | None = None


class Pulled(msgspec.Struct, frozen=True, kw_only=True):
    """What one pull brought (records of tables this store knows)."""

    timestamp: int
    created: int = 0
    updated: int = 0
    deleted: int = 0
    replacement: bool = False

    @property
    def total(self) -> int:
        return self.created + self.updated + self.deleted


class Outbox(msgspec.Struct, frozen=True, kw_only=True):
    """A push sent (or about to be) and not yet answered: resent byte for byte until it is."""

    key: str
    last_pulled_at: int
    body: bytes

    def changes(self) -> Changes:
        changes: Changes = msgspec.json.decode(self.body)["changes"]
        return changes


_UNCHECKED: Final[Any] = object()


def _convert(kind: type[Any], value: Any, what: str) -> Any:
    if isinstance(value, kind):
        return value
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as error:
        raise SyncError(f"invalid {what}: {error}") from error


def new_id() -> str:
    return "".join(secrets.choice(_ID_CHARACTERS) for _ in range(16))


def _sanitized(column: ColumnSchema, value: Any) -> Any:
    """A remote value as WatermelonDB's sanitizedRaw keeps it: wrong types become null (or empty if required)."""
    if column.type == "string" and isinstance(value, str):
        return value
    if column.type == "boolean" and (isinstance(value, bool) or value in (0, 1)) and not isinstance(value, str):
        return bool(value)
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if column.type == "number" and is_number and math.isfinite(value):
        return value
    if value is not None or column.required:
        log.warning("remote %s %r for column %s replaced by its empty value", column.type, value, column.name)
    return _EMPTY[column.type] if column.required else None


def _checked(column: ColumnSchema, value: Any) -> Any:
    """A value written locally: a wrong type is the caller's bug, so it is refused rather than coerced."""
    kind = column.kind or _KIND_OF_TYPE[column.type]
    if value is None:
        return None
    if kind == "json" and not isinstance(value, str):
        return msgspec.json.encode(value).decode()
    ok = {
        "text": isinstance(value, str),
        "json": isinstance(value, str),
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "time": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value),
    }[kind]
    if not ok:
        raise TypeError(f"column {column.name} ({kind}) cannot take {value!r}")
    return value


def _add_changed(changed: str, columns: Sequence[str]) -> str:
    names = [name for name in changed.split(",") if name]
    return ",".join([*names, *(name for name in columns if name not in names)])


class LocalStore:
    """A device's database. `schema` is the `GET /sync/schema` document; None reopens the one saved in `path`."""

    def __init__(self, path: str | os.PathLike[str], schema: Schema | Mapping[str, Any] | None = None) -> None:
        self._db = sqlite3.connect(path, isolation_level=None)
        with self._transaction():
            self._db.execute("CREATE TABLE IF NOT EXISTS _meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS _outbox (only INTEGER PRIMARY KEY CHECK (only = 1), key TEXT NOT NULL,"
                " last_pulled_at INTEGER NOT NULL, body BLOB NOT NULL)"
            )
            saved = self._meta("schema")
            stored = _convert(Schema, saved, "saved schema") if saved is not None else None
            if schema is None:
                if stored is None:
                    raise SyncError(f"{path} holds no schema yet: build it from GET /sync/schema")
                self.schema: Schema = stored
            else:
                self.schema = _convert(Schema, schema, "schema")
                if stored is not None and stored.version > self.schema.version:
                    raise SyncError(f"{path} has schema version {stored.version}, newer than {self.schema.version}")
                self._create_tables()
                self._set_meta("schema", msgspec.to_builtins(self.schema))
        self._tables = {table.name: table for table in self.schema.tables}

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ---- state ----

    @property
    def schema_version(self) -> int:
        return self.schema.version

    @property
    def last_pulled_at(self) -> int | None:
        value: int | None = self._meta("last_pulled_at")
        return value

    def migration(self) -> dict[str, Any] | None:
        """What a pull must bring because the schema grew since the last pull (WatermelonDB's migration sync)."""
        since: int | None = self._meta("pulled_schema_version")
        if self.last_pulled_at is None or since is None or since >= self.schema.version:
            return None
        old = [table for table in self.schema.tables if table.since <= since]
        columns = [
            {"table": table.name, "columns": [column.name for column in table.columns if column.since > since]}
            for table in old
            if any(column.since > since for column in table.columns)
        ]
        tables = [table.name for table in self.schema.tables if table.since > since]
        return {"from": since, "tables": tables, "columns": columns}

    # ---- local operations, as a WatermelonDB app makes them ----

    def create(self, table: str, record: Mapping[str, Any]) -> str:
        spec = self._table(table)
        values = dict(record)
        record_id = values.pop("id", None) or new_id()
        if not isinstance(record_id, str):
            raise TypeError(f"a record id is a string, not {record_id!r}")
        row = {column.name: None for column in spec.columns} | self._checked(spec, values)
        with self._transaction():
            if self._fetch(spec, record_id) is not None:
                raise SyncError(f"{table}#{record_id} already exists")
            self._write(spec, record_id, row, "created", "")
        return record_id

    def update(self, table: str, record_id: str, changes: Mapping[str, Any]) -> None:
        spec = self._table(table)
        values = self._checked(spec, changes)
        with self._transaction():
            raw = self._live(spec, record_id)
            # as WatermelonDB: only a value that really changes marks the column
            changed = [name for name, value in values.items() if raw[name] != value]
            if changed:
                status = "created" if raw["_status"] == "created" else "updated"
                self._write(
                    spec, record_id, self._columns(spec, raw) | values, status, _add_changed(raw["_changed"], changed)
                )

    def delete(self, table: str, record_id: str) -> None:
        spec = self._table(table)
        with self._transaction():
            raw = self._live(spec, record_id)
            # A creation already on its way to the server must be followed by its deletion, or it comes back.
            if raw["_status"] == "created" and not self._in_outbox(table, record_id):
                self._db.execute(f'DELETE FROM "{table}" WHERE id = ?', (record_id,))
            else:
                self._db.execute(f"UPDATE \"{table}\" SET _status = 'deleted' WHERE id = ?", (record_id,))

    def get(self, table: str, record_id: str) -> Raw | None:
        raw = self.raw(table, record_id)
        if raw is None or raw["_status"] == "deleted":
            return None
        return {key: value for key, value in raw.items() if key not in ("_status", "_changed")}

    def records(self, table: str) -> list[Raw]:
        spec = self._table(table)
        rows = self._select(spec, "WHERE _status != 'deleted' ORDER BY id")
        return [{key: value for key, value in raw.items() if key not in ("_status", "_changed")} for raw in rows]

    def raw(self, table: str, record_id: str) -> Raw | None:
        """The record as stored, with `_status` and `_changed`; deleted ones included."""
        return self._fetch(self._table(table), record_id)

    def pending_changes(self) -> Changes:
        """Local changes as WatermelonDB's fetchLocalChanges gives them: full raws, `_status` and `_changed` too."""
        changes: Changes = {}
        for spec in self.schema.tables:
            rows = self._select(spec, "WHERE _status != 'synced' ORDER BY id")
            if rows:
                changes[spec.name] = {
                    "created": [raw for raw in rows if raw["_status"] == "created"],
                    "updated": [raw for raw in rows if raw["_status"] == "updated"],
                    "deleted": [raw["id"] for raw in rows if raw["_status"] == "deleted"],
                }
        return changes

    # ---- sync ----

    def apply_pull(self, answer: PullAnswer | Mapping[str, Any], *, expect_last_pulled_at: Any = _UNCHECKED) -> Pulled:
        """Apply a pull answer and save its timestamp, all or nothing.

        `expect_last_pulled_at` is the cursor the pull was asked with: if another sync moved it meanwhile, this
        answer is stale and applying it would lose changes, so it is refused (WatermelonDB does the same).
        """
        pull: PullAnswer = _convert(PullAnswer, answer, "pull answer")
        counts = {"created": 0, "updated": 0, "deleted": 0}
        with self._transaction():
            if expect_last_pulled_at is not _UNCHECKED and self.last_pulled_at != expect_last_pulled_at:
                raise SyncError("another sync moved last_pulled_at during this pull; its answer is not applied")
            replacement = False
            for table, changes in pull.changes.items():
                spec = self._tables.get(table)
                if spec is None:
                    log.warning("pull names table %s, unknown to local schema version %d", table, self.schema.version)
                    continue
                replace = _strategy(pull.strategy, table) == "replacement"
                self._apply_table(spec, changes, replace)
                replacement |= replace
                counts["created"] += len(changes.created)
                counts["updated"] += len(changes.updated)
                counts["deleted"] += len(changes.deleted)
            self._set_meta("last_pulled_at", pull.timestamp)
            self._set_meta("pulled_schema_version", self.schema.version)
        return Pulled(timestamp=pull.timestamp, replacement=replacement, **counts)

    def begin_push(self) -> Outbox | None:
        """The push to send: the unanswered one if there is one, else a new one of the local changes (or None)."""
        with self._transaction():
            outbox = self.outbox()
            if outbox is not None:
                return outbox
            changes = self.pending_changes()
            if not changes:
                return None
            if self.last_pulled_at is None:
                raise SyncError("pull before pushing: a push names the last_pulled_at it was built on")
            body = msgspec.json.encode({"changes": changes})
            outbox = Outbox(key=secrets.token_hex(16), last_pulled_at=self.last_pulled_at, body=body)
            self._db.execute(
                "INSERT INTO _outbox (only, key, last_pulled_at, body) VALUES (1, ?, ?, ?)",
                (outbox.key, outbox.last_pulled_at, outbox.body),
            )
            return outbox

    def outbox(self) -> Outbox | None:
        row = self._db.execute("SELECT key, last_pulled_at, body FROM _outbox").fetchone()
        return Outbox(key=row[0], last_pulled_at=row[1], body=bytes(row[2])) if row else None

    def clear_outbox(self) -> None:
        self._db.execute("DELETE FROM _outbox")

    def finish_push(self, outbox: Outbox, rejected_ids: Mapping[str, Sequence[str]]) -> None:
        """The server answered `outbox`: mark what it took as synced and forget the push, in one transaction."""
        with self._transaction():
            self.mark_as_synced(outbox.changes(), rejected_ids)
            self._db.execute("DELETE FROM _outbox WHERE key = ?", (outbox.key,))

    def mark_as_synced(self, pushed: Changes, rejected_ids: Mapping[str, Sequence[str]]) -> None:
        """WatermelonDB's markLocalChangesAsSynced: a pushed record edited since it was pushed stays dirty."""
        with self._transaction():
            for table, changes in pushed.items():
                spec = self._tables.get(table)
                if spec is None:
                    continue
                rejected = set(rejected_ids.get(table, ()))
                for sent in [*changes.get("created", ()), *changes.get("updated", ())]:
                    if sent["id"] in rejected:
                        continue
                    if self._fetch(spec, sent["id"]) == sent:
                        self._db.execute(
                            f"UPDATE \"{table}\" SET _status = 'synced', _changed = '' WHERE id = ?", (sent["id"],)
                        )
                for record_id in changes.get("deleted", ()):
                    if record_id not in rejected:
                        self._db.execute(f"DELETE FROM \"{table}\" WHERE id = ? AND _status = 'deleted'", (record_id,))

    # ---- internals ----

    def _apply_table(self, spec: TableSchema, changes: TableChanges, replace: bool) -> None:
        for record_id in changes.deleted:
            self._db.execute(f'DELETE FROM "{spec.name}" WHERE id = ?', (record_id,))
        for raw in changes.created:
            self._apply_record(spec, raw, created=True)
        for raw in changes.updated:
            self._apply_record(spec, raw, created=False)
        if replace:
            keep = {raw["id"] for raw in [*changes.created, *changes.updated]}
            rows = self._db.execute(f"SELECT id FROM \"{spec.name}\" WHERE _status != 'created'").fetchall()
            gone = [(record_id,) for (record_id,) in rows if record_id not in keep]
            self._db.executemany(f'DELETE FROM "{spec.name}" WHERE id = ?', gone)

    def _apply_record(self, spec: TableSchema, remote: Raw, *, created: bool) -> None:
        record_id = remote.get("id")
        if not isinstance(record_id, str) or "_status" in remote or "_changed" in remote:
            raise SyncError(f"invalid {spec.name} record in pull (needs a string id, no _status/_changed): {remote}")
        values = {
            column.name: _sanitized(column, remote[column.name]) for column in spec.columns if column.name in remote
        }
        local = self._fetch(spec, record_id)
        if local is None or (local["_status"] == "deleted" and created):
            if local is not None:
                log.warning("pull creates %s#%s, deleted locally: the local record is dropped", spec.name, record_id)
            empty = {column.name: _sanitized(column, None) for column in spec.columns if column.name not in values}
            self._write(spec, record_id, values | empty, "synced", "")
        elif local["_status"] == "deleted":
            pass  # updated remotely, deleted here: the local deletion will be pushed
        else:
            if created:
                log.warning("pull creates %s#%s, which exists locally: updating it instead", spec.name, record_id)
            # remote values except in the columns changed here since the last sync
            merged = self._columns(spec, local) | values
            for name in local["_changed"].split(","):
                if name in merged:
                    merged[name] = local[name]
            self._write(spec, record_id, merged, local["_status"], local["_changed"])

    def _table(self, table: str) -> TableSchema:
        try:
            return self._tables[table]
        except KeyError:
            raise SyncError(f"table {table} is not in local schema version {self.schema.version}") from None

    def _checked(self, spec: TableSchema, values: Mapping[str, Any]) -> Raw:
        columns = {column.name: column for column in spec.columns}
        unknown = sorted(set(values) - set(columns))
        if unknown:
            raise SyncError(f"table {spec.name} has no column {', '.join(unknown)}")
        return {name: _checked(columns[name], value) for name, value in values.items()}

    def _live(self, spec: TableSchema, record_id: str) -> Raw:
        raw = self._fetch(spec, record_id)
        if raw is None or raw["_status"] == "deleted":
            raise LookupError(f"{spec.name}#{record_id} does not exist")
        return raw

    @staticmethod
    def _columns(spec: TableSchema, raw: Raw) -> Raw:
        return {column.name: raw[column.name] for column in spec.columns}

    def _in_outbox(self, table: str, record_id: str) -> bool:
        outbox = self.outbox()
        created = outbox.changes().get(table, {}).get("created", []) if outbox else []
        return any(raw["id"] == record_id for raw in created)

    def _fetch(self, spec: TableSchema, record_id: str) -> Raw | None:
        rows = self._select(spec, "WHERE id = ?", (record_id,))
        return rows[0] if rows else None

    def _select(self, spec: TableSchema, where: str, args: tuple[Any, ...] = ()) -> list[Raw]:
        names = ["id", *(column.name for column in spec.columns), "_status", "_changed"]
        quoted = ", ".join(f'"{name}"' for name in names)
        booleans = {column.name for column in spec.columns if column.type == "boolean"}
        rows = self._db.execute(f'SELECT {quoted} FROM "{spec.name}" {where}', args).fetchall()
        return [
            {
                name: bool(value) if name in booleans and value is not None else value
                for name, value in zip(names, row, strict=True)
            }
            for row in rows
        ]

    def _write(self, spec: TableSchema, record_id: str, row: Raw, status: str, changed: str) -> None:
        names = ["id", *row, "_status", "_changed"]
        quoted = ", ".join(f'"{name}"' for name in names)
        marks = ", ".join("?" for _ in names)
        self._db.execute(
            f'INSERT OR REPLACE INTO "{spec.name}" ({quoted}) VALUES ({marks})',
            (record_id, *row.values(), status, changed),
        )

    def _create_tables(self) -> None:
        for spec in self.schema.tables:
            columns = "".join(f', "{column.name}" {column.sql_type}' for column in spec.columns)
            self._db.execute(
                f'CREATE TABLE IF NOT EXISTS "{spec.name}" (id TEXT PRIMARY KEY{columns},'
                " _status TEXT NOT NULL, _changed TEXT NOT NULL DEFAULT '')"
            )
            # a newer schema only adds (tables.py: `since`), so an older file grows the new columns
            present = {row[1] for row in self._db.execute(f'PRAGMA table_info("{spec.name}")')}
            for column in spec.columns:
                if column.name not in present:
                    self._db.execute(f'ALTER TABLE "{spec.name}" ADD COLUMN "{column.name}" {column.sql_type}')
            self._db.execute(f'CREATE INDEX IF NOT EXISTS "{spec.name}__status" ON "{spec.name}" (_status)')

    def _meta(self, key: str) -> Any:
        row = self._db.execute("SELECT value FROM _meta WHERE key = ?", (key,)).fetchone()
        return msgspec.json.decode(row[0]) if row else None

    def _set_meta(self, key: str, value: Any) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO _meta (key, value) VALUES (?, ?)", (key, msgspec.json.encode(value).decode())
        )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._db.in_transaction:  # already inside one of ours: it commits or rolls back the whole
            yield
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _strategy(strategy: str | PullStrategy | None, table: str) -> str:
    chosen = strategy.override.get(table, strategy.default) if isinstance(strategy, PullStrategy) else strategy
    if chosen not in (None, "incremental", "replacement"):
        raise SyncError(f"invalid pull strategy {chosen!r}")
    return chosen or "incremental"
