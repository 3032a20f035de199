"""Push: a device's offline changes, validated whole, then applied in one transaction.

What is refused (problem+json, nothing applied): an unknown table or column, a wrong type, an unsafe id, an
id twice in one push, a table or operation the caller's role may not write, a record outside the caller's
scope, a change to an immutable column, a missing required column.

What is rejected (listed in `experimentalRejectedIds`, not applied, everything else applied): a record that
changed on the server after `last_pulled_at` (written by anyone but this session), and an update or delete of
a record deleted on the server after `last_pulled_at`. The device pulls, merges and pushes those again.

What is applied: creates (a create of an existing id updates it), updates (an update of a missing record
creates it unless it was deleted after the device's pull), deletes (a delete of a missing record is
ignored). A record whose values are already the server's counts as `unchanged` and is not rewritten, so a
retried push changes nothing. With an `Idempotency-Key`, a retry returns the first answer outright.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Annotated, Any, Literal

import asyncpg
import msgspec
from msgspec import Meta

from core import jsontext
from core.access import Caller
from core.audit.service import record_change
from core.clock import Clock
from core.errors import BadRequest, Conflict, FieldError, Forbidden, Invalid
from core.settings import Settings
from sync import repository as sql
from sync.protocol import Applied, PushAnswer, RecordId, Rejection
from sync.scope import Grants
from sync.tables import Column, Table, WriteOp

log = logging.getLogger("fieldwork.sync.push")

MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31
Int32 = Annotated[int, Meta(ge=-(2**31), le=2**31 - 1)]  # int columns are PostgreSQL integers
Float = Annotated[float, Meta(ge=-1e300, le=1e300)]
TimeMs = Annotated[int, Meta(ge=0, le=MAX_TIME_MS)] | Annotated[float, Meta(ge=0, le=MAX_TIME_MS)]
# WatermelonDB stores booleans as 0/1 in SQLite; some apps push them that way
Bool = bool | Literal[0, 1]


def _field_type(column: Column) -> Any:
    kind: Any
    if column.choices:
        kind = Literal[column.choices]
    elif column.kind == "text":
        kind = Annotated[str, Meta(max_length=column.max_length)]
    else:
        kind = {"int": Int32, "float": Float, "bool": Bool, "time": TimeMs, "json": str}[column.kind]
    return kind | None | msgspec.UnsetType


@functools.cache
def record_type(table_name: str, columns: tuple[Column, ...]) -> type[msgspec.Struct]:
    """The Struct a pushed record of this table must match (unknown columns refused)."""
    fields: list[tuple[str, Any, Any]] = [("id", RecordId, msgspec.NODEFAULT)]
    fields += [(column.name, _field_type(column), msgspec.UNSET) for column in columns]
    fields += [("_status", Any, None), ("_changed", Any, None)]  # WatermelonDB's bookkeeping: ignored
    # gc=False: thousands of short-lived records per push; they hold no reference cycles
    return msgspec.defstruct(f"Pushed_{table_name}", fields, kw_only=True, forbid_unknown_fields=True, gc=False)


def changes_decoder(table: Table) -> msgspec.json.Decoder[Any]:
    return _changes_decoder(table.name, table.columns)


@functools.cache
def _changes_decoder(table_name: str, columns: tuple[Column, ...]) -> msgspec.json.Decoder[Any]:
    pushed = record_type(table_name, columns)
    changes = msgspec.defstruct(
        f"PushedChanges_{table_name}",
        [("created", list[pushed], []), ("updated", list[pushed], []), ("deleted", list[RecordId], [])],  # type: ignore[valid-type]
        kw_only=True,
        forbid_unknown_fields=True,
    )
    return msgspec.json.Decoder(changes)


_outer = msgspec.json.Decoder(dict[str, msgspec.Raw])


class TablePush(msgspec.Struct):
    table: Table
    created: list[dict[str, Any]]
    updated: list[dict[str, Any]]
    deleted: list[str]


def decode(body: bytes, tables: Mapping[str, Table]) -> list[TablePush]:
    """Parse and type-check a push body: the bare changes object, or {"changes": {...}}. Not JSON (or nested
    too deeply to read) is BadRequest, as for every other body; JSON of the wrong shape is Invalid."""
    try:
        outer = jsontext.decode(body, _outer)
        if set(outer) == {"changes"} and "changes" not in tables:
            outer = jsontext.decode(outer["changes"], _outer)
    except msgspec.ValidationError as exc:
        raise Invalid(
            "the push body must be a JSON object of tables", errors=[FieldError(field="$", message=str(exc))]
        ) from None
    except msgspec.DecodeError as exc:
        raise _not_json(exc) from None
    pushes = []
    nul = b"\\u0000" in body
    for name, raw in outer.items():
        table = tables.get(name)
        if table is None:
            raise Invalid(
                f"unknown table {name!r}", table=name, errors=[FieldError(field=name, message="not a synced table")]
            )
        try:
            changes = jsontext.decode(raw, changes_decoder(table))
        except msgspec.ValidationError as exc:
            raise _located(name, raw, exc) from None
        except msgspec.DecodeError as exc:
            raise _not_json(exc) from None
        pushes.append(
            TablePush(
                table=table,
                created=[_given(table, r, nul) for r in changes.created],
                updated=[_given(table, r, nul) for r in changes.updated],
                deleted=list(changes.deleted),
            )
        )
    return pushes


class Shape(msgspec.Struct, frozen=True):
    """What push needs to know of a table's columns, worked out once."""

    writable: frozenset[str]
    booleans: tuple[str, ...]
    required: tuple[str, ...]
    json: tuple[str, ...]


def shape(table: Table) -> Shape:
    return _shape(table.columns)


@functools.cache
def _shape(columns: tuple[Column, ...]) -> Shape:
    return Shape(
        writable=frozenset(["id", *(c.name for c in columns if c.writable)]),
        booleans=tuple(c.name for c in columns if c.kind == "bool"),
        required=tuple(c.name for c in columns if c.required and c.writable),
        json=tuple(c.name for c in columns if c.kind == "json"),
    )


def _given(table: Table, pushed: msgspec.Struct, nul: bool) -> dict[str, Any]:
    """The writable columns a record carries (absent and server-owned ones left out), booleans as booleans."""
    writable = shape(table).writable
    values = {k: v for k, v in msgspec.structs.asdict(pushed).items() if v is not msgspec.UNSET and k in writable}
    for name in shape(table).booleans:
        if values.get(name) is not None:
            values[name] = bool(values[name])
    if nul:  # only when the body holds an escaped NUL at all
        for name, value in values.items():
            if isinstance(value, str) and "\x00" in value:
                raise _invalid(table, values["id"], name, "NUL (\\u0000) characters cannot be stored")
    return values


def _not_json(exc: msgspec.DecodeError) -> BadRequest:
    return BadRequest(f"the push body is not valid JSON: {exc}")


def _located(table: str, raw: msgspec.Raw, exc: msgspec.ValidationError) -> Invalid:
    """A validation error naming the table and, when it can be found, the record's id."""
    message = str(exc)
    record_id = None
    try:
        loose = jsontext.decode(raw)
        path = message.rsplit("at `$.", 1)[1].rstrip("`")
        section, _, rest = path.partition("[")
        index = int(rest.split("]", 1)[0])
        item = loose[section][index]
        record_id = item.get("id") if isinstance(item, dict) else item
    except (IndexError, KeyError, ValueError, TypeError, AttributeError, msgspec.DecodeError):
        pass
    where = f"{table}.{record_id}" if isinstance(record_id, str) else table
    return Invalid(f"{where}: {message}", table=table, id=record_id, errors=[FieldError(field=where, message=message)])


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class Written(msgspec.Struct):
    """What a push changed in one table: the ids it created, and the rows as they were before for the ids it
    updated (values really changed) or deleted."""

    created: list[str] = []
    updated: dict[str, dict[str, Any]] = {}
    deleted: dict[str, dict[str, Any]] = {}


# A domain package's rules for the tables it declares (its plug-in): called once a push is written, in its
# transaction, with the caller's grants and what was written per table. It raises a DomainError to refuse
# the whole push, and may write rows of its own (the server's values: they reach every device, the pushing
# one included).
PushRule = Callable[[asyncpg.Connection, Caller, Grants, Mapping[str, Written]], Awaitable[None]]
# A push rule made for the app's clock and settings
PushRuleFactory = Callable[[Clock, Settings], PushRule]


async def push(
    conn: asyncpg.Connection,
    caller: Caller,
    grants: Grants,
    body: bytes,
    last_pulled_at: int,
    idempotency_key: str | None = None,
    *,
    tables: Mapping[str, Table],
    rules: Sequence[PushRule] = (),
) -> PushAnswer:
    """Apply one push of `tables` (the catalog's, by name, in push order). The caller's transaction commits it;
    a refusal raises and rolls all of it back."""
    pushes = decode(body, tables)
    order = {name: i for i, name in enumerate(tables)}
    pushes.sort(key=lambda p: order[p.table.name])  # parents before children, for the rules' sake
    ceiling = await sql.start_push(conn, caller.org_id, caller.user_id, caller.session_id)
    if last_pulled_at > ceiling:
        # a cursor from the future would hide every conflict, letting this push overwrite others' work
        raise BadRequest("last_pulled_at is not a timestamp this server gave out", parameter="last_pulled_at")
    digest = body_hash(body) + f":{last_pulled_at}"
    if idempotency_key:
        stored = await sql.stored_answer(conn, caller.org_id, caller.session_id, idempotency_key)
        if stored is not None:
            if stored["body_hash"] != digest:
                raise Conflict("this Idempotency-Key was used for a different push", key=idempotency_key)
            answer = msgspec.convert(stored["answer"], PushAnswer)
            answer.replayed = True
            return answer
    plans = [await _plan(conn, caller, grants, p, last_pulled_at) for p in pushes]
    answer = PushAnswer(experimentalRejectedIds={}, rejected=[], applied={})
    summary: dict[str, dict[str, list[str]]] = {}
    written: dict[str, Written] = {}
    for plan in plans:
        applied, lost, changed = await _apply(conn, caller, plan)
        rejected = plan.rejected + [Rejection(table=plan.table.name, id=i, reason="changed_on_server") for i in lost]
        answer.rejected += rejected
        if rejected:
            answer.experimentalRejectedIds[plan.table.name] = [r.id for r in rejected]
        answer.applied[plan.table.name] = applied
        summary[plan.table.name] = {**plan.summary(lost), "rejected": [r.id for r in rejected]}
        written[plan.table.name] = Written(
            created=summary[plan.table.name]["created"],
            updated={i: plan.before[i] for i in changed},
            deleted={i: plan.before[i] for i in plan.deletes},
        )
    if rules:
        await sql.end_device_writes(conn)
        for rule in rules:
            await rule(conn, caller, grants, written)
    await record_change(conn, caller, "sync.push", "session", caller.session_id, after=summary)
    if idempotency_key:
        await sql.store_answer(
            conn, caller.org_id, caller.session_id, idempotency_key, digest, msgspec.to_builtins(answer)
        )
    log.info(
        "push user=%s records=%d rejected=%d",
        caller.user_id,
        sum(len(p.copied) + len(p.creates) + len(p.updates) + len(p.deletes) for p in plans),
        len(answer.rejected),
    )
    return answer


class Plan(msgspec.Struct):
    table: Table
    copied: list[str] = []  # new records, already written
    creates: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    deletes: list[str] = []
    rejected: list[Rejection] = []
    before: dict[str, dict[str, Any]] = {}  # the stored rows of updates and deletes

    def summary(self, lost: set[str]) -> dict[str, list[str]]:
        return {
            "created": self.copied + [r["id"] for r in self.creates if r["id"] not in lost],
            "updated": [r["id"] for r in self.updates],
            "deleted": self.deletes,
        }


def _refuse(table: Table, record_id: str, detail: str) -> Forbidden:
    return Forbidden(f"{table.name}.{record_id}: {detail}", table=table.name, id=record_id)


def _invalid(table: Table, record_id: str, column: str, message: str) -> Invalid:
    where = f"{table.name}.{record_id}.{column}"
    return Invalid(
        f"{where}: {message}", table=table.name, id=record_id, errors=[FieldError(field=where, message=message)]
    )


async def _plan(conn: asyncpg.Connection, caller: Caller, grants: Grants, push: TablePush, since: int) -> Plan:
    table = push.table
    ops = set(table.write.get(caller.role, ()))
    ids = [r["id"] for r in push.created + push.updated] + push.deleted
    seen: set[str] = set()
    for record_id in ids:
        if record_id in seen:
            raise _invalid(table, record_id, "id", "the same id appears twice in one push")
        seen.add(record_id)
    if not ids:
        return Plan(table=table)
    if not ops:
        raise _refuse(table, ids[0], f"your role ({caller.role}) cannot write {table.name}")
    # The common case first: records created offline are new here. Write them straight away; an id the
    # server has already (a retry, or an edit of a record whose first push lost its answer) becomes an update.
    created = push.created
    for values in created:
        _check_create(table, caller, grants, ops, values)
    await _check_properties(conn, caller, grants, table, created)
    copied = await _write_new(conn, table, caller.org_id, created)
    plan = Plan(table=table, copied=[r["id"] for r in created if r["id"] in copied])
    existed = [r for r in created if r["id"] not in copied]
    ids = [r["id"] for r in existed + push.updated] + push.deleted
    existing = await sql.existing_rows(conn, table, caller.org_id, ids) if ids else {}
    missing = [i for i in ids if i not in existing]
    deletions = await sql.last_deletions(conn, table, caller.org_id, missing) if missing else {}

    def changed_elsewhere(xid: int, session: str | None) -> bool:
        return xid >= since and session != caller.session_id

    for pushed, is_update in [(r, False) for r in existed] + [(r, True) for r in push.updated]:
        record_id = pushed["id"]
        values = pushed
        row = existing.get(record_id)
        if row is None:
            gone = deletions.get(record_id)
            if gone and is_update and changed_elsewhere(*gone):
                plan.rejected.append(Rejection(table=table.name, id=record_id, reason="deleted_on_server"))
                continue
            _check_create(table, caller, grants, ops, values)
            plan.creates.append(values)
            continue
        _check_update(table, caller, grants, ops, row, values)
        if changed_elsewhere(row["sync_xid"], row["sync_session"]):
            plan.rejected.append(Rejection(table=table.name, id=record_id, reason="changed_on_server"))
        else:
            plan.updates.append(values)
            plan.before[record_id] = row
    for record_id in push.deleted:
        row = existing.get(record_id)
        if row is None:
            continue  # deleted already, or never reached the server: nothing to do
        if not grants.sees(table, row):
            raise _refuse(table, record_id, "this record is outside your scope")
        _require(table, caller, ops, row, record_id, "delete")
        if changed_elsewhere(row["sync_xid"], row["sync_session"]):
            plan.rejected.append(Rejection(table=table.name, id=record_id, reason="changed_on_server"))
        else:
            plan.deletes.append(record_id)
            plan.before[record_id] = row
    await _check_properties(conn, caller, grants, table, plan.creates)
    return plan


async def _check_properties(
    conn: asyncpg.Connection, caller: Caller, grants: Grants, table: Table, creates: list[dict[str, Any]]
) -> None:
    """An admin's new record must name a property of the org (everyone else's scope holds only real ones)."""
    if grants.role != "admin" or not creates or table.column("property_id") is None:
        return
    wanted = {r["property_id"] for r in creates}
    unknown = wanted - await sql.existing_property_ids(conn, caller.org_id, sorted(wanted))
    if unknown:
        record_id = next(r["id"] for r in creates if r["property_id"] in unknown)
        raise _refuse(table, record_id, "no such property")


async def _write_new(conn: asyncpg.Connection, table: Table, org_id: str, records: list[dict[str, Any]]) -> set[str]:
    """Write new records; returns the ids written. COPY when none of the ids exists (the usual push), else
    one INSERT that skips the ids the server has."""
    written: set[str] = set()
    for columns, group in _by_columns(table, records):
        if await sql.copy_new_records(conn, table, org_id, columns, group):
            written |= {r["id"] for r in group}
        else:
            written |= await sql.insert_records(conn, table, org_id, columns, group)
    return written


def _owned(table: Table, caller: Caller, row: dict[str, Any]) -> bool:
    return table.owner_column is not None and row.get(table.owner_column) == caller.user_id


def _require(table: Table, caller: Caller, ops: set[WriteOp], row: dict[str, Any], record_id: str, op: str) -> None:
    """Refuse unless the role may `op` (update or delete) this row: any row, or only its own."""
    if op in ops or (f"{op}_own" in ops and _owned(table, caller, row)):
        return
    verb = "change" if op == "update" else op
    if f"{op}_own" in ops:
        raise _refuse(table, record_id, f"you may only {verb} records you created")
    raise _refuse(table, record_id, f"you cannot {verb} these records")


def _in_scope(table: Table, grants: Grants, values: dict[str, Any]) -> bool:
    if not grants.sees(table, values):
        return False
    # a record naming a property must name one of the caller's (admins: any of the org's, checked later)
    return grants.role == "admin" or "property_id" not in values or values["property_id"] in grants.properties


def _check_create(table: Table, caller: Caller, grants: Grants, ops: set[WriteOp], values: dict[str, Any]) -> None:
    record_id = values["id"]
    if "create" not in ops:
        raise _refuse(table, record_id, f"your role ({caller.role}) cannot create {table.name}")
    for name in shape(table).required:
        if values.get(name) is None:
            raise _invalid(table, record_id, name, "required")
    if table.owner_column and values.get(table.owner_column) != caller.user_id:
        raise _refuse(table, record_id, f"{table.owner_column} must be your own user id")
    if not _in_scope(table, grants, values):
        raise _refuse(table, record_id, "this record is outside your scope")
    _check_json(table, values)


def _check_update(
    table: Table, caller: Caller, grants: Grants, ops: set[WriteOp], row: dict[str, Any], values: dict[str, Any]
) -> None:
    record_id = values["id"]
    if not grants.sees(table, row):
        raise _refuse(table, record_id, "this record is outside your scope")
    _require(table, caller, ops, row, record_id, "update")
    for column in table.columns:
        if column.name not in values:
            continue
        if column.immutable and not _same(column, values[column.name], row[column.name]):
            raise _invalid(table, record_id, column.name, "cannot be changed once the record exists")
        if column.required and values[column.name] is None:
            raise _invalid(table, record_id, column.name, "required")
    if not _in_scope(table, grants, {**row, **values}):
        raise _refuse(table, record_id, "this change would move the record outside your scope")
    _check_json(table, values)


def _same(column: Column, pushed: Any, stored: Any) -> bool:
    if column.kind == "time" and pushed is not None and stored is not None:
        return abs(float(pushed) - float(stored)) < 1
    return bool(pushed == stored)


def _check_json(table: Table, values: dict[str, Any]) -> None:
    for name in shape(table).json:
        if isinstance(values.get(name), str):
            try:
                jsontext.decode(values[name])
            except msgspec.DecodeError as exc:
                raise _invalid(table, values["id"], name, f"must be a string of JSON ({exc})") from None


async def _apply(conn: asyncpg.Connection, caller: Caller, plan: Plan) -> tuple[Applied, set[str], set[str]]:
    """Write one table's plan; returns the counts, the ids another writer created meanwhile, and the ids of
    updates that changed something."""
    table = plan.table
    inserted = await _write_new(conn, table, caller.org_id, plan.creates)
    lost = {r["id"] for r in plan.creates} - inserted
    applied = Applied(created=len(plan.copied) + len(inserted))
    changed: set[str] = set()
    for columns, records in _by_columns(table, plan.updates):
        changed |= await sql.update_records(conn, table, caller.org_id, columns, records)
    applied.updated = len(changed)
    applied.unchanged = len(plan.updates) - len(changed)
    if plan.deletes:
        applied.deleted = await sql.delete_records(conn, table, caller.org_id, plan.deletes)
    return applied, lost, changed


def _by_columns(table: Table, records: list[dict[str, Any]]) -> list[tuple[list[Column], list[dict[str, Any]]]]:
    """Records grouped by the set of columns they carry (an older app may not know a newer column)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for values in records:
        groups.setdefault(tuple(values), []).append(values)  # keys in declared order: same set, same tuple
    return [([c for c in table.columns if c.name in keys], group) for keys, group in groups.items()]
