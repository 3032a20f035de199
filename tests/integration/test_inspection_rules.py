"""The rules of inspection work, through the API and sync pushes: versions kept by running rounds, refusals
that change nothing (wrong tag, someone else's round, the wrong verifier, a skipped state), rounds moving
between phones, rounds and reports made on a phone."""

from datetime import UTC, datetime, timedelta

from tests.inspection_world import FLOOR_ITEM, TEMP_ITEM, assign_round, device, ms, now_ms, ok, set_up, tag
from tests.integration.test_sync_protocol import changes, pull, pull_once, push, settle
from tests.world import PASSWORD, build_org, login


def visit(site, round_id, n, who, record_id, at, scanned=None):
    return {
        "id": record_id,
        "property_id": site.org.property_id,
        "round_id": round_id,
        "checkpoint_id": site.checkpoints[n - 1],
        "checked_by": who,
        "scanned_tag": scanned or tag(site, n),
        "scanned_at": at,
    }


def started(round_row, at):
    return {**round_row, "status": "in_progress", "started_at": at}


async def cursor_of(api, db, headers):
    """A cursor covering everything so far (the device has pulled)."""
    return (await pull(api, db, headers))["timestamp"]


async def counts(db):
    return await db.fetchrow(
        "SELECT (SELECT count(*) FROM checkpoint_visits) AS visits, (SELECT count(*) FROM check_results) AS results, "
        "(SELECT count(*) FROM rectification_orders) AS orders, "
        "(SELECT string_agg(status, ',' ORDER BY id) FROM rounds) AS statuses"
    )


async def test_a_template_edited_while_a_round_runs_keeps_the_round_on_its_version(api, db):
    org = await build_org(db, "tv")
    site = await set_up(api, org)
    running = await assign_round(api, site, route=False)
    staff = await device(api, site, "staff")
    await staff.sync()
    staff.store.update("rounds", running["id"], {"status": "in_progress", "started_at": now_ms()})
    await staff.sync()

    bins = {"type": "pass_fail", "key": "bins", "label_zh": "垃圾桶已清空", "label_en": "Bins emptied"}
    edited = await ok(
        await api.put(
            f"/templates/{site.template_id}",
            headers=site.headers["admin"],
            json={
                "name_zh": "楼道保洁",
                "name_en": "Stairwell cleaning",
                "category": "cleaning",
                "items": [FLOOR_ITEM, TEMP_ITEM, bins],
            },
        )
    )
    assert edited["current_version"] == 2
    assert (await ok(await api.get(f"/rounds/{running['id']}", headers=site.headers["supervisor"])))["round"][
        "template_version_id"
    ] == f"{site.template_id}-v1"

    # the running round is completed against version 1: no "bins" item is asked of it
    for key, values in (("floor", {"result": "pass"}), ("temp", {"value_number": 4.0})):
        staff.store.create(
            "check_results",
            {
                "property_id": org.property_id,
                "round_id": running["id"],
                "item_key": key,
                "checked_by": org.ids["staff"],
                "checked_at": now_ms(),
                **values,
            },
        )
    staff.store.update("rounds", running["id"], {"status": "completed"})
    assert (await staff.sync()).rejected == 0
    assert await db.fetchval("SELECT status FROM rounds WHERE id = $1", running["id"]) == "completed"

    fresh = await assign_round(api, site, route=False)
    assert fresh["template_version_id"] == f"{site.template_id}-v2"
    await settle(db)
    await staff.sync()
    assert staff.store.get("template_versions", f"{site.template_id}-v1") is not None
    assert "bins" in staff.store.get("template_versions", f"{site.template_id}-v2")["items"]
    # version 2 asks for bins: completing without it is refused, naming what is missing
    staff.store.update("rounds", fresh["id"], {"status": "in_progress", "started_at": now_ms()})
    for key, values in (("floor", {"result": "pass"}), ("temp", {"value_number": 4.0})):
        staff.store.create(
            "check_results",
            {
                "property_id": org.property_id,
                "round_id": fresh["id"],
                "item_key": key,
                "checked_by": org.ids["staff"],
                "checked_at": now_ms(),
                **values,
            },
        )
    staff.store.update("rounds", fresh["id"], {"status": "completed"})
    body = staff.store.pending_changes()
    refused = await push(api, site.headers["staff"], staff.store.last_pulled_at, body)
    assert refused.status_code == 422, refused.text
    assert "bins" in refused.json()["errors"][0]["message"]
    assert await db.fetchval("SELECT status FROM rounds WHERE id = $1", fresh["id"]) == "planned"


async def test_a_wrong_tag_is_refused_and_nothing_of_the_push_stays(api, db):
    org = await build_org(db, "wt")
    site = await set_up(api, org)
    planned = await assign_round(api, site)
    headers = site.headers["staff"]
    pulled = await pull(api, db, headers)
    since, row = pulled["timestamp"], pulled["changes"]["rounds"]["created"][0]
    at = now_ms()
    before = await counts(db)
    body = changes("rounds", updated=[started(row, at)]) | changes(
        "checkpoint_visits", created=[visit(site, planned["id"], 1, org.ids["staff"], "v1", at, scanned=tag(site, 2))]
    )
    refused = await push(api, headers, since, body)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["table"] == "checkpoint_visits" and problem["id"] == "v1"
    assert problem["errors"][0]["field"] == "checkpoint_visits.v1.scanned_tag"
    assert "wrong tag" in problem["detail"]
    assert await counts(db) == before


async def test_a_check_on_a_round_not_assigned_to_you_is_refused(api, db):
    org = await build_org(db, "na")
    site = await set_up(api, org)
    planned = await assign_round(api, site)
    theirs = site.headers["fixer"]
    since = await cursor_of(api, db, theirs)
    before = await counts(db)
    body = changes("checkpoint_visits", created=[visit(site, planned["id"], 1, site.fixer, "v1", now_ms())])
    refused = await push(api, theirs, since, body)
    assert refused.status_code == 403, refused.text
    assert "not assigned to you" in refused.json()["detail"] and refused.json()["id"] == "v1"
    assert await counts(db) == before


async def test_only_another_supervisor_verifies_and_never_the_one_who_did_the_work(api, db):
    org = await build_org(db, "vf")
    site = await set_up(api, org)
    admin, supervisor = site.headers["admin"], site.headers["supervisor"]
    second = await ok(
        await api.post(
            "/users",
            headers=admin,
            json={"name": "Second 主管", "role": "supervisor", "email": org.email("second"), "password": PASSWORD},
        ),
        201,
    )
    await ok(await api.put(f"/properties/{org.property_id}/staff/{second['id']}", headers=admin))
    order = await ok(
        await api.post(
            f"/properties/{org.property_id}/orders",
            headers=supervisor,
            json={
                "description": "消防通道堆物 fire lane blocked",
                "category": "safety",
                "severity": "critical",
                "responsible_id": org.ids["supervisor"],
            },
        ),
        201,
    )
    assert order["due_at"] and order["status"] == "open"
    elsewhere = await api.post(
        f"/properties/{org.property_id}/orders",
        headers=supervisor,
        json={"description": "x", "category": "safety", "checkpoint_id": "not-here"},
    )
    assert elsewhere.status_code == 422 and elsewhere.json()["errors"][0]["field"] == "checkpoint_id"
    order_id = order["id"]

    skipped = await api.post(f"/orders/{order_id}/submit", headers=supervisor)
    assert skipped.status_code == 409 and skipped.json()["state"] == "open"
    assert (await api.post(f"/orders/{order_id}/verify", headers=supervisor)).status_code == 403
    await ok(await api.post(f"/orders/{order_id}/start", headers=supervisor))
    no_photo = await api.post(f"/orders/{order_id}/submit", headers=supervisor)
    assert no_photo.status_code == 422 and no_photo.json()["errors"][0]["field"] == "photos"

    since = await cursor_of(api, db, supervisor)
    photo = {
        "id": "after1",
        "property_id": org.property_id,
        "record_table": "rectification_orders",
        "record_id": order_id,
        "uploaded_by": org.ids["supervisor"],
        "purpose": "after",
    }
    assert (await push(api, supervisor, since, changes("photos", created=[photo]))).status_code == 200
    await ok(await api.post(f"/orders/{order_id}/submit", headers=supervisor, json={"note": "已清理 cleared"}))

    staff_try = await api.post(f"/orders/{order_id}/verify", headers=site.headers["staff"])
    assert staff_try.status_code == 404  # not theirs, not their business
    own_work = await api.post(f"/orders/{order_id}/verify", headers=supervisor)
    assert own_work.status_code == 403 and "another supervisor" in own_work.json()["detail"]
    second_headers = await login(api, org, "second")
    queue = await ok(await api.get(f"/properties/{org.property_id}/review-queue", headers=supervisor))
    assert queue["items"][0]["can_verify"] is False
    verified = await ok(await api.post(f"/orders/{order_id}/verify", headers=second_headers))
    assert verified["status"] == "verified" and verified["resolution_note"] == "已清理 cleared"
    again = await api.post(f"/orders/{order_id}/verify", headers=second_headers)
    assert again.status_code == 409


async def test_a_phone_cannot_skip_a_state_or_verify_its_own_fix(api, db):
    org = await build_org(db, "sk")
    site = await set_up(api, org)
    order = await ok(
        await api.post(
            f"/properties/{org.property_id}/orders",
            headers=site.headers["supervisor"],
            json={"description": "灯不亮 light out", "category": "cleaning"},
        ),
        201,
    )
    assert order["responsible_id"] == site.fixer  # the property's default for cleaning
    fixer = site.headers["fixer"]
    pulled = await pull(api, db, fixer)
    row = next(r for r in pulled["changes"]["rectification_orders"]["created"] if r["id"] == order["id"])
    skip = await push(
        api, fixer, pulled["timestamp"], changes("rectification_orders", updated=[{**row, "status": "verified"}])
    )
    assert skip.status_code == 409, skip.text
    assert skip.json()["allowed"] == ["in_progress"]
    not_a_supervisor = await api.post(f"/orders/{order['id']}/verify", headers=fixer)
    assert not_a_supervisor.status_code == 403 and "only a supervisor" in not_a_supervisor.json()["detail"]
    assert await db.fetchval("SELECT status FROM rectification_orders WHERE id = $1", order["id"]) == "open"


async def test_a_reassigned_round_leaves_one_phone_and_arrives_on_the_other(api, db):
    org = await build_org(db, "ra")
    site = await set_up(api, org)
    planned = await assign_round(api, site)
    staff, fixer = await device(api, site, "staff"), await device(api, site, "fixer")
    await staff.sync()
    await fixer.sync()
    assert staff.store.get("rounds", planned["id"]) and fixer.store.get("rounds", planned["id"]) is None
    await ok(
        await api.post(
            f"/rounds/{planned['id']}/reassign", headers=site.headers["supervisor"], json={"assignee_id": site.fixer}
        )
    )
    await settle(db)
    await staff.sync()
    assert staff.store.get("rounds", planned["id"]) is None
    answer = await pull_once(api, site.headers["fixer"], fixer.store.last_pulled_at)
    assert [r["id"] for r in answer["changes"]["rounds"]["created"]] == [planned["id"]]
    supervisor = await pull_once(api, site.headers["supervisor"], None)
    assert planned["id"] in [r["id"] for r in supervisor["changes"]["rounds"]["created"]]
    trail = await ok(
        await api.get("/audit", headers=site.headers["admin"], params={"entity": "round", "entity_id": planned["id"]})
    )
    assert trail["items"][0]["action"] == "round.reassign"


async def test_a_round_and_a_report_made_on_a_phone_get_the_server_s_values(api, db):
    org = await build_org(db, "ph")
    site = await set_up(api, org)
    staff = await device(api, site, "staff")
    await staff.sync()
    start = datetime.now(UTC) - timedelta(minutes=20)
    round_id = staff.store.create(
        "rounds",
        {
            "property_id": org.property_id,
            "template_version_id": f"{site.template_id}-v1",
            "route_id": site.route_id,
            "assignee_id": org.ids["staff"],
            "status": "in_progress",
            "started_at": ms(start),
        },
    )
    staff.store.create(
        "checkpoint_visits",
        {
            "property_id": org.property_id,
            "round_id": round_id,
            "checkpoint_id": site.checkpoints[1],
            "checked_by": org.ids["staff"],
            "scanned_tag": tag(site, 2),
            "scanned_at": ms(start + timedelta(minutes=1)),
        },
    )
    report = staff.store.create(
        "rectification_orders",
        {
            "property_id": org.property_id,
            "source": "report",
            "category": "cleaning",
            "severity": "low",
            "description": "电梯厅有垃圾 litter by the lifts",
            "reported_by": org.ids["staff"],
            "status": "open",
            "created_at": ms(start),
        },
    )
    unproven = await push(api, site.headers["staff"], staff.store.last_pulled_at, staff.store.pending_changes())
    assert (
        unproven.status_code == 422 and unproven.json()["errors"][0]["field"] == f"rectification_orders.{report}.photos"
    )
    staff.store.create(
        "photos",
        {
            "property_id": org.property_id,
            "record_table": "rectification_orders",
            "record_id": report,
            "uploaded_by": org.ids["staff"],
            "purpose": "before",
        },
    )
    assert (await staff.sync()).rejected == 0
    await settle(db)
    await staff.sync()
    made = staff.store.get("rounds", round_id)
    assert made["window_start"] == ms(start) and made["window_end"] > made["window_start"] and made["plan"]
    # stop 2 is expected 10 minutes after the start; reached after 1 minute, beyond the 5-minute tolerance
    assert staff.store.records("checkpoint_visits")[0]["timing"] == "early"
    reported = staff.store.get("rectification_orders", report)
    assert reported["responsible_id"] == site.fixer and reported["due_at"] == ms(start + timedelta(hours=168))
    fixer = await device(api, site, "fixer")
    await fixer.sync()
    assert fixer.store.get("rectification_orders", report) is not None
