"""The sync wire protocol over real HTTP, as a WatermelonDB app would speak it."""

import asyncio

from tests.world import build_org, login

NOW_MS = 1_795_000_000_000


def note(org, note_id, author, body="电梯2号异响 lift 2 rattles", **extra):
    return {
        "id": note_id,
        "property_id": org.property_id,
        "author_id": author,
        "body": body,
        "status": "open",
        "resolved_by": None,
        "resolved_at": None,
        "created_at": NOW_MS,
        "_status": "created",
        "_changed": "",
        **extra,
    }


def changes(table, created=(), updated=(), deleted=()):
    return {table: {"created": list(created), "updated": list(updated), "deleted": list(deleted)}}


async def pull_once(api, headers, since=None, **params):
    response = await api.get(
        "/sync/pull", headers=headers, params={"last_pulled_at": "null" if since is None else since, **params}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def settle(db) -> None:
    """Wait until a pull's cursor covers everything committed so far.

    A cursor stops below the oldest transaction still running anywhere in the PostgreSQL cluster (other test
    workers included), so a change can take a moment to become pullable: wait until the cluster's xmin passes a
    transaction id taken now."""
    fence = await db.fetchval("SELECT pg_current_xact_id()::text::bigint")
    deadline = asyncio.get_running_loop().time() + 30
    while await db.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint") <= fence:
        assert asyncio.get_running_loop().time() < deadline, "the cluster's xmin did not pass the fence in 30s"
        await asyncio.sleep(0.05)


async def pull(api, db, headers, since=None, **params):
    """A pull that covers everything committed before it was asked for."""
    await settle(db)
    return await pull_once(api, headers, since, **params)


async def push(api, headers, since, body, key=None):
    extra = {"Idempotency-Key": key} if key else {}
    return await api.post("/sync/push", headers={**headers, **extra}, params={"last_pulled_at": since}, json=body)


async def test_first_pull_holds_the_scope_and_every_table_with_three_arrays(api, db):
    org = await build_org(db, "sp1")
    staff = await login(api, org, "staff")
    answer = await pull(api, db, staff)
    assert isinstance(answer["timestamp"], int) and answer["timestamp"] > 0
    assert "experimentalStrategy" not in answer
    for table in ("properties", "buildings", "units", "handover_notes", "photos"):
        assert set(answer["changes"][table]) == {"created", "updated", "deleted"}
    assert [p["id"] for p in answer["changes"]["properties"]["created"]] == [org.property_id]
    units = answer["changes"]["units"]["created"]
    assert {u["id"] for u in units} == {org.unit_id, org.other_unit_id}
    assert all("_status" not in u and "sync_xid" not in u and "org_id" not in u for u in units)
    # an owner sees their own unit, its building and property, nothing of the neighbours
    owner = await login(api, org, "owner")
    mine = (await pull(api, db, owner))["changes"]
    assert [u["id"] for u in mine["units"]["created"]] == [org.unit_id]
    assert [b["id"] for b in mine["buildings"]["created"]] == [org.building_id]
    assert [p["id"] for p in mine["properties"]["created"]] == [org.property_id]


async def test_push_then_others_pull_it_and_the_pusher_gets_no_echo(api, db):
    org = await build_org(db, "sp2")
    staff = await login(api, org, "staff")
    supervisor = await login(api, org, "supervisor")
    t_staff = (await pull(api, db, staff))["timestamp"]
    t_sup = (await pull(api, db, supervisor))["timestamp"]
    body = changes("handover_notes", created=[note(org, "note0000000000a1", org.ids["staff"])])
    answer = await push(api, staff, t_staff, body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["applied"]["handover_notes"]["created"] == 1
    assert answer.json()["experimentalRejectedIds"] == {}
    seen = await pull(api, db, supervisor, t_sup)
    created = seen["changes"]["handover_notes"]["created"]
    assert [n["id"] for n in created] == ["note0000000000a1"]
    assert created[0]["created_at"] == NOW_MS and created[0]["body"] == "电梯2号异响 lift 2 rattles"
    echo = await pull(api, db, staff, t_staff)
    assert echo["changes"]["handover_notes"] == {"created": [], "updated": [], "deleted": []}


async def test_a_retried_push_changes_nothing_and_a_keyed_retry_replays_the_answer(api, db):
    org = await build_org(db, "sp3")
    staff = await login(api, org, "staff")
    since = (await pull(api, db, staff))["timestamp"]
    body = changes("handover_notes", created=[note(org, "note0000000000b1", org.ids["staff"])])
    first = await push(api, staff, since, body, key="k1")
    again = await push(api, staff, since, body, key="k1")
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["applied"] == first.json()["applied"]
    unkeyed = await push(api, staff, since, body)
    assert unkeyed.json()["applied"]["handover_notes"] == {"created": 0, "updated": 0, "deleted": 0, "unchanged": 1}
    other_body = await push(api, staff, since, changes("handover_notes"), key="k1")
    assert other_body.status_code == 409


async def test_a_record_changed_on_the_server_after_the_pull_is_rejected_alone(api, db):
    org = await build_org(db, "sp4")
    staff = await login(api, org, "staff")
    supervisor = await login(api, org, "supervisor")
    since = (await pull(api, db, staff))["timestamp"]
    await push(api, staff, since, changes("handover_notes", created=[note(org, "shared0000000001", org.ids["staff"])]))
    t_sup = (await pull(api, db, supervisor))["timestamp"]
    t_staff = (await pull(api, db, staff, since))["timestamp"]
    resolved = note(org, "shared0000000001", org.ids["staff"], status="resolved", resolved_by=org.ids["supervisor"])
    assert (await push(api, supervisor, t_sup, changes("handover_notes", updated=[resolved]))).status_code == 200
    edited = note(org, "shared0000000001", org.ids["staff"], body="edited offline")
    fresh = note(org, "fresh00000000001", org.ids["staff"])
    answer = await push(api, staff, t_staff, changes("handover_notes", created=[fresh], updated=[edited]))
    assert answer.status_code == 200, answer.text
    assert answer.json()["experimentalRejectedIds"] == {"handover_notes": ["shared0000000001"]}
    assert answer.json()["rejected"][0]["reason"] == "changed_on_server"
    assert answer.json()["applied"]["handover_notes"]["created"] == 1
    # the device pulls, gets the server's version, and its retry goes through
    pulled = await pull(api, db, staff, t_staff)
    [server] = pulled["changes"]["handover_notes"]["updated"]
    assert server["status"] == "resolved"
    merged = {**server, "body": "edited offline", "_status": "updated", "_changed": "body"}
    retry = await push(api, staff, pulled["timestamp"], changes("handover_notes", updated=[merged]))
    assert retry.json()["applied"]["handover_notes"]["updated"] == 1


async def test_deletes_reach_other_devices_and_a_missing_delete_is_ignored(api, db):
    org = await build_org(db, "sp5")
    staff = await login(api, org, "staff")
    supervisor = await login(api, org, "supervisor")
    since = (await pull(api, db, staff))["timestamp"]
    await push(api, staff, since, changes("handover_notes", created=[note(org, "gone000000000001", org.ids["staff"])]))
    t_sup = (await pull(api, db, supervisor))["timestamp"]
    t_staff = (await pull(api, db, staff, since))["timestamp"]
    gone = await push(api, staff, t_staff, changes("handover_notes", deleted=["gone000000000001", "never0000000001"]))
    assert gone.json()["applied"]["handover_notes"]["deleted"] == 1
    seen = await pull(api, db, supervisor, t_sup)
    assert seen["changes"]["handover_notes"]["deleted"] == ["gone000000000001"]


async def test_refusals_name_the_table_and_id_and_apply_nothing(api, db):
    org = await build_org(db, "sp6")
    staff = await login(api, org, "staff")
    since = (await pull(api, db, staff))["timestamp"]
    good = note(org, "good000000000001", org.ids["staff"])
    cases = [
        ({"secrets": {"created": [], "updated": [], "deleted": []}}, 422, None),
        (
            changes("handover_notes", created=[good, {**note(org, "bad0000000000001", org.ids["staff"]), "x": 1}]),
            422,
            "bad0000000000001",
        ),
        (
            changes("handover_notes", created=[good, note(org, "bad0000000000002", org.ids["staff"], body=5)]),
            422,
            "bad0000000000002",
        ),
        (changes("handover_notes", created=[good, note(org, "bad/../000002", org.ids["staff"])]), 422, None),
        (
            changes("handover_notes", created=[good, note(org, "bad0000000000003", org.ids["supervisor"])]),
            403,
            "bad0000000000003",
        ),
        (changes("units", updated=[{"id": org.unit_id, "number": "999"}]), 403, org.unit_id),
        (
            changes(
                "handover_notes",
                created=[
                    good,
                    {**note(org, "bad0000000000004", org.ids["staff"]), "property_id": org.other_property_id},
                ],
            ),
            403,
            "bad0000000000004",
        ),
        (changes("handover_notes", created=[good, good]), 422, "good000000000001"),
    ]
    for body, status, record_id in cases:
        response = await push(api, staff, since, body)
        assert response.status_code == status, (body, response.text)
        problem = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        if record_id:
            assert problem["id"] == record_id, problem
    assert (await pull(api, db, staff, since))["changes"]["handover_notes"]["created"] == []


async def test_bad_cursors_answer_400(api, db):
    org = await build_org(db, "sp7")
    staff = await login(api, org, "staff")
    for params in ({"last_pulled_at": "yesterday"}, {"last_pulled_at": "-5"}, {"schema_version": "0"}):
        response = await api.get("/sync/pull", headers=staff, params=params)
        assert response.status_code == 400, response.text
    response = await api.post("/sync/push", headers=staff, params={"last_pulled_at": "null"}, json={})
    assert response.status_code == 400


async def test_two_pushes_at_once_are_serialised(api, db):
    org = await build_org(db, "sp8")
    phone = await login(api, org, "staff")
    tablet = await login(api, org, "staff")  # the same person on a second device
    since = (await pull(api, db, phone))["timestamp"]
    await push(api, phone, since, changes("handover_notes", created=[note(org, "race000000000001", org.ids["staff"])]))
    t_phone = (await pull(api, db, phone, since))["timestamp"]
    t_tablet = (await pull(api, db, tablet))["timestamp"]
    edits = [
        push(
            api,
            headers,
            cursor,
            changes("handover_notes", updated=[note(org, "race000000000001", org.ids["staff"], body=body)]),
        )
        for headers, cursor, body in ((phone, t_phone, "from the phone"), (tablet, t_tablet, "from the tablet"))
    ]
    answers = [r.json() for r in await asyncio.gather(*edits)]
    applied = [a["applied"]["handover_notes"]["updated"] for a in answers]
    assert sorted(applied) == [0, 1], answers  # one wins, the other is told to pull: no lost update
    assert sum(len(a["rejected"]) for a in answers) == 1
    # a retry racing its own first attempt (same session, same key) is applied once
    fresh = changes("handover_notes", created=[note(org, "race000000000002", org.ids["staff"])])
    twice = [r.json() for r in await asyncio.gather(*(push(api, phone, t_phone, fresh, key="same") for _ in range(2)))]
    assert sorted(a["replayed"] for a in twice) == [False, True]
    assert await db.fetchval("SELECT count(*) FROM handover_notes WHERE id = 'race000000000002'") == 1


async def test_a_cursor_from_the_future_cannot_hide_conflicts(api, db):
    org = await build_org(db, "sp9")
    staff = await login(api, org, "staff")
    since = (await pull(api, db, staff))["timestamp"]
    body = changes("handover_notes", created=[note(org, "future0000000001", org.ids["staff"])])
    response = await push(api, staff, since + 10**9, body)
    assert response.status_code == 400 and response.json()["parameter"] == "last_pulled_at"
