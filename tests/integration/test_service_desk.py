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
