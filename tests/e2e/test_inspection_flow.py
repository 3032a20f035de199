"""The loop the product closes, end to end through the public API and the reference sync client: a round
walked offline with a failed item and a photo → the order on the fixer's phone → an after-photo submitted
offline → sent back by a supervisor → resubmitted → verified, with the KPIs following every step."""

from datetime import UTC, datetime, timedelta

from tests.inspection_world import assign_round, device, ms, ok, set_up, tag
from tests.integration.test_sync_protocol import settle
from tests.world import build_org


async def kpis(api, site):
    return await ok(await api.get(f"/properties/{site.org.property_id}/kpis", headers=site.headers["supervisor"]))


async def test_a_failed_item_found_offline_is_fixed_sent_back_and_verified(api, db):
    org = await build_org(db, "flow")
    site = await set_up(api, org)
    planned = await assign_round(api, site)
    staff = await device(api, site, "staff")
    await settle(db)
    await staff.sync()
    local_round = staff.store.get("rounds", planned["id"])
    assert local_round["status"] == "planned" and local_round["template_version_id"] == f"{site.template_id}-v1"
    assert len(staff.store.records("checkpoints")) == 2 and staff.store.records("template_versions")

    # in the basement, offline: start, scan both checkpoints, answer the items, photograph the wet floor
    start = datetime.now(UTC) - timedelta(minutes=30)
    store = staff.store
    store.update("rounds", planned["id"], {"status": "in_progress", "started_at": ms(start)})
    staff_id = org.ids["staff"]
    visits = []
    for n, minutes in ((1, 1), (2, 12)):
        visits.append(
            store.create(
                "checkpoint_visits",
                {
                    "property_id": org.property_id,
                    "round_id": planned["id"],
                    "checkpoint_id": site.checkpoints[n - 1],
                    "checked_by": staff_id,
                    "scanned_tag": tag(site, n),
                    "scanned_at": ms(start + timedelta(minutes=minutes)),
                },
            )
        )

    def answer(visit, key, at, **values):
        return store.create(
            "check_results",
            {
                "property_id": org.property_id,
                "round_id": planned["id"],
                "visit_id": visit,
                "item_key": key,
                "checked_by": staff_id,
                "checked_at": ms(start + timedelta(minutes=at)),
                **values,
            },
        )

    failed = answer(visits[0], "floor", 2, result="fail", note="地面有积水 water on the floor")
    answer(visits[0], "temp", 2, value_number=5.0)
    answer(visits[1], "floor", 13, result="pass")
    answer(visits[1], "temp", 13, value_number=6.5)
    before_photo = store.create(
        "photos",
        {
            "property_id": org.property_id,
            "record_table": "check_results",
            "record_id": failed,
            "uploaded_by": staff_id,
            "purpose": "before",
            "taken_at": ms(start + timedelta(minutes=2)),
        },
    )
    store.update("rounds", planned["id"], {"status": "completed", "completed_at": ms(start + timedelta(minutes=15))})

    # back upstairs: one sync carries the whole round
    summary = await staff.sync()
    assert summary.rejected == 0
    await settle(db)
    await staff.sync()
    done = store.get("rounds", planned["id"])
    assert done["status"] == "completed" and done["plan"] is not None
    timings = {v["checkpoint_id"]: v["timing"] for v in store.records("checkpoint_visits")}
    assert timings == {site.checkpoints[0]: "on_time", site.checkpoints[1]: "on_time"}
    assert store.get("check_results", failed)["outcome"] == "fail"
    orders = store.records("rectification_orders")
    assert len(orders) == 1, "the reporter's phone holds the order its failed item opened"
    order_id = orders[0]["id"]
    assert orders[0]["responsible_id"] == site.fixer and orders[0]["source"] == "check"

    # the fixer's phone gets the order, with a deadline from the item (24 h after the finding)
    fixer = await device(api, site, "fixer")
    await fixer.sync()
    order = fixer.store.get("rectification_orders", order_id)
    assert order is not None and order["status"] == "open" and order["severity"] == "high"
    assert order["due_at"] == ms(start + timedelta(minutes=2, hours=24))
    assert "地面清洁" in order["description"] and "common areas cleaned twice a day" in order["description"]
    figures = await kpis(api, site)
    assert figures["totals"]["rectification"]["opened"] == 1

    # fixed offline: after-photo, started and submitted in one go
    def after_photo():
        return fixer.store.create(
            "photos",
            {
                "property_id": org.property_id,
                "record_table": "rectification_orders",
                "record_id": order_id,
                "uploaded_by": site.fixer,
                "purpose": "after",
                "taken_at": ms(datetime.now(UTC)),
            },
        )

    first_after = after_photo()
    fixer.store.update("rectification_orders", order_id, {"status": "submitted", "resolution_note": "已拖干 mopped"})
    assert (await fixer.sync()).rejected == 0

    supervisor = site.headers["supervisor"]
    queue = await ok(await api.get(f"/properties/{org.property_id}/review-queue", headers=supervisor))
    assert [item["order"]["id"] for item in queue["items"]] == [order_id]
    waiting = queue["items"][0]
    assert waiting["order"]["before_photo_ids"] == [before_photo]
    assert waiting["order"]["after_photo_ids"] == [first_after] and waiting["can_verify"]
    sent_back = await ok(
        await api.post(
            f"/orders/{order_id}/reject", headers=supervisor, json={"reason": "角落仍有积水 corner still wet"}
        )
    )
    assert sent_back["status"] == "in_progress" and sent_back["rejections"] == 1
    figures = await kpis(api, site)
    assert figures["totals"]["rectification"]["reopen_rate"] == 1.0
    assert figures["totals"]["reviews"]["verified"] == 0

    await settle(db)
    await fixer.sync()
    assert fixer.store.get("rectification_orders", order_id)["reject_reason"] == "角落仍有积水 corner still wet"
    second_after = after_photo()
    fixer.store.update("rectification_orders", order_id, {"status": "submitted"})
    assert (await fixer.sync()).rejected == 0
    waiting = (await ok(await api.get(f"/properties/{org.property_id}/review-queue", headers=supervisor)))["items"][0]
    assert set(waiting["order"]["after_photo_ids"]) == {first_after, second_after}
    verified = await ok(await api.post(f"/orders/{order_id}/verify", headers=supervisor))
    assert verified["status"] == "verified" and verified["verified_by"] == org.ids["supervisor"]

    await settle(db)
    await fixer.sync()
    await staff.sync()
    assert fixer.store.get("rectification_orders", order_id)["status"] == "verified"
    assert staff.store.get("rectification_orders", order_id)["status"] == "verified"

    trail = await ok(
        await api.get(
            "/audit", headers=site.headers["admin"], params={"entity": "rectification_order", "entity_id": order_id}
        )
    )
    assert [e["action"] for e in reversed(trail["items"])] == [
        "rectification_order.open",
        "rectification_order.start",
        "rectification_order.submit",
        "rectification_order.reject",
        "rectification_order.submit",
        "rectification_order.verify",
    ]

    figures = await kpis(api, site)
    totals = figures["totals"]
    assert totals["rounds"]["completed"] == 1 and totals["rounds"]["completion_rate"] == 1.0
    assert totals["visits"]["on_time"] == 2 and totals["visits"]["on_time_rate"] == 1.0
    assert totals["items"]["judged"] == 4 and totals["items"]["pass_rate"] == 0.75  # 3 of 4 judged answers passed
    rect = totals["rectification"]
    assert rect["opened"] == 1 and rect["fixed"] == 1 and rect["open"] == 0
    # its deadline (a day after the finding) has not come: not yet due, so not in the on-time rate
    assert rect["due"] == 0 and rect["on_time_rate"] is None
    assert rect["reopen_rate"] == 1.0 and rect["mean_hours_to_fix"] is not None
    reviews = totals["reviews"]
    assert (reviews["reviews"], reviews["rejected"], reviews["verified"]) == (2, 1, 1)
    assert reviews["mean_hours_to_verify"] is not None
    floor = next(i for i in figures["by_item"] if i["item_key"] == "floor")
    assert (floor["passed"], floor["failed"], floor["label_en"]) == (1, 1, "Floor clean")
    wet = next(place for place in figures["by_location"] if place["checkpoint_id"] == site.checkpoints[0])
    assert wet["pass_rate"] == 0.5
    people = {p["user_id"]: p for p in figures["by_staff"]}
    assert people[org.ids["staff"]]["rounds"]["completion_rate"] == 1.0
    assert people[org.ids["staff"]]["items"]["pass_rate"] == 0.75
    assert people[site.fixer]["rectification"]["fixed"] == 1
    assert people[org.ids["supervisor"]]["reviews"]["verified"] == 1
    assert people[site.fixer]["rectification"]["reopen_rate"] == 1.0
