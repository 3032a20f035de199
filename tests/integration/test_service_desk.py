"""The service desk through the public API: the front desk files for a household without the app, a duplicate is
declined with a link to the first, and an owner is refused what is not theirs to do, with nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.clock import FixedClock
from tests.world import add_households, build_org, login

NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


async def file(api, org, headers, **body):
    response = await api.post(f"/properties/{org.property_id}/tickets", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def step(api, headers, ticket_id, action, expect=200, **body):
    response = await api.post(f"/tickets/{ticket_id}/steps", headers=headers, json={"action": action, **body})
    assert response.status_code == expect, response.text
    return response.json()


async def test_a_front_desk_complaint_by_phone_and_a_duplicate_declined_with_a_link(api, db, clock):
    org = await build_org(db, "sd1")
    desk = await login(api, org, "staff")
    complaint = {
        "kind": "complaint",
        "category": "safety",
        "description": "楼下装修噪音每天早上七点开始 renovation noise from 7 am",
        "request": "请物业协调施工时间",
        "unit_id": org.other_unit_id,  # a household whose owner has no account
        "channel": "hotline",
        "caller_name": "王阿姨",
        "caller_phone": "13800138000",
        "occurred_at": "2026-03-02T07:00:00+08:00",
    }
    first = await file(api, org, desk, id="call-1", **complaint)
    assert (first["status"], first["channel"], first["building_id"]) == ("received", "hotline", org.building_id)
    assert (first["caller_name"], first["reported_by"]) == ("王阿姨", org.ids["staff"])
    assert [e["action"] for e in first["timeline"]] == ["file"]
    again = await api.post(f"/properties/{org.property_id}/tickets", headers=desk, json={"id": "call-1", **complaint})
    assert again.status_code == 200 and again.json()["id"] == "call-1", "a retry files nothing new"
    assert await db.fetchval("SELECT count(*) FROM tickets") == 1

    second = await file(api, org, desk, **{**complaint, "caller_name": "李先生"})
    declined = await step(api, desk, second["id"], "decline", note="同一噪音投诉已受理", duplicate_of="call-1")
    assert (declined["status"], declined["duplicate_of"], declined["decline_reason"]) == (
        "declined",
        "call-1",
        "同一噪音投诉已受理",
    )
    accepted = await step(api, desk, "call-1", "accept")
    received = datetime.fromisoformat(accepted["received_at"])
    assert datetime.fromisoformat(accepted["respond_due_at"]) == received + timedelta(hours=24)
    assert datetime.fromisoformat(accepted["resolve_due_original"]) == received + timedelta(hours=72)
    bad = await api.post(
        f"/tickets/{second['id']}/steps", headers=desk, json={"action": "decline", "note": "x", "duplicate_of": "nope"}
    )
    assert bad.status_code == 409, "a declined ticket takes no second decline"
    audit = await db.fetch("SELECT action FROM audit_log WHERE entity = 'ticket' ORDER BY id")
    assert [a["action"] for a in audit] == ["ticket.file", "ticket.file", "ticket.decline", "ticket.accept"]


async def test_an_owner_is_refused_what_is_not_theirs_and_nothing_changes(api, db, clock):
    org = await build_org(db, "sd2")
    await add_households(db, org, 1)
    owner, neighbour = await login(api, org, "owner"), await login(api, org, "owner0")
    mine = await file(
        api, org, owner, kind="repair", category="engineering", description="厨房水管漏水", unit_id=org.unit_id
    )
    assert mine["channel"] == "app" and mine["allowed"] == ["note"]
    refused = await api.post(
        f"/properties/{org.property_id}/tickets",
        headers=neighbour,
        json={"kind": "repair", "category": "engineering", "description": "x", "unit_id": org.unit_id},
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "unit_id"

    def snapshot():
        return db.fetchrow(
            "SELECT (SELECT row_to_json(t)::text FROM tickets t) AS ticket,"
            " (SELECT count(*) FROM ticket_events) AS events, (SELECT count(*) FROM audit_log) AS audit,"
            " (SELECT count(*) FROM notifications) AS notices"
        )

    before = await snapshot()
    assert (await api.get(f"/tickets/{mine['id']}", headers=neighbour)).status_code == 404
    answer = await api.post(f"/tickets/{mine['id']}/steps", headers=neighbour, json={"action": "note", "note": "hi"})
    assert answer.status_code == 404
    answer = await api.post(f"/tickets/{mine['id']}/steps", headers=owner, json={"action": "accept"})
    assert answer.status_code == 403, answer.text
    answer = await api.post(f"/tickets/{mine['id']}/steps", headers=owner, json={"action": "resolve", "note": "ok"})
    assert answer.status_code == 403
    answer = await api.post(f"/tickets/{mine['id']}/steps", headers=owner, json={"action": "visit", "rating": 5})
    assert answer.status_code == 409, answer.text
    assert answer.json()["allowed"] == ["note"] and answer.json()["state"] == "received"
    assert await snapshot() == before, "nothing changes on any refusal"
    listed = (await api.get("/tickets", headers=neighbour)).json()
    assert listed["items"] == []
    assert [t["id"] for t in (await api.get("/tickets", headers=owner)).json()["items"]] == [mine["id"]]


async def test_a_propertys_promises_and_default_person_and_a_deadline_moved_keeps_the_first(api, db, clock):
    org = await build_org(db, "sd3")
    supervisor, staff = await login(api, org, "supervisor"), await login(api, org, "staff")
    base = f"/properties/{org.property_id}"
    answer = await api.put(
        f"{base}/ticket-promises/repair/engineering",
        headers=supervisor,
        json={"respond_minutes": 60, "resolve_minutes": 480},
    )
    assert answer.status_code == 200, answer.text
    assert (await api.put(f"{base}/ticket-promises/repair/engineering", headers=staff, json={})).status_code == 403
    assert (
        await api.put(
            f"{base}/ticket-promises/parking/x", headers=supervisor, json={"respond_minutes": 1, "resolve_minutes": 2}
        )
    ).status_code == 404
    listed = (await api.get(f"{base}/ticket-promises", headers=staff)).json()
    assert {(p["kind"], p["category"], p["source"]) for p in listed} >= {
        ("repair", "engineering", "property"),
        ("repair", "*", "default"),
        ("complaint", "*", "default"),
    }
    answer = await api.put(
        f"{base}/ticket-assignees/engineering", headers=supervisor, json={"user_id": org.ids["owner"]}
    )
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "user_id", "an owner is not staff"
    answer = await api.put(
        f"{base}/ticket-assignees/engineering", headers=supervisor, json={"user_id": org.ids["staff"]}
    )
    assert answer.status_code == 200

    ticket = await file(
        api, org, staff, kind="repair", category="engineering", description="电梯按钮失灵", location="2号楼电梯"
    )
    accepted = await step(api, staff, ticket["id"], "accept")
    assert accepted["respond_due_at"] == (NOW + timedelta(minutes=60)).isoformat().replace("+00:00", "Z")
    assigned = await step(api, staff, ticket["id"], "assign")
    assert (assigned["status"], assigned["responsible_id"]) == ("assigned", org.ids["staff"])

    later = NOW + timedelta(hours=20)
    moved = await step(
        api, supervisor, ticket["id"], "extend", which="resolve", due_at=later.isoformat(), note="等配件"
    )
    assert moved["resolve_due_at"] == later.isoformat().replace("+00:00", "Z")
    assert moved["resolve_due_original"] == (NOW + timedelta(minutes=480)).isoformat().replace("+00:00", "Z")
    refused = await api.post(
        f"/tickets/{ticket['id']}/steps",
        headers=supervisor,
        json={"action": "extend", "which": "resolve", "due_at": NOW.isoformat(), "note": "x"},
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "due_at"
    assert (
        await api.post(
            f"/tickets/{ticket['id']}/steps",
            headers=staff,
            json={"action": "extend", "which": "resolve", "due_at": later.isoformat(), "note": "x"},
        )
    ).status_code == 403
    # a repair is resolved with an after-photo only
    refused = await api.post(
        f"/tickets/{ticket['id']}/steps", headers=staff, json={"action": "resolve", "note": "修好了"}
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "photos"


async def test_internal_notes_stay_with_staff_and_a_retried_step_is_taken_once(api, db, clock):
    org = await build_org(db, "sd4")
    await add_households(db, org, 1)
    owner, staff = await login(api, org, "owner"), await login(api, org, "staff")
    ticket = await file(api, org, owner, kind="suggestion", category="greening", description="小区东门绿化带可以补种")
    await step(api, staff, ticket["id"], "accept")
    await step(api, staff, ticket["id"], "note", note="预算紧张，明年春季再议", public=False)
    await step(api, staff, ticket["id"], "note", note="已转绿化组评估")
    first = await step(api, staff, ticket["id"], "note", id="note-retry-1", note="评估中")
    again = await step(api, staff, ticket["id"], "note", id="note-retry-1", note="评估中")
    assert first == again
    assert await db.fetchval("SELECT count(*) FROM ticket_events WHERE id = 'note-retry-1'") == 1

    seen_by_owner = [e["body"] for e in (await api.get(f"/tickets/{ticket['id']}", headers=owner)).json()["timeline"]]
    assert "预算紧张，明年春季再议" not in seen_by_owner and "已转绿化组评估" in seen_by_owner
    seen_by_staff = [e["body"] for e in (await api.get(f"/tickets/{ticket['id']}", headers=staff)).json()["timeline"]]
    assert "预算紧张，明年春季再议" in seen_by_staff

    from tests.integration.test_sync_protocol import pull

    pulled = await pull(api, db, owner)
    bodies = {r["body"] for r in pulled["changes"]["ticket_events"]["created"]}
    assert "已转绿化组评估" in bodies and "预算紧张，明年春季再议" not in bodies
    assert [r["id"] for r in pulled["changes"]["tickets"]["created"]] == [ticket["id"]]
    neighbour = await pull(api, db, await login(api, org, "owner0"))
    assert neighbour["changes"]["tickets"]["created"] == [] and neighbour["changes"]["ticket_events"]["created"] == []


async def test_a_silent_owner_is_confirmed_for_after_seven_days(api, db, clock, settings):
    from tests.integration.test_worker import run_job

    org = await build_org(db, "sd5")
    owner, staff = await login(api, org, "owner"), await login(api, org, "staff")
    ticket = await file(api, org, owner, kind="enquiry", category="other", description="快递柜怎么开通？")
    await step(api, staff, ticket["id"], "accept")
    await step(api, staff, ticket["id"], "assign", assignee_id=org.ids["staff"])
    await step(api, staff, ticket["id"], "resolve", note="已电话告知开通方式")
    await run_job(settings, "confirm_silent_tickets", FixedClock(NOW + timedelta(days=6, hours=23)))
    assert await db.fetchval("SELECT status FROM tickets") == "resolved"
    await run_job(settings, "confirm_silent_tickets", FixedClock(NOW + timedelta(days=7)))
    row = await db.fetchrow("SELECT status, confirmed_via, confirmed_at FROM tickets")
    assert (row["status"], row["confirmed_via"], row["confirmed_at"]) == ("confirmed", "auto", NOW + timedelta(days=7))
    audit = await db.fetchrow("SELECT actor_id, after FROM audit_log WHERE action = 'ticket.confirm'")
    assert audit["actor_id"] is None and audit["after"]["confirmed_via"] == "auto"
    await run_job(settings, "confirm_silent_tickets", FixedClock(NOW + timedelta(days=8)))
    assert await db.fetchval("SELECT count(*) FROM ticket_events WHERE action = 'confirm'") == 1


async def test_the_return_visit_falls_due_and_is_chased_until_it_is_made(api, db, clock, settings):
    from tests.integration.test_worker import run_job

    org = await build_org(db, "sd6")
    owner, staff = await login(api, org, "owner"), await login(api, org, "staff")
    ticket = await file(api, org, owner, kind="complaint", category="cleaning", description="垃圾桶满了没人清")
    for action, extra in (
        ("accept", {}),
        ("assign", {"assignee_id": org.ids["staff"]}),
        ("resolve", {"note": "已清运"}),
    ):
        await step(api, staff, ticket["id"], action, **extra)
    for days in (2, 2.5, 3, 3.1):
        await run_job(settings, "chase_deadlines", FixedClock(NOW + timedelta(days=days)))
    visits = await db.fetch(
        "SELECT kind, data ->> 'step' AS step FROM notifications WHERE kind LIKE 'ticket.visit.%' ORDER BY created_at"
    )
    assert [(r["kind"], r["step"]) for r in visits] == [
        ("ticket.visit.remind", "remind-24h"),
        ("ticket.visit.overdue", "overdue"),
    ]
    resolution = await db.fetchval("SELECT count(*) FROM notifications WHERE kind LIKE 'ticket.resolution.%'")
    assert resolution == 0, "a resolved ticket's resolution is not chased"
    await step(api, staff, ticket["id"], "visit", rating=4, channel="phone", note="业主满意")
    await run_job(settings, "chase_deadlines", FixedClock(NOW + timedelta(days=5)))
    assert await db.fetchval("SELECT count(*) FROM notifications WHERE kind LIKE 'ticket.visit.%'") == 2


async def test_a_phone_naming_what_does_not_exist_is_told_so_never_a_500(api, db):
    from tests.integration.test_sync_protocol import changes, pull, push

    org = await build_org(db, "sd7")
    owner = await login(api, org, "owner")
    first = await pull(api, db, owner)
    at = int(NOW.timestamp() * 1000)
    ticket = {
        "id": "t-ghost",
        "property_id": org.property_id,
        "kind": "repair",
        "category": "engineering",
        "channel": "app",
        "unit_id": "no-such-unit",
        "reported_by": org.ids["owner"],
        "description": "x",
        "created_at": at,
    }
    answer = await push(api, owner, first["timestamp"], changes("tickets", [ticket]))
    assert answer.status_code == 422 and "not a unit of this property" in answer.json()["detail"], answer.text
    wrong_channel = await push(
        api, owner, first["timestamp"], changes("tickets", [{**ticket, "unit_id": org.unit_id, "channel": "hotline"}])
    )
    assert wrong_channel.status_code == 422 and "channel" in wrong_channel.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM tickets") == 0
    event = {
        "id": "ev-ghost",
        "ticket_id": "no-such-ticket",
        "property_id": org.property_id,
        "action": "confirm",
        "actor_id": org.ids["owner"],
        "created_at": at,
    }
    answer = await push(api, owner, first["timestamp"], changes("ticket_events", [event]))
    assert answer.status_code == 200, answer.text
    stored = await db.fetchrow("SELECT outcome, refusal_zh FROM ticket_events WHERE id = 'ev-ghost'")
    assert (stored["outcome"], stored["refusal_zh"]) == ("refused", "未找到该工单")

    # a rating no scale has, on a ticket that is the owner's and resolved
    staff = await login(api, org, "staff")
    real = await file(api, org, owner, kind="enquiry", category="other", description="门禁卡怎么补办")
    for action, extra in (
        ("accept", {}),
        ("assign", {"assignee_id": org.ids["staff"]}),
        ("resolve", {"note": "已答复"}),
    ):
        await step(api, staff, real["id"], action, **extra)
    later = await pull(api, db, owner)
    rated = {**event, "id": "ev-seven", "ticket_id": real["id"], "action": "visit", "rating": 7}
    answer = await push(api, owner, later["timestamp"], changes("ticket_events", [rated]))
    assert answer.status_code == 200, answer.text
    stored = await db.fetchrow("SELECT outcome, refusal_en FROM ticket_events WHERE id = 'ev-seven'")
    assert stored["outcome"] == "refused" and "rating" in stored["refusal_en"]
    assert await db.fetchval("SELECT status FROM tickets WHERE id = $1", real["id"]) == "resolved"


async def test_a_supervisor_moves_a_deadline_from_the_phone(api, db):
    import json

    from tests.integration.test_sync_protocol import changes, pull, push

    org = await build_org(db, "sd8")
    supervisor, staff = await login(api, org, "supervisor"), await login(api, org, "staff")
    ticket = await file(api, org, staff, kind="repair", category="engineering", description="水泵房漏水", location="B2")
    accepted = await step(api, staff, ticket["id"], "accept")
    first = await pull(api, db, supervisor)
    at = int(NOW.timestamp() * 1000)

    def extend(event_id, due_at):
        data = json.dumps({"which": "resolve", "due_at": due_at})
        return {
            "id": event_id,
            "ticket_id": ticket["id"],
            "property_id": org.property_id,
            "action": "extend",
            "body": "等水泵配件",
            "data": data,
            "actor_id": org.ids["supervisor"],
            "created_at": at,
        }

    naive = await push(
        api, supervisor, first["timestamp"], changes("ticket_events", [extend("ev-naive", "2026-03-05T10:00:00")])
    )
    assert naive.status_code == 200, naive.text
    assert await db.fetchval("SELECT outcome FROM ticket_events WHERE id = 'ev-naive'") == "refused"
    later = await pull(api, db, supervisor, first["timestamp"])
    good = await push(
        api, supervisor, later["timestamp"], changes("ticket_events", [extend("ev-good", "2026-03-05T10:00:00+08:00")])
    )
    assert good.status_code == 200, good.text
    row = await db.fetchrow("SELECT resolve_due_at, resolve_due_original FROM tickets")
    assert row["resolve_due_at"] == datetime(2026, 3, 5, 2, tzinfo=UTC)
    assert row["resolve_due_original"].isoformat().replace("+00:00", "Z") == accepted["resolve_due_original"]
