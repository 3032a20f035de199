"""Owner meetings (业主会议) against the real app, worker, PostgreSQL and Redis: a schedule makes the quarter's
meeting, its notice reaches the property's owners (and no one else's), owners pull it without minutes, staff
draft the minutes and attach files, and once published the owners of that property, and only they, read them.

The app and the worker read one clock, fixed at NOW, so the quarters and the dates below hold on any day."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.access import Caller
from core.clock import FixedClock
from core.people import service as people
from core.people.schemas import UserCreate
from core.places import service as places
from core.places.schemas import BuildingCreate, UnitCreate
from meetings.files import MAX_ATTACHMENT_BYTES
from meetings.service import quarter_of
from tests.integration.test_sync_protocol import pull
from tests.integration.test_worker import run_job
from tests.world import Org, build_org, login

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai on a Monday in the fourth quarter
PDF = b"%PDF-1.4\n% minutes of the owners' meeting\n" + bytes(range(256)) * 40


async def add_neighbour(db, org: Org) -> str:
    """An owner of a unit of the org's other property: they must never see this property's meetings."""
    admin = Caller(org_id=org.org_id, user_id=org.ids["admin"], role="admin", session_id="test")
    building = await places.create_building(db, admin, org.other_property_id, BuildingCreate(name="2号楼"))
    unit = await places.create_unit(db, admin, org.other_property_id, UnitCreate(building_id=building.id, number="201"))
    user = await people.create_user(db, admin, UserCreate(name="Neighbour", role="owner", email=org.email("neighbour")))
    await people.link_owner(db, admin, unit.id, user.id)
    await db.execute(
        "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE id = $1), activated_at = now() "
        "WHERE id = $2",
        org.ids["admin"],
        user.id,
    )
    org.ids["neighbour"] = user.id
    return unit.id


@pytest.fixture
async def site(api, db):
    org = await build_org(db, "mt")
    neighbour_unit = await add_neighbour(db, org)
    heads = {who: await login(api, org, who) for who in ("admin", "supervisor", "staff", "owner", "neighbour")}
    return org, heads, neighbour_unit


@pytest.fixture
def clock() -> FixedClock:
    """The app's clock (tests/conftest.py serves the app with it) and the worker's, fixed at NOW."""
    return FixedClock(NOW)


def local_evening(days_ahead: int) -> datetime:
    """19:00 in Shanghai, some days after NOW."""
    day = NOW.astimezone(SHANGHAI) + timedelta(days=days_ahead)
    return day.replace(hour=19, minute=0, second=0, microsecond=0)


def meeting_body(starts: datetime, **more):
    return {
        "title_zh": "第一季度业主会议",
        "title_en": "Q1 owners' meeting",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        **more,
    }


async def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


async def hand_made(api, org, admin, starts, property_id=None):
    path = f"/properties/{property_id or org.property_id}/meetings"
    return await ok(await api.post(path, headers=admin, json=meeting_body(starts)), 201)


async def quarterly(api, org, admin, starts):
    """An owner_meeting schedule (every three months by default) whose first occurrence is `starts`."""
    body = {"kind": "owner_meeting", "name": "季度业主会议", "dtstart_local": starts.replace(tzinfo=None).isoformat()}
    return await ok(await api.post(f"/properties/{org.property_id}/schedules", headers=admin, json=body), 201)


def meetings_in(answer):
    section = answer["changes"]["owner_meetings"]
    return {row["id"]: row for row in section["created"] + section["updated"]}


async def kinds_in_inbox(api, headers):
    items = (await ok(await api.get("/inbox", headers=headers)))["items"]
    return sorted(item["kind"] for item in items)


async def upload(api, headers, meeting_id, name="会议纪要.pdf", content=PDF, content_type="application/pdf"):
    return await api.post(
        f"/meetings/{meeting_id}/attachments", headers=headers, files={"file": (name, content, content_type)}
    )


async def test_a_scheduled_meeting_is_noticed_and_its_minutes_reach_only_that_property_s_owners(
    api, db, settings, site, clock
):
    org, heads, _ = site
    admin, owner, neighbour = heads["admin"], heads["owner"], heads["neighbour"]
    starts = local_evening(40)
    schedule = await quarterly(api, org, admin, starts)
    owner_since = (await pull(api, db, owner))["timestamp"]

    # the worker's tick makes the quarter's meeting, once, and tells the admins and supervisors
    await run_job(settings, "materialise_schedules", clock)
    await run_job(settings, "materialise_schedules", clock)
    [made] = await db.fetch("SELECT id, quarter, status, occurrence_key, starts_at FROM owner_meetings")
    assert made["status"] == "planned" and made["quarter"] == quarter_of(starts, "Asia/Shanghai")
    assert made["occurrence_key"].startswith(f"{schedule['id']}:") and made["starts_at"] == starts
    announced = await db.fetch("SELECT kind FROM notifications WHERE kind = 'schedule.owner_meeting'")
    assert len(announced) == 1
    meeting_id = made["id"]
    listed = await ok(await api.get(f"/properties/{org.property_id}/meetings", headers=heads["staff"]))
    assert [m["id"] for m in listed["items"]] == [meeting_id]
    assert meetings_in(await pull(api, db, owner, owner_since)) == {}, "a planned meeting is not the owners' yet"

    agenda = [{"title_zh": "物业费收支公示", "title_en": "Service charge accounts"}]
    await ok(await api.patch(f"/meetings/{meeting_id}", headers=admin, json={"location": "会所二楼", "agenda": agenda}))
    noticed = await ok(await api.post(f"/meetings/{meeting_id}/notice", headers=admin))
    assert noticed["status"] == "noticed" and noticed["noticed_at"] is not None
    again = await ok(await api.post(f"/meetings/{meeting_id}/notice", headers=admin))
    assert again["noticed_at"] == noticed["noticed_at"]
    assert await db.fetchval("SELECT count(*) FROM notifications WHERE kind LIKE 'meeting.%'") == 1
    await run_job(settings, "deliver_notifications", clock)
    assert await kinds_in_inbox(api, owner) == ["meeting.notice"]
    assert await kinds_in_inbox(api, neighbour) == []

    # the owner's phone pulls the noticed meeting, without minutes; the neighbour's pulls nothing of it
    answer = await pull(api, db, owner, owner_since)
    row = meetings_in(answer)[meeting_id]
    assert row["status"] == "noticed" and row["location"] == "会所二楼"
    assert json.loads(row["agenda"])[0]["title_en"] == "Service charge accounts"
    assert row["minutes_zh"] is None and row["attachments"] is None
    assert row["owner_property_id"] == org.property_id and not any(name.startswith("minutes_draft") for name in row)
    owner_since = answer["timestamp"]
    neighbour_answer = await pull(api, db, neighbour)
    assert meetings_in(neighbour_answer) == {}
    neighbour_since = neighbour_answer["timestamp"]

    # a supervisor drafts the minutes and attaches a file: staff see them, owners do not
    draft = {
        "minutes_zh": "一、公示物业费收支。二、续聘物业。",
        "minutes_en": "1. Accounts shown. 2. Contract renewed.",
    }
    saved = await ok(await api.put(f"/meetings/{meeting_id}/minutes", headers=heads["supervisor"], json=draft))
    assert saved["minutes_draft_zh"] == draft["minutes_zh"] and saved["minutes_zh"] is None
    attached = await ok(await upload(api, heads["supervisor"], meeting_id), 201)
    file_path = f"/meetings/{meeting_id}/attachments/{attached['id']}"
    assert attached["size_bytes"] == len(PDF) and attached["filename"] == "会议纪要.pdf"
    staff_copy = await api.get(file_path, headers=heads["staff"])
    assert staff_copy.status_code == 200 and staff_copy.content == PDF
    assert (await api.get(file_path, headers=owner)).status_code == 404
    row = meetings_in(await pull(api, db, owner, owner_since)).get(meeting_id, row)
    assert row["minutes_zh"] is None and row["attachments"] is None
    assert "一、" not in json.dumps(await pull(api, db, owner)), "the draft is in no pull"

    refused = await api.post(f"/meetings/{meeting_id}/minutes/publish", headers=heads["staff"])
    assert refused.status_code == 403, refused.text
    published = await ok(await api.post(f"/meetings/{meeting_id}/minutes/publish", headers=admin))
    assert published["status"] == "held" and published["minutes_en"] == draft["minutes_en"]
    assert published["attachments"] == [
        {"id": attached["id"], "filename": "会议纪要.pdf", "content_type": "application/pdf", "size_bytes": len(PDF)}
    ]

    # now the owner pulls the minutes and downloads the file; the neighbour still sees nothing and gets 404
    row = meetings_in(await pull(api, db, owner, owner_since))[meeting_id]
    assert row["minutes_zh"] == draft["minutes_zh"] and row["minutes_published_at"] is not None
    assert [a["id"] for a in json.loads(row["attachments"])] == [attached["id"]]
    download = await api.get(file_path, headers=owner)
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"].startswith("application/pdf")
    assert "attachment;" in download.headers["content-disposition"]
    assert meetings_in(await pull(api, db, neighbour, neighbour_since)) == {}
    assert meetings_in(await pull(api, db, neighbour)) == {}
    assert (await api.get(file_path, headers=neighbour)).status_code == 404
    await run_job(settings, "deliver_notifications", clock)
    assert await kinds_in_inbox(api, owner) == ["meeting.minutes", "meeting.notice"]
    assert await kinds_in_inbox(api, neighbour) == []
    assert (await ok(await api.post(f"/meetings/{meeting_id}/minutes/publish", headers=admin)))["status"] == "held"
    assert await db.fetchval("SELECT count(*) FROM notifications WHERE kind = 'meeting.minutes'") == 1


async def test_one_meeting_per_property_per_quarter(api, db, settings, site, clock):
    org, heads, _ = site
    admin = heads["admin"]
    # the first day of a quarter in Shanghai is still the previous quarter in UTC: the property's zone decides
    starts = datetime(2027, 4, 1, 7, 30, tzinfo=SHANGHAI)
    first = await hand_made(api, org, admin, starts)
    assert first["quarter"] == "2027Q2" and first["status"] == "planned"
    again = await api.post(
        f"/properties/{org.property_id}/meetings", headers=admin, json=meeting_body(starts + timedelta(days=30))
    )
    assert again.status_code == 409 and again.json()["code"] == "meeting_exists"
    assert again.headers["content-type"] == "application/problem+json"
    await hand_made(api, org, admin, starts, property_id=org.other_property_id)
    later = await hand_made(api, org, admin, starts + timedelta(days=100))
    assert later["quarter"] == "2027Q3"
    moved = await api.patch(
        f"/meetings/{later['id']}",
        headers=admin,
        json={"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=1)).isoformat()},
    )
    assert moved.status_code == 409, moved.text
    backwards = await api.patch(f"/meetings/{later['id']}", headers=admin, json={"ends_at": starts.isoformat()})
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "ends_at"

    # a schedule whose occurrence falls in a quarter with a meeting made by hand leaves that one alone
    upcoming = local_evening(40)
    hand = await hand_made(api, org, admin, upcoming + timedelta(hours=1))
    await quarterly(api, org, admin, upcoming)
    await run_job(settings, "materialise_schedules", clock)
    rows = await db.fetch(
        "SELECT id FROM owner_meetings WHERE quarter = $1 AND property_id = $2", hand["quarter"], org.property_id
    )
    assert [r["id"] for r in rows] == [hand["id"]]
    assert await db.fetchval("SELECT count(*) FROM schedule_occurrences") == 1
    assert await db.fetchval("SELECT count(*) FROM notifications WHERE kind = 'schedule.owner_meeting'") == 0


async def test_attendance_is_checked_and_counted(api, db, site):
    org, heads, neighbour_unit = site
    admin, supervisor = heads["admin"], heads["supervisor"]
    meeting = await hand_made(api, org, admin, local_evening(10))
    path = f"/meetings/{meeting['id']}/attendance"
    early = await api.put(path, headers=supervisor, json={"units": [{"unit_id": org.unit_id, "present": True}]})
    assert early.status_code == 409 and early.json()["code"] == "not_noticed"
    await ok(await api.post(f"/meetings/{meeting['id']}/notice", headers=admin))

    wrong = await api.put(
        path,
        headers=supervisor,
        json={
            "units": [
                {"unit_id": org.unit_id, "present": True},
                {"unit_id": neighbour_unit, "present": True},
                {"unit_id": org.unit_id, "present": False},
            ]
        },
    )
    assert wrong.status_code == 422, wrong.text
    assert [(e["field"], e["row"]) for e in wrong.json()["errors"]] == [("units.1.unit_id", 1), ("units.2.unit_id", 2)]
    staff = await api.put(path, headers=heads["staff"], json={"units": []})
    assert staff.status_code == 403

    entries = [
        {"unit_id": org.unit_id, "present": True, "proxy_name": "张三"},
        {"unit_id": org.other_unit_id, "present": False},
    ]
    recorded = await ok(await api.put(path, headers=supervisor, json={"units": entries}))
    assert (recorded["invited"], recorded["present"], recorded["by_proxy"], recorded["rate"]) == (2, 1, 1, 0.5)
    assert [u["recorded_by"] for u in recorded["units"]] == [org.ids["supervisor"]] * 2
    read = await ok(await api.get(path, headers=heads["staff"]))
    assert read == recorded
    fewer = await ok(await api.put(path, headers=admin, json={"units": entries[:1]}))
    assert [u["unit_id"] for u in fewer["units"]] == [org.unit_id] and fewer["units"][0]["recorded_by"] == org.ids[
        "supervisor"
    ]
    assert (await api.get(path, headers=heads["owner"])).status_code == 403


async def test_who_may_do_what_with_a_meeting(api, db, site):
    org, heads, _ = site
    admin, supervisor, staff, owner = heads["admin"], heads["supervisor"], heads["staff"], heads["owner"]
    body = meeting_body(local_evening(10))
    assert (await api.post(f"/properties/{org.property_id}/meetings", headers=supervisor, json=body)).status_code == 403
    meeting = await hand_made(api, org, admin, local_evening(10))
    path = f"/meetings/{meeting['id']}"
    assert (await api.post(f"{path}/notice", headers=supervisor)).status_code == 403
    assert (await api.patch(path, headers=staff, json={"location": "x"})).status_code == 403
    assert (
        await api.put(f"{path}/minutes", headers=staff, json={"minutes_zh": "a", "minutes_en": "b"})
    ).status_code == 403
    assert (await upload(api, staff, meeting["id"])).status_code == 403
    early = await api.post(f"{path}/minutes/publish", headers=admin)
    assert early.status_code == 409 and early.json()["code"] == "not_noticed"
    await ok(await api.post(f"{path}/notice", headers=admin))
    empty = await api.post(f"{path}/minutes/publish", headers=admin)
    assert empty.status_code == 422 and {e["field"] for e in empty.json()["errors"]} == {"minutes_zh", "minutes_en"}
    await ok(await api.put(f"{path}/minutes", headers=supervisor, json={"minutes_zh": "纪要", "minutes_en": "Minutes"}))
    assert (await api.post(f"{path}/minutes/publish", headers=supervisor)).status_code == 403

    # owners read meetings through sync; other properties' staff and other orgs do not see them at all
    assert (await api.get(path, headers=owner)).status_code == 403
    assert (await api.get(f"/properties/{org.property_id}/meetings", headers=owner)).status_code == 403
    assert (await api.get(path, headers=heads["neighbour"])).status_code == 404
    assert (await api.get(path, headers=await login(api, org, "elsewhere"))).status_code == 404
    stranger = await build_org(db, "mt2")
    assert (await api.get(path, headers=await login(api, stranger, "admin"))).status_code == 404
    assert (await ok(await api.get(path, headers=staff)))["minutes_draft_zh"] == "纪要"

    # attachments: what minutes come as, at most 20 MiB
    script = await upload(api, supervisor, meeting["id"], name="x.html", content=b"<script>", content_type="text/html")
    assert script.status_code == 415, script.text
    big = await upload(api, supervisor, meeting["id"], content=b"\0" * (MAX_ATTACHMENT_BYTES + 1))
    assert big.status_code == 413, big.text
    assert await db.fetchval("SELECT count(*) FROM meeting_attachments") == 0


async def test_a_change_after_the_notice_tells_the_owners_again(api, db, settings, site, clock):
    org, heads, _ = site
    admin = heads["admin"]
    starts = local_evening(20)
    meeting = await hand_made(api, org, admin, starts)
    path = f"/meetings/{meeting['id']}"
    await ok(await api.patch(path, headers=admin, json={"location": "会所"}))
    await ok(await api.post(f"{path}/notice", headers=admin))
    same = await ok(await api.patch(path, headers=admin, json={"location": "会所", "title_zh": meeting["title_zh"]}))
    assert same["updated_at"] == (await ok(await api.get(path, headers=admin)))["updated_at"]
    later = starts + timedelta(hours=1)
    moved = await ok(
        await api.patch(
            path,
            headers=admin,
            json={"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=2)).isoformat()},
        )
    )
    assert datetime.fromisoformat(moved["starts_at"]) == later
    await ok(await api.patch(path, headers=admin, json={"location": "小区广场"}))
    sent = await db.fetch(
        "SELECT kind, body_zh, (SELECT array_agg(channel) FROM notification_deliveries d "
        "WHERE d.notification_id = n.id) AS recipients FROM notifications n WHERE kind LIKE 'meeting.%' "
        "ORDER BY created_at"
    )
    assert [r["kind"] for r in sent] == ["meeting.notice", "meeting.updated", "meeting.updated"]
    assert all(r["recipients"] == [f"inbox:{org.ids['owner']}"] for r in sent)
    assert "小区广场" in sent[-1]["body_zh"] and f"{later.astimezone(SHANGHAI):%H:%M}" in sent[-1]["body_zh"]
    await run_job(settings, "deliver_notifications", clock)
    assert await kinds_in_inbox(api, heads["owner"]) == ["meeting.notice", "meeting.updated", "meeting.updated"]


async def notices_of(db, meeting_id):
    """(kind, recipients) of every notification about the meeting, oldest first."""
    rows = await db.fetch(
        """SELECT n.kind, array_agg(substr(d.channel, 7) ORDER BY d.channel) AS recipients
           FROM notifications n JOIN notification_deliveries d ON d.org_id = n.org_id AND d.notification_id = n.id
           WHERE n.record_id = $1 AND d.channel LIKE 'inbox:%' GROUP BY n.org_id, n.id ORDER BY min(n.created_at)""",
        meeting_id,
    )
    return [(r["kind"], sorted(r["recipients"])) for r in rows]


async def test_a_meeting_not_noticed_a_week_ahead_is_flagged_and_owners_are_reminded_the_day_before(
    api, db, settings, site
):
    org, heads, _ = site
    admin = heads["admin"]
    starts = local_evening(10)
    meeting = await hand_made(api, org, admin, starts)
    for before in (timedelta(days=8), timedelta(days=7, minutes=-5), timedelta(days=6)):
        await run_job(settings, "remind_meetings", FixedClock(starts - before))
    staff_told = sorted([org.ids["admin"], org.ids["supervisor"]])
    assert await notices_of(db, meeting["id"]) == [("meeting.notice_due", staff_told)]

    await ok(await api.post(f"/meetings/{meeting['id']}/notice", headers=admin))  # at NOW, ten days ahead
    for before in (timedelta(days=2), timedelta(hours=23), timedelta(hours=1), timedelta(minutes=-5)):
        await run_job(settings, "remind_meetings", FixedClock(starts - before))
    owner = [org.ids["owner"]]
    assert await notices_of(db, meeting["id"]) == [
        ("meeting.notice_due", staff_told),
        ("meeting.notice", owner),
        ("meeting.reminder", owner),
    ]
    [reminder] = await db.fetch("SELECT title_zh, body_en FROM notifications WHERE kind = 'meeting.reminder'")
    assert reminder["title_zh"] == "业主会议明天举行：第一季度业主会议" and "19:00" in reminder["body_en"]


async def test_a_meeting_moved_is_reminded_again_and_one_noticed_within_the_day_is_not(api, db, settings, site):
    org, heads, _ = site
    admin = heads["admin"]
    starts = local_evening(3)  # within the week already: flagged at the first tick
    meeting = await hand_made(api, org, admin, starts)
    await run_job(settings, "remind_meetings", FixedClock(NOW))
    later = starts + timedelta(days=1)
    body = {"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=2)).isoformat()}
    await ok(await api.patch(f"/meetings/{meeting['id']}", headers=admin, json=body))
    await run_job(settings, "remind_meetings", FixedClock(NOW + timedelta(minutes=10)))
    assert [kind for kind, _ in await notices_of(db, meeting["id"])] == ["meeting.notice_due", "meeting.notice_due"]

    # noticed at NOW, 20 hours before the meeting: the notice is reminder enough
    soon = await hand_made(api, org, admin, NOW + timedelta(hours=20), property_id=org.other_property_id)
    await ok(await api.post(f"/meetings/{soon['id']}/notice", headers=admin))
    await run_job(settings, "remind_meetings", FixedClock(NOW + timedelta(hours=1)))
    assert [kind for kind, _ in await notices_of(db, soon["id"])] == ["meeting.notice"]


async def test_a_meeting_is_cancelled_once_its_owners_are_told_and_nothing_more_happens_to_it(
    api, db, settings, site, clock
):
    org, heads, _ = site
    admin, supervisor, owner = heads["admin"], heads["supervisor"], heads["owner"]
    starts = local_evening(10)
    meeting = await hand_made(api, org, admin, starts)
    path = f"/meetings/{meeting['id']}"
    await ok(await api.post(f"{path}/notice", headers=admin))
    owner_since = (await pull(api, db, owner))["timestamp"]

    reason = {"reason": "会所维修 the club house is under repair"}
    assert (await api.post(f"{path}/cancel", headers=heads["staff"], json=reason)).status_code == 403
    assert (await api.post(f"{path}/cancel", headers=supervisor, json={"reason": ""})).status_code == 422
    cancelled = await ok(await api.post(f"{path}/cancel", headers=supervisor, json=reason))
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == reason["reason"]
    again = await ok(await api.post(f"{path}/cancel", headers=admin, json={"reason": "again"}))
    assert (again["cancelled_at"], again["cancel_reason"]) == (cancelled["cancelled_at"], reason["reason"])
    audited = await db.fetch("SELECT actor_id FROM audit_log WHERE action = 'meeting.cancel'")
    assert [r["actor_id"] for r in audited] == [org.ids["supervisor"]]

    # the owners are told once, and their phones pull it cancelled, with the reason
    await run_job(settings, "deliver_notifications", clock)
    assert await kinds_in_inbox(api, owner) == ["meeting.cancelled", "meeting.notice"]
    [told] = await db.fetch("SELECT body_zh FROM notifications WHERE kind = 'meeting.cancelled'")
    assert "会所维修" in told["body_zh"]
    row = meetings_in(await pull(api, db, owner, owner_since))[meeting["id"]]
    assert (row["status"], row["cancel_reason"]) == ("cancelled", reason["reason"]) and row["cancelled_at"]

    # nothing more happens to it: each step answers 409 naming what a cancelled meeting allows (nothing)
    for method, step, body in (
        ("post", "/notice", None),
        ("post", "/minutes/publish", None),
        ("patch", "", {"location": "x"}),
        ("put", "/minutes", {"minutes_zh": "a", "minutes_en": "b"}),
        ("put", "/attendance", {"units": []}),
    ):
        refused = await api.request(method.upper(), f"{path}{step}", headers=admin, json=body)
        assert refused.status_code == 409, (step, refused.text)
        assert (refused.json()["code"], refused.json()["allowed"]) == ("meeting_cancelled", []), step
    for before in (timedelta(days=7), timedelta(hours=12)):
        await run_job(settings, "remind_meetings", FixedClock(starts - before))
    assert await db.fetchval("SELECT count(*) FROM notifications WHERE kind LIKE 'meeting.%'") == 2

    # its quarter is free again
    await hand_made(api, org, admin, starts + timedelta(days=1))


async def test_a_planned_meeting_is_cancelled_quietly_and_a_held_one_cannot_be(api, db, site):
    org, heads, _ = site
    admin = heads["admin"]
    planned = await hand_made(api, org, admin, local_evening(10))
    await ok(await api.post(f"/meetings/{planned['id']}/cancel", headers=admin, json={"reason": "改期 postponed"}))
    assert await db.fetchval("SELECT count(*) FROM notifications WHERE record_id = $1", planned["id"]) == 0

    held = await hand_made(api, org, admin, local_evening(10), property_id=org.other_property_id)
    path = f"/meetings/{held['id']}"
    not_yet = await api.post(f"{path}/minutes/publish", headers=admin)
    assert not_yet.json()["allowed"] == ["update", "notice", "minutes", "attachments", "cancel"]
    await ok(await api.post(f"{path}/notice", headers=admin))
    await ok(await api.put(f"{path}/minutes", headers=admin, json={"minutes_zh": "纪要", "minutes_en": "Minutes"}))
    await ok(await api.post(f"{path}/minutes/publish", headers=admin))
    refused = await api.post(f"{path}/cancel", headers=admin, json={"reason": "too late"})
    assert refused.status_code == 409 and refused.json()["code"] == "meeting_held"
    assert refused.json()["allowed"] == ["attendance", "minutes", "attachments", "publish"]
