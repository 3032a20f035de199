"""A repair from an owner's phone to its close, end to end: filed offline with a photo, synced, accepted with the
promised times the owner pulls, assigned, chased by the worker on an injected clock, responded to and resolved
from the engineer's phone with an after-photo, disputed, resolved again, confirmed, a poor return visit that
reopens it, and finally closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from core.clock import FixedClock
from tests.integration.test_sync_protocol import settle
from tests.integration.test_worker import run_job
from tests.photo_world import Phone, jpeg
from tests.world import build_org, login

NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings(settings):
    """Sign-ins that outlast the days this test moves the clock through."""
    return msgspec.structs.replace(settings, access_token_ttl=30 * 24 * 3600)


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


async def synced(phone: Phone, db) -> None:
    """Push what the phone holds, then pull what the server made of it."""
    for _ in range(2):
        await settle(phone.db)
        summary = await phone.client.sync()
        assert summary.rejected == 0


def event(phone: Phone, ticket: dict, action: str, at: datetime, **values) -> str:
    return phone.client.store.create(
        "ticket_events",
        {
            "ticket_id": ticket["id"],
            "property_id": ticket["property_id"],
            "action": action,
            "actor_id": phone.org.ids[phone.who],
            "created_at": ms(at),
            **values,
        },
    )


async def test_a_repair_from_an_offline_phone_to_its_close(api, db, clock, settings):
    org = await build_org(db, "sdf")
    owner, engineer = await Phone.of(api, org, "owner", db), await Phone.of(api, org, "staff", db)
    desk = await login(api, org, "supervisor")

    # offline, in the kitchen: the ticket and its photo row wait in the phone's store
    ticket_id = owner.client.store.create(
        "tickets",
        {
            "property_id": org.property_id,
            "kind": "repair",
            "category": "engineering",
            "channel": "app",
            "unit_id": org.unit_id,
            "reported_by": org.ids["owner"],
            "description": "厨房水槽下水管漏水 kitchen sink pipe leaking",
            "request": "请尽快上门维修",
            "occurred_at": ms(NOW - timedelta(hours=2)),
            "created_at": ms(NOW - timedelta(minutes=20)),
        },
    )
    before_photo = owner.client.store.create(
        "photos",
        {
            "property_id": org.property_id,
            "record_table": "tickets",
            "record_id": ticket_id,
            "uploaded_by": org.ids["owner"],
            "purpose": "before",
        },
    )
    await synced(owner, db)
    assert (await owner.upload(before_photo, jpeg(seed=3))).status_code == 204
    filed = await db.fetchrow("SELECT status, channel, building_id, received_at FROM tickets WHERE id = $1", ticket_id)
    assert (filed["status"], filed["channel"], filed["building_id"]) == ("received", "app", org.building_id)
    assert filed["received_at"] == NOW
    audit = await db.fetchrow("SELECT actor_id, after FROM audit_log WHERE action = 'ticket.file'")
    assert (audit["actor_id"], audit["after"]["channel"]) == (org.ids["owner"], "app")

    accepted = await api.post(f"/tickets/{ticket_id}/steps", headers=desk, json={"action": "accept"})
    assert accepted.status_code == 200, accepted.text
    await run_job(settings, "deliver_notifications", clock)
    await synced(owner, db)
    mine = owner.client.store.get("tickets", ticket_id)
    assert mine["status"] == "accepted"
    assert mine["respond_due_at"] == ms(NOW + timedelta(hours=4)) and mine["resolve_due_at"] == ms(
        NOW + timedelta(hours=24)
    )
    inbox = [r["title_zh"] for r in owner.client.store.records("inbox")]
    assert inbox == ["您的报修已受理：承诺 2026-03-02 13:30 前响应，2026-03-03 09:30 前处理完毕"], inbox

    assigned = await api.post(
        f"/tickets/{ticket_id}/steps", headers=desk, json={"action": "assign", "assignee_id": org.ids["staff"]}
    )
    assert assigned.json()["status"] == "assigned"

    # nobody has called the owner back: the worker reminds the engineer an hour before the promised response,
    # flags it at the deadline and escalates to the supervisors four hours later, each once
    for hours in (2, 3, 3.5, 4, 7, 8.5, 8.5):
        await run_job(settings, "chase_deadlines", FixedClock(NOW + timedelta(hours=hours)))
    chased = await db.fetch(
        """SELECT n.kind, n.data ->> 'step' AS step, array_agg(substr(d.channel, 7) ORDER BY d.channel) AS who
             FROM notifications n JOIN notification_deliveries d ON d.org_id = n.org_id AND d.notification_id = n.id
            WHERE n.record_id = $1 AND n.kind LIKE 'ticket.response.%' AND d.channel LIKE 'inbox:%'
            GROUP BY n.org_id, n.id ORDER BY n.created_at, n.id""",
        ticket_id,
    )
    assert [(r["kind"], r["step"], r["who"]) for r in chased] == [
        ("ticket.response.remind", "remind-1h", [org.ids["staff"]]),
        ("ticket.response.overdue", "overdue", [org.ids["staff"]]),
        ("ticket.response.escalate-supervisors", "escalate-supervisors", [org.ids["supervisor"]]),
    ]

    # the engineer's phone, offline in the basement: arrival (late), then the fix with an after-photo
    await synced(engineer, db)
    clock.advance(hours=9)
    event(engineer, mine, "respond", clock.now(), body="已到现场")
    after_photo = engineer.client.store.create(
        "photos",
        {
            "property_id": org.property_id,
            "record_table": "tickets",
            "record_id": ticket_id,
            "uploaded_by": org.ids["staff"],
            "purpose": "after",
        },
    )
    event(engineer, mine, "resolve", clock.now() + timedelta(minutes=30), body="更换下水管接头")
    clock.advance(hours=1)
    await synced(engineer, db)
    row = await db.fetchrow("SELECT status, responded_at, resolved_at FROM tickets WHERE id = $1", ticket_id)
    assert row["status"] == "resolved"
    assert row["responded_at"] == NOW + timedelta(hours=9)
    assert row["resolved_at"] == NOW + timedelta(hours=9, minutes=30)
    assert (await engineer.upload(after_photo, jpeg(seed=4))).status_code == 204

    # the owner sees the fix: the engineer's after-photo reaches the household's phone, and its bytes
    await synced(owner, db)
    seen = owner.client.store.get("photos", after_photo)
    assert seen is not None and (seen["purpose"], seen["owner_unit_id"]) == ("after", org.unit_id)
    original = await api.get(f"/photos/{after_photo}/original", headers=owner.headers)
    assert original.status_code == 200 and original.content == jpeg(seed=4)

    # the owner disputes from the app; resolved again; confirmed; a poor return visit reopens it
    dispute = event(owner, mine, "dispute", clock.now(), body="还在滴水")
    await synced(owner, db)
    assert owner.client.store.get("ticket_events", dispute)["outcome"] == "applied"
    assert owner.client.store.get("tickets", ticket_id)["status"] == "assigned"
    again = await api.post(
        f"/tickets/{ticket_id}/steps",
        headers=await login(api, org, "staff"),
        json={"action": "resolve", "note": "重新密封"},
    )
    assert again.status_code == 200, again.text
    await synced(owner, db)
    event(owner, owner.client.store.get("tickets", ticket_id), "confirm", clock.now())
    await synced(owner, db)
    assert owner.client.store.get("tickets", ticket_id)["status"] == "confirmed"
    low = event(
        owner, owner.client.store.get("tickets", ticket_id), "visit", clock.now(), rating=2, body="师傅态度一般"
    )
    await synced(owner, db)
    assert owner.client.store.get("ticket_events", low)["outcome"] == "applied"
    reopened = owner.client.store.get("tickets", ticket_id)
    assert (reopened["status"], reopened["reopens"]) == ("assigned", 2)
    told = await db.fetchval(
        "SELECT count(*) FROM notifications WHERE kind = 'ticket.reopened' AND record_id = $1", ticket_id
    )
    assert told == 2, "the supervisors hear of the dispute and of the poor visit"

    # rating before resolution is refused and recorded as such on the phone's event
    early = event(owner, reopened, "visit", clock.now(), rating=5)
    await synced(owner, db)
    refused = owner.client.store.get("ticket_events", early)
    assert refused["outcome"] == "refused" and refused["refusal_zh"].startswith("工单当前状态不允许")

    staff = await login(api, org, "staff")
    done = await api.post(
        f"/tickets/{ticket_id}/steps", headers=staff, json={"action": "resolve", "note": "更换整段水管"}
    )
    assert done.status_code == 200
    visit = await api.post(
        f"/tickets/{ticket_id}/steps", headers=staff, json={"action": "visit", "rating": 5, "channel": "phone"}
    )
    closed = visit.json()
    assert (closed["status"], closed["confirmed_via"], closed["visit_rating"]) == ("closed", "staff", 5)
    timeline = [e["action"] for e in closed["timeline"] if e["outcome"] == "applied"]
    assert timeline == [
        "file",
        "accept",
        "assign",
        "respond",
        "resolve",
        "dispute",
        "resolve",
        "confirm",
        "visit",
        "resolve",
        "visit",
    ]

    # the figures of that day (Shanghai), a minute later: every step counted exactly once
    clock.advance(minutes=1)
    supervisor = await login(api, org, "supervisor")
    period = {"from": "2026-03-02", "to": "2026-03-02"}
    kpis = (await api.get(f"/properties/{org.property_id}/service-desk/kpis", headers=supervisor, params=period)).json()
    totals = kpis["totals"]
    assert totals["intake"] | {} == {"received": 1, "declined": 0, "complaints": 0, "repeats": 0, "repeat_rate": 0.0}
    assert totals["response"] == {
        "due": 1,  # promised by 13:30, answered at 18:30 (after the escalation)
        "on_time": 0,
        "late": 1,
        "not_responded": 0,
        "extended": 0,
        "on_time_rate": 0.0,
        "responded": 1,
        "mean_hours_to_respond": 9.0,
    }
    assert totals["resolution"] == {
        "due": 0,  # promised for tomorrow 09:30
        "on_time": 0,
        "late": 0,
        "not_resolved": 0,
        "extended": 0,
        "on_time_rate": None,
        "resolved": 1,
        "mean_hours_to_resolve": 9.5,  # the first hand-in, from the engineer's phone
        "first_time_fixed": 0,
        "reopened": 1,  # disputed, and rated 2/5
        "first_time_fix_rate": 0.0,
    }
    assert totals["visits"] == {
        "closed": 1,
        "closed_after_visit": 1,
        "visit_coverage": 1.0,
        "rated_visits": 2,
        "mean_rating": 3.5,
        "low_ratings": 1,
    }
    assert totals["confirmation"]["confirmed"] == 1 and totals["confirmation"]["auto_confirmed"] == 0
    assert kpis["complaints_per_100_households"] == 0.0 and kpis["households"] == 2
    [engineer_row] = [s for s in kpis["by_staff"] if s["user_id"] == org.ids["staff"]]
    assert engineer_row["response"]["late"] == 1 and engineer_row["resolution"]["reopened"] == 1
    org_wide = (await api.get("/kpis", headers=supervisor, params=period)).json()
    [mine] = [p for p in org_wide["properties"] if p["property_id"] == org.property_id]
    assert mine["service_desk"]["totals"] == totals
