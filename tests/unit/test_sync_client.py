"""The reference sync client: its local store, WatermelonDB's merge rules, and the outbox (no network)."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import msgspec
import pytest

from sync.client import LocalStore, SyncClient, SyncError, SyncRefused, SyncUnavailable
from sync.client_store import Outbox


def column(name: str, kind: str = "text", *, required: bool = False, since: int = 1) -> dict[str, Any]:
    wire = {"text": "string", "json": "string", "bool": "boolean"}.get(kind, "number")
    return {
        "name": name,
        "type": wire,
        "kind": kind,
        "required": required,
        "writable": True,
        "immutable": False,
        "since": since,
    }


def schema_doc(version: int = 1, *, extra_tables: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return {
        "version": version,
        "tables": [
            {
                "name": "units",
                "since": 1,
                "columns": [
                    column("number", required=True),
                    column("floor", "int"),
                    column("area_m2", "float"),
                ],
            },
            {
                "name": "handover_notes",
                "since": 1,
                "columns": [
                    column("body", required=True),
                    column("status", required=True),
                    column("urgent", "bool"),
                    column("resolved_at", "time"),
                    column("extra", "json"),
                ],
            },
            *extra_tables,
        ],
    }


def empty(*tables: str) -> dict[str, dict[str, list[Any]]]:
    return {table: {"created": [], "updated": [], "deleted": []} for table in tables}


def pull_answer(timestamp: int = 100, **tables: dict[str, list[Any]]) -> dict[str, Any]:
    changes = empty("units", "handover_notes")
    for table, lists in tables.items():
        changes[table] = {"created": [], "updated": [], "deleted": [], **lists}
    return {"timestamp": timestamp, "changes": changes}


NOTE = {"body": "lift 2 rattles", "status": "open", "urgent": False, "resolved_at": None, "extra": None}


@pytest.fixture
def store():
    with LocalStore(":memory:", schema_doc()) as store:
        yield store


def synced_note(store: LocalStore, record_id: str = "n1", **values: Any) -> None:
    store.apply_pull(pull_answer(handover_notes={"created": [{"id": record_id, **NOTE, **values}]}))


# ---- local operations ----


def test_create_makes_a_16_character_id_and_marks_the_record_created(store):
    record_id = store.create("handover_notes", {"body": "leak", "status": "open"})
    assert re.fullmatch(r"[A-Za-z0-9]{16}", record_id)
    raw = store.raw("handover_notes", record_id)
    assert raw["_status"] == "created" and raw["_changed"] == ""
    assert store.get("handover_notes", record_id) == {
        "id": record_id,
        "body": "leak",
        "status": "open",
        "urgent": None,
        "resolved_at": None,
        "extra": None,
    }


def test_create_keeps_a_given_id_and_refuses_a_duplicate(store):
    assert store.create("units", {"id": "u1", "number": "101"}) == "u1"
    with pytest.raises(SyncError, match="already exists"):
        store.create("units", {"id": "u1", "number": "102"})


def test_update_of_a_synced_record_marks_it_updated_with_the_changed_columns(store):
    synced_note(store)
    store.update("handover_notes", "n1", {"status": "resolved", "body": "lift 2 rattles"})
    store.update("handover_notes", "n1", {"resolved_at": 1_700_000_000_000, "status": "resolved"})
    raw = store.raw("handover_notes", "n1")
    # body did not change value, so it is not marked; status is marked once
    assert (raw["_status"], raw["_changed"]) == ("updated", "status,resolved_at")


def test_update_with_the_same_values_leaves_the_record_synced(store):
    synced_note(store)
    store.update("handover_notes", "n1", {"body": "lift 2 rattles", "urgent": False})
    assert store.raw("handover_notes", "n1")["_status"] == "synced"


def test_update_of_a_created_record_keeps_it_created(store):
    record_id = store.create("handover_notes", {"body": "leak", "status": "open"})
    store.update("handover_notes", record_id, {"body": "big leak"})
    raw = store.raw("handover_notes", record_id)
    assert (raw["_status"], raw["_changed"], raw["body"]) == ("created", "body", "big leak")


def test_delete_of_a_created_record_removes_it_outright(store):
    record_id = store.create("units", {"number": "101"})
    store.delete("units", record_id)
    assert store.raw("units", record_id) is None and store.pending_changes() == {}


def test_delete_of_a_synced_record_marks_it_deleted_and_hides_it(store):
    synced_note(store)
    store.delete("handover_notes", "n1")
    assert store.raw("handover_notes", "n1")["_status"] == "deleted"
    assert store.get("handover_notes", "n1") is None and store.records("handover_notes") == []
    with pytest.raises(LookupError):
        store.update("handover_notes", "n1", {"body": "x"})


def test_records_are_sorted_by_id_without_deleted_ones(store):
    for record_id in ("c", "a", "b"):
        store.create("units", {"id": record_id, "number": record_id})
    store.apply_pull(pull_answer(units={"created": [{"id": "d", "number": "d"}]}))
    store.delete("units", "d")
    assert [record["id"] for record in store.records("units")] == ["a", "b", "c"]


def test_booleans_are_stored_as_integers_and_returned_as_bools(store):
    record_id = store.create("handover_notes", {"body": "b", "status": "open", "urgent": True})
    stored = store._db.execute("SELECT urgent FROM handover_notes WHERE id = ?", (record_id,)).fetchone()[0]
    assert stored == 1 and type(stored) is int
    assert store.get("handover_notes", record_id)["urgent"] is True


def test_a_json_column_takes_a_string_or_a_value_to_encode(store):
    record_id = store.create("handover_notes", {"body": "b", "status": "open", "extra": {"floor": 3}})
    assert store.get("handover_notes", record_id)["extra"] == '{"floor":3}'


def test_local_writes_refuse_unknown_tables_columns_and_wrong_types(store):
    with pytest.raises(SyncError, match="not in local schema"):
        store.create("invoices", {"amount": 3})
    with pytest.raises(SyncError, match="no column colour"):
        store.create("units", {"number": "1", "colour": "red"})
    with pytest.raises(TypeError, match="floor"):
        store.create("units", {"number": "1", "floor": "third"})
    with pytest.raises(TypeError, match="urgent"):
        store.create("handover_notes", {"body": "b", "status": "open", "urgent": 1})


def test_pending_changes_lists_only_tables_with_changes_as_watermelondb_does(store):
    store.apply_pull(
        pull_answer(
            handover_notes={"created": [{"id": "n1", **NOTE}, {"id": "n2", **NOTE}, {"id": "n3", **NOTE}]},
            units={"created": [{"id": "u1", "number": "101"}]},
        )
    )
    assert store.pending_changes() == {}
    store.create("handover_notes", {"id": "n0", "body": "new", "status": "open"})
    store.update("handover_notes", "n1", {"status": "resolved"})
    store.delete("handover_notes", "n2")
    assert store.pending_changes() == {
        "handover_notes": {
            "created": [
                {
                    "id": "n0",
                    "body": "new",
                    "status": "open",
                    "urgent": None,
                    "resolved_at": None,
                    "extra": None,
                    "_status": "created",
                    "_changed": "",
                }
            ],
            "updated": [{"id": "n1", **NOTE, "status": "resolved", "_status": "updated", "_changed": "status"}],
            "deleted": ["n2"],
        }
    }


# ---- applying a pull ----


def test_pull_inserts_missing_records_as_synced_and_saves_the_timestamp(store):
    pulled = store.apply_pull(
        pull_answer(
            timestamp=555,
            units={"created": [{"id": "u1", "number": "101", "floor": 1}], "updated": [{"id": "u2", "number": "102"}]},
        )
    )
    assert (pulled.created, pulled.updated, pulled.deleted, pulled.timestamp) == (1, 1, 0, 555)
    assert store.last_pulled_at == 555
    assert store.raw("units", "u1") == {
        "id": "u1",
        "number": "101",
        "floor": 1,
        "area_m2": None,
        "_status": "synced",
        "_changed": "",
    }
    assert store.raw("units", "u2")["_status"] == "synced"


def test_pull_overwrites_a_synced_record_keeping_columns_the_server_left_out(store):
    store.apply_pull(pull_answer(units={"created": [{"id": "u1", "number": "101", "floor": 1, "area_m2": 50.5}]}))
    store.apply_pull(pull_answer(units={"updated": [{"id": "u1", "number": "101A", "floor": 2}]}))
    assert store.raw("units", "u1") == {
        "id": "u1",
        "number": "101A",
        "floor": 2,
        "area_m2": 50.5,
        "_status": "synced",
        "_changed": "",
    }


def test_pull_merges_per_column_keeping_columns_changed_locally(store):
    synced_note(store)
    store.update("handover_notes", "n1", {"status": "resolved"})
    remote = {"id": "n1", **NOTE, "body": "lift 2 fixed", "status": "open", "urgent": True}
    store.apply_pull(pull_answer(handover_notes={"updated": [remote]}))
    raw = store.raw("handover_notes", "n1")
    assert (raw["body"], raw["urgent"], raw["status"]) == ("lift 2 fixed", True, "resolved")
    assert (raw["_status"], raw["_changed"]) == ("updated", "status")


def test_pull_creating_a_record_that_exists_locally_merges_into_it(store, caplog):
    record_id = store.create("handover_notes", {"id": "n1", **NOTE})
    store.update("handover_notes", record_id, {"body": "mine"})
    with caplog.at_level(logging.WARNING, "fieldwork.sync.client"):
        store.apply_pull(
            pull_answer(handover_notes={"created": [{"id": "n1", **NOTE, "body": "theirs", "urgent": True}]})
        )
    raw = store.raw("handover_notes", "n1")
    assert (raw["body"], raw["urgent"], raw["_status"]) == ("mine", True, "created")
    assert "exists locally" in caplog.text


def test_pull_creating_a_locally_deleted_record_replaces_it(store):
    synced_note(store)
    store.delete("handover_notes", "n1")
    store.apply_pull(pull_answer(handover_notes={"created": [{"id": "n1", **NOTE, "body": "again"}]}))
    raw = store.raw("handover_notes", "n1")
    assert (raw["_status"], raw["body"]) == ("synced", "again")


def test_pull_updating_a_locally_deleted_record_is_skipped(store):
    synced_note(store)
    store.delete("handover_notes", "n1")
    store.apply_pull(pull_answer(handover_notes={"updated": [{"id": "n1", **NOTE, "body": "edited there"}]}))
    raw = store.raw("handover_notes", "n1")
    assert (raw["_status"], raw["body"]) == ("deleted", "lift 2 rattles")
    assert store.pending_changes()["handover_notes"]["deleted"] == ["n1"]


def test_pull_deletions_remove_records_whatever_their_status(store):
    store.apply_pull(pull_answer(units={"created": [{"id": i, "number": i} for i in ("s", "u", "d")]}))
    store.update("units", "u", {"floor": 3})
    store.delete("units", "d")
    store.create("units", {"id": "c", "number": "c"})
    pulled = store.apply_pull(pull_answer(units={"deleted": ["s", "u", "d", "c", "never-seen"]}))
    assert pulled.deleted == 5
    assert [store.raw("units", i) for i in ("s", "u", "d", "c")] == [None] * 4


def test_replacement_pull_drops_absent_records_but_keeps_local_creations(store):
    store.apply_pull(
        pull_answer(units={"created": [{"id": i, "number": i} for i in ("keep", "gone", "edited", "del")]})
    )
    store.update("units", "edited", {"floor": 3})
    store.delete("units", "del")
    store.create("units", {"id": "mine", "number": "m"})
    answer = pull_answer(
        timestamp=900, units={"updated": [{"id": "keep", "number": "k2"}, {"id": "new", "number": "n"}]}
    )
    pulled = store.apply_pull({**answer, "experimentalStrategy": "replacement"})
    assert pulled.replacement
    assert [record["id"] for record in store.records("units")] == ["keep", "mine", "new"]
    assert store.raw("units", "del") is None and store.raw("units", "mine")["_status"] == "created"
    assert store.last_pulled_at == 900


def test_replacement_can_be_chosen_per_table(store):
    store.apply_pull(
        pull_answer(
            units={"created": [{"id": "u1", "number": "1"}]}, handover_notes={"created": [{"id": "n1", **NOTE}]}
        )
    )
    strategy = {"default": "incremental", "override": {"units": "replacement"}}
    store.apply_pull({**pull_answer(), "experimentalStrategy": strategy})
    assert store.records("units") == [] and store.get("handover_notes", "n1") is not None


def test_pull_ignores_unknown_tables_and_columns(store):
    answer = pull_answer(units={"created": [{"id": "u1", "number": "101", "colour": "red"}]})
    answer["changes"]["invoices"] = {"created": [{"id": "i1", "amount": 3}], "updated": [], "deleted": []}
    pulled = store.apply_pull(answer)
    assert pulled.created == 1 and store.get("units", "u1") == {
        "id": "u1",
        "number": "101",
        "floor": None,
        "area_m2": None,
    }


def test_pull_reads_booleans_sent_as_integers_and_empties_bad_values_like_watermelondb(store, caplog):
    bad = {"id": "n1", "body": 7, "status": None, "urgent": 1, "resolved_at": "yesterday", "extra": None}
    with caplog.at_level(logging.WARNING, "fieldwork.sync.client"):
        store.apply_pull(pull_answer(handover_notes={"created": [bad]}))
    # required columns get the empty value of their type, optional ones null
    assert store.get("handover_notes", "n1") == {
        "id": "n1",
        "body": "",
        "status": "",
        "urgent": True,
        "resolved_at": None,
        "extra": None,
    }
    assert "replaced by its empty value" in caplog.text


def test_a_pull_record_carrying_sync_fields_is_refused_and_nothing_is_applied(store):
    answer = pull_answer(
        units={"created": [{"id": "u1", "number": "1"}, {"id": "u2", "number": "2", "_status": "synced"}]}
    )
    with pytest.raises(SyncError, match="_status"):
        store.apply_pull(answer)
    assert store.records("units") == [] and store.last_pulled_at is None


def test_a_pull_answer_without_a_positive_timestamp_or_with_a_bad_strategy_is_refused(store):
    with pytest.raises(SyncError, match="timestamp"):
        store.apply_pull({**pull_answer(), "timestamp": 0})
    with pytest.raises(SyncError, match="strategy"):
        store.apply_pull({**pull_answer(), "experimentalStrategy": "bulldozer"})


def test_a_stale_pull_is_refused_when_the_cursor_moved(store):
    store.apply_pull(pull_answer(timestamp=10))
    with pytest.raises(SyncError, match="another sync"):
        store.apply_pull(
            pull_answer(timestamp=20, units={"created": [{"id": "u1", "number": "1"}]}), expect_last_pulled_at=None
        )
    assert store.last_pulled_at == 10 and store.records("units") == []


# ---- marking pushed changes as synced ----


def test_pushed_records_become_synced_unless_edited_since_or_rejected(store):
    store.apply_pull(pull_answer(handover_notes={"created": [{"id": i, **NOTE} for i in ("a", "b", "c")]}))
    for record_id in ("a", "b", "c"):
        store.update("handover_notes", record_id, {"status": "resolved"})
    new = store.create("handover_notes", {"body": "new", "status": "open"})
    pushed = store.pending_changes()
    store.update("handover_notes", "b", {"body": "edited while the push was in flight"})
    store.mark_as_synced(pushed, {"handover_notes": ["c"]})
    statuses = {i: store.raw("handover_notes", i)["_status"] for i in ("a", "b", "c", new)}
    assert statuses == {"a": "synced", "b": "updated", "c": "updated", new: "synced"}
    assert store.raw("handover_notes", "b")["_changed"] == "status,body"
    assert store.raw("handover_notes", "a")["_changed"] == ""


def test_pushed_deletions_are_removed_unless_rejected(store):
    store.apply_pull(pull_answer(units={"created": [{"id": i, "number": i} for i in ("a", "b")]}))
    store.delete("units", "a")
    store.delete("units", "b")
    store.mark_as_synced(store.pending_changes(), {"units": ["b"]})
    assert store.raw("units", "a") is None and store.raw("units", "b")["_status"] == "deleted"


def test_a_pushed_deletion_does_not_remove_a_record_recreated_by_a_pull_meanwhile(store):
    store.apply_pull(pull_answer(units={"created": [{"id": "a", "number": "a"}]}))
    store.delete("units", "a")
    pushed = store.pending_changes()
    store.apply_pull(pull_answer(units={"created": [{"id": "a", "number": "a2"}]}))
    store.mark_as_synced(pushed, {})
    assert store.raw("units", "a")["_status"] == "synced"


# ---- outbox ----


def test_a_push_needs_a_pull_first(store):
    store.create("units", {"number": "1"})
    with pytest.raises(SyncError, match="pull before pushing"):
        store.begin_push()


def test_begin_push_returns_the_stored_push_until_it_is_answered(store):
    store.apply_pull(pull_answer(timestamp=42))
    assert store.begin_push() is None
    store.create("units", {"id": "u1", "number": "1"})
    first = store.begin_push()
    store.create("units", {"id": "u2", "number": "2"})
    assert store.begin_push() == first and first.last_pulled_at == 42
    assert [raw["id"] for raw in first.changes()["units"]["created"]] == ["u1"]
    store.finish_push(first, {})
    assert store.outbox() is None and store.raw("units", "u1")["_status"] == "synced"
    assert [raw["id"] for raw in store.begin_push().changes()["units"]["created"]] == ["u2"]


def test_deleting_a_creation_that_is_being_pushed_keeps_its_deletion_to_push(store):
    store.apply_pull(pull_answer())
    store.create("units", {"id": "u1", "number": "1"})
    outbox = store.begin_push()
    store.delete("units", "u1")
    store.finish_push(outbox, {})
    assert store.pending_changes() == {"units": {"created": [], "updated": [], "deleted": ["u1"]}}


def test_a_store_reopens_offline_from_its_file(tmp_path):
    path = tmp_path / "device.sqlite"
    with LocalStore(path, schema_doc()) as store:
        store.apply_pull(pull_answer(timestamp=77))
        store.create("units", {"id": "u1", "number": "1"})
        outbox = store.begin_push()
    with LocalStore(path) as store:
        assert store.schema_version == 1 and store.last_pulled_at == 77
        assert store.outbox() == outbox and store.get("units", "u1")["number"] == "1"
    with pytest.raises(SyncError, match="no schema"):
        LocalStore(tmp_path / "new.sqlite")


def test_a_newer_schema_grows_the_file_and_asks_for_a_migration_pull(tmp_path):
    path = tmp_path / "device.sqlite"
    with LocalStore(path, schema_doc()) as store:
        store.apply_pull(pull_answer(timestamp=5, units={"created": [{"id": "u1", "number": "1"}]}))
        assert store.migration() is None
    photos = {"name": "photos", "since": 2, "columns": [column("note", since=2)]}
    newer = schema_doc(2, extra_tables=(photos,))
    newer["tables"][0]["columns"].append(column("label", since=2))
    with LocalStore(path, newer) as store:
        assert store.get("units", "u1") == {"id": "u1", "number": "1", "floor": None, "area_m2": None, "label": None}
        assert store.migration() == {
            "from": 1,
            "tables": ["photos"],
            "columns": [{"table": "units", "columns": ["label"]}],
        }
        store.apply_pull({"timestamp": 6, "changes": {}})
        assert store.migration() is None
    with pytest.raises(SyncError, match="newer"):
        LocalStore(path, schema_doc(1))


def test_a_schema_naming_something_unsafe_for_sql_is_refused():
    doc = schema_doc()
    doc["tables"][0]["name"] = 'units"; DROP TABLE _meta; --'
    with pytest.raises(SyncError, match="schema"):
        LocalStore(":memory:", doc)


# ---- HTTP, against httpx.MockTransport ----


class FakeServer:
    """Records requests; answers with the queued responses (an exception is raised as a lost connection)."""

    client: SyncClient

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answers: dict[str, list[httpx.Response | Exception]] = {"/sync/pull": [], "/sync/push": []}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[request.url.path].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def sent(self, path: str) -> list[httpx.Request]:
        return [request for request in self.requests if request.url.path == path]


def ok(body: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, content=msgspec.json.encode(body), headers={"Content-Type": "application/json"})


@pytest.fixture
async def server(store):
    fake = FakeServer()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake), base_url="http://fieldwork.test") as http:
        fake.client = SyncClient(http, store, {"Authorization": "Bearer t"})
        yield fake


async def test_pull_sends_a_null_cursor_then_the_saved_timestamp(server, store):
    server.answers["/sync/pull"] += [ok(pull_answer(timestamp=31)), ok(pull_answer(timestamp=32))]
    await server.client.pull()
    pulled = await server.client.pull()
    first, second = (request.url.params for request in server.sent("/sync/pull"))
    assert dict(first) == {"last_pulled_at": "null", "schema_version": "1", "migration": "null"}
    assert second["last_pulled_at"] == "31" and pulled.timestamp == 32 and store.last_pulled_at == 32
    assert server.requests[0].headers["Authorization"] == "Bearer t"


async def test_a_push_retried_after_a_lost_response_is_the_identical_request(server, store):
    store.apply_pull(pull_answer(timestamp=50))
    store.create("units", {"id": "u1", "number": "1"})
    server.answers["/sync/push"] += [httpx.ReadError("connection reset"), ok({"experimentalRejectedIds": {}})]
    with pytest.raises(httpx.ReadError):
        await server.client.push()
    assert store.outbox() is not None and store.raw("units", "u1")["_status"] == "created"
    store.create("units", {"id": "u2", "number": "2"})  # made after the lost push: not in its retry
    answer = await server.client.push()
    first, retry = server.sent("/sync/push")
    assert (
        retry.content == first.content
        and msgspec.json.decode(first.content)["changes"]["units"]["created"][0]["id"] == "u1"
    )
    assert retry.headers["Idempotency-Key"] == first.headers["Idempotency-Key"]
    assert retry.url.params["last_pulled_at"] == first.url.params["last_pulled_at"] == "50"
    assert answer.rejected_ids == {} and store.outbox() is None
    assert store.raw("units", "u1")["_status"] == "synced" and store.raw("units", "u2")["_status"] == "created"


async def test_a_server_error_keeps_the_outbox_and_a_refusal_clears_it(server, store):
    store.apply_pull(pull_answer(timestamp=50))
    store.create("units", {"id": "u1", "number": "1"})
    problem = {"type": "about:blank", "title": "Invalid", "status": 422, "detail": "units are read-only"}
    server.answers["/sync/push"] += [
        httpx.Response(503, text="busy"),
        httpx.Response(422, json=problem, headers={"Content-Type": "application/problem+json"}),
    ]
    with pytest.raises(SyncUnavailable) as unavailable:
        await server.client.push()
    assert unavailable.value.status == 503 and store.outbox() is not None
    with pytest.raises(SyncRefused) as refused:
        await server.client.push()
    assert refused.value.status == 422 and refused.value.body == problem
    assert store.outbox() is None and store.raw("units", "u1")["_status"] == "created"


async def test_sync_resends_the_outbox_then_pulls_and_pushes_and_retries_rejections_once(server, store):
    store.apply_pull(pull_answer(timestamp=50, handover_notes={"created": [{"id": "n1", **NOTE}]}))
    store.create("units", {"id": "u1", "number": "1"})
    stuck = store.begin_push()
    store.update("handover_notes", "n1", {"status": "resolved"})
    server.answers["/sync/push"] += [
        ok({}),  # the stuck push of u1
        ok({"experimentalRejectedIds": {"handover_notes": ["n1"]}}),
        ok({"experimentalRejectedIds": {}, "applied": {"handover_notes": {"updated": 1}}}),
    ]
    remote_n1 = {"id": "n1", **NOTE, "body": "changed on the server"}
    server.answers["/sync/pull"] += [
        ok(pull_answer(timestamp=60)),
        ok(pull_answer(timestamp=70, handover_notes={"updated": [remote_n1]})),
    ]
    summary = await server.client.sync()
    pushes = server.sent("/sync/push")
    assert [request.url.path for request in server.requests] == [
        "/sync/push",
        "/sync/pull",
        "/sync/push",
        "/sync/pull",
        "/sync/push",
    ]
    assert pushes[0].content == stuck.body and pushes[0].headers["Idempotency-Key"] == stuck.key
    assert [request.url.params["last_pulled_at"] for request in pushes] == ["50", "60", "70"]
    last = msgspec.json.decode(pushes[2].content)["changes"]["handover_notes"]["updated"][0]
    assert (last["body"], last["status"]) == ("changed on the server", "resolved")
    assert (summary.pulled, summary.pushed, summary.rejected) == (1, 2, 0)
    assert store.pending_changes() == {} and store.last_pulled_at == 70


async def test_sync_with_nothing_to_push_only_pulls(server, store):
    server.answers["/sync/pull"].append(ok(pull_answer(timestamp=9, units={"created": [{"id": "u1", "number": "1"}]})))
    summary = await server.client.sync()
    assert (summary.pulled, summary.pushed, summary.rejected) == (1, 0, 0)
    assert [request.url.path for request in server.requests] == ["/sync/pull"]


async def test_from_server_builds_the_store_from_the_served_schema():
    async def auth() -> dict[str, str]:
        return {"Authorization": "Bearer fresh"}

    def serve(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/sync/schema" and request.headers["Authorization"] == "Bearer fresh"
        return ok(schema_doc())

    async with httpx.AsyncClient(transport=httpx.MockTransport(serve), base_url="http://fieldwork.test") as http:
        client = await SyncClient.from_server(http, ":memory:", auth)
    try:
        assert client.store.schema_version == 1 and client.store.records("handover_notes") == []
    finally:
        client.store.close()


def test_an_outbox_decodes_to_the_changes_it_carries():
    outbox = Outbox(
        key="k", last_pulled_at=1, body=b'{"changes":{"units":{"created":[],"updated":[],"deleted":["u"]}}}'
    )
    assert outbox.changes() == {"units": {"created": [], "updated": [], "deleted": ["u"]}}
