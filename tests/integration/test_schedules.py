"""Schedules through the API: each kind (campaigns and meetings with their defaults), the preview in local time,
pause and resume in the audit trail, the refusals; and the worker's functions on the stored rows.

The app runs on a FixedClock (08:00 in Shanghai on 20 August 2026), so the previews do not depend on the day the
tests run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.clock import FixedClock
from core.schedules import service
from tests.inspection_world import Site, ok, set_up
from tests.world import build_org, login

NOW = datetime(2026, 8, 20, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    """The app's clock (tests/conftest.py serves the app with it), fixed at NOW."""
    return FixedClock(NOW)


def campaign(**changes):
    return {"kind": "survey_campaign", "name": "业主满意度调查", "dtstart_local": "2026-08-31T09:00:00", **changes}


def round_schedule(site: Site, **changes):
    payload = {
        "template_id": site.template_id,
        "route_id": site.route_id,
        "assignee_ids": [site.org.ids["staff"], site.org.ids["supervisor"]],
    }
    body = {
        "kind": "inspection_round",
        "name": "每日楼道巡查",
        "dtstart_local": "2026-08-21T07:00:00",
        "rrule": "FREQ=DAILY",
        "duration_minutes": 90,
        "payload": payload,
    }
    return {**body, **changes}


def fields_of(response):
    return [e["field"] for e in response.json()["errors"]]


async def create(api, headers, property_id, body, status=201):
    return await ok(await api.post(f"/properties/{property_id}/schedules", headers=headers, json=body), status)


async def test_an_admin_creates_each_kind_and_campaigns_and_meetings_take_their_defaults(api, db):
    org = await build_org(db, "sk")
    site = await set_up(api, org)
    admin, pid = site.headers["admin"], org.property_id

    survey = await create(api, admin, pid, campaign())
    assert {k: survey[k] for k in ("kind", "rrule", "duration_minutes", "payload", "paused", "timezone")} == {
        "kind": "survey_campaign",
        "rrule": "FREQ=MONTHLY;INTERVAL=6",
        "duration_minutes": 14 * 24 * 60,
        "payload": {},
        "paused": False,
        "timezone": "Asia/Shanghai",
    }
    assert (survey["property_id"], survey["dtstart_local"], survey["created_by"]) == (
        pid,
        "2026-08-31T09:00:00",
        org.ids["admin"],
    )
    assert survey["materialised_until"] is None

    meeting = await create(
        api, admin, pid, {"kind": "owner_meeting", "name": "季度业主大会", "dtstart_local": "2026-10-15T19:00:00"}
    )
    assert (meeting["rrule"], meeting["duration_minutes"]) == ("FREQ=MONTHLY;INTERVAL=3", 120)

    # a default is only a default: a campaign may say otherwise
    yearly = await create(api, admin, pid, campaign(name="年度调查", rrule="freq=yearly", duration_minutes=43200))
    assert (yearly["rrule"], yearly["duration_minutes"]) == ("FREQ=YEARLY", 43200)

    rounds = await create(api, admin, pid, round_schedule(site))
    assert rounds["payload"] == {
        "template_id": site.template_id,
        "route_id": site.route_id,
        "assignee_ids": [org.ids["staff"], org.ids["supervisor"]],
    }
    custom = await create(
        api,
        admin,
        pid,
        {
            "kind": "custom",
            "name": "消防演练",
            "dtstart_local": "2026-09-07T10:00:00",
            "rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
            "duration_minutes": 45,
        },
    )
    assert custom["rrule"] == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"

    # inspection rounds and custom schedules have no defaults
    bare = await api.post(
        f"/properties/{pid}/schedules",
        headers=admin,
        json={"kind": "custom", "name": "x", "dtstart_local": "2026-09-07T10:00:00"},
    )
    assert bare.status_code == 422, bare.text
    assert fields_of(bare) == ["rrule", "duration_minutes"]

    supervisor = site.headers["supervisor"]
    listed = await ok(await api.get(f"/properties/{pid}/schedules", headers=supervisor))
    made = [survey, meeting, yearly, rounds, custom]
    assert sorted(s["id"] for s in listed["items"]) == sorted(s["id"] for s in made)
    page = await ok(await api.get(f"/properties/{pid}/schedules", headers=supervisor, params={"limit": 2}))
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = await ok(
        await api.get(
            f"/properties/{pid}/schedules", headers=supervisor, params={"limit": 5, "cursor": page["next_cursor"]}
        )
    )
    assert sorted(s["id"] for s in page["items"] + rest["items"]) == sorted(s["id"] for s in made)
    assert await ok(await api.get(f"/schedules/{rounds['id']}", headers=supervisor)) == rounds
    assert (await ok(await api.get(f"/properties/{org.other_property_id}/schedules", headers=admin)))["items"] == []

    trail = await ok(await api.get("/audit", headers=admin, params={"entity": "schedule", "entity_id": survey["id"]}))
    assert [(e["action"], e["after"]["rrule"]) for e in trail["items"]] == [("create", "FREQ=MONTHLY;INTERVAL=6")]


async def test_preview_gives_the_next_occurrences_in_the_propertys_local_time(api, db):
    org = await build_org(db, "sp")
    admin = await login(api, org, "admin")
    survey = await create(api, admin, org.property_id, campaign())

    preview = await ok(await api.get(f"/schedules/{survey['id']}/preview", headers=admin, params={"count": 4}))
    assert [(o["starts_at"], o["ends_at"], o["local_start"]) for o in preview] == [
        ("2026-08-31T01:00:00Z", "2026-09-14T01:00:00Z", "2026-08-31T09:00:00+08:00"),
        ("2027-02-28T01:00:00Z", "2027-03-14T01:00:00Z", "2027-02-28T09:00:00+08:00"),
        ("2027-08-31T01:00:00Z", "2027-09-14T01:00:00Z", "2027-08-31T09:00:00+08:00"),
        ("2028-02-29T01:00:00Z", "2028-03-14T01:00:00Z", "2028-02-29T09:00:00+08:00"),
    ]
    assert len(await ok(await api.get(f"/schedules/{survey['id']}/preview", headers=admin))) == 10
    for count in (0, 101, "many"):
        refused = await api.get(f"/schedules/{survey['id']}/preview", headers=admin, params={"count": count})
        assert refused.status_code == 400, refused.text

    # a property in New York: 02:30 every day stays 02:30 local, except on the day it does not exist
    await ok(
        await api.patch(f"/properties/{org.other_property_id}", headers=admin, json={"timezone": "America/New_York"})
    )
    nightly = await create(
        api,
        admin,
        org.other_property_id,
        {
            "kind": "custom",
            "name": "night check",
            "dtstart_local": "2027-03-13T02:30:00",
            "rrule": "FREQ=DAILY",
            "duration_minutes": 30,
        },
    )
    preview = await ok(await api.get(f"/schedules/{nightly['id']}/preview", headers=admin, params={"count": 3}))
    assert [(o["starts_at"], o["local_start"]) for o in preview] == [
        ("2027-03-13T07:30:00Z", "2027-03-13T02:30:00-05:00"),
        ("2027-03-14T07:30:00Z", "2027-03-14T03:30:00-04:00"),
        ("2027-03-15T06:30:00Z", "2027-03-15T02:30:00-04:00"),
    ]


async def test_pause_and_resume_are_audited_and_resuming_skips_the_paused_time(api, db):
    org = await build_org(db, "pr")
    admin, supervisor = await login(api, org, "admin"), await login(api, org, "supervisor")
    survey = await create(api, admin, org.property_id, campaign())
    sid = survey["id"]

    refused = await api.post(f"/schedules/{sid}/pause", headers=supervisor)
    assert refused.status_code == 403, refused.text
    paused = await ok(await api.post(f"/schedules/{sid}/pause", headers=admin))
    assert paused["paused"] is True
    assert (await ok(await api.post(f"/schedules/{sid}/pause", headers=admin)))["paused"] is True  # no change
    # a paused schedule still previews what resuming would give
    assert len(await ok(await api.get(f"/schedules/{sid}/preview", headers=supervisor, params={"count": 1}))) == 1

    resumed = await ok(await api.post(f"/schedules/{sid}/resume", headers=admin))
    assert resumed["paused"] is False
    assert resumed["materialised_until"] == "2026-08-20T00:00:00Z"  # the clock's now
    assert (await ok(await api.post(f"/schedules/{sid}/resume", headers=admin)))["paused"] is False

    trail = await ok(await api.get("/audit", headers=admin, params={"entity": "schedule", "entity_id": sid}))
    entries = list(reversed(trail["items"]))
    assert [e["action"] for e in entries] == ["create", "pause", "resume"]
    assert [(e["before"]["paused"], e["after"]["paused"]) for e in entries[1:]] == [(False, True), (True, False)]
    assert {e["actor_id"] for e in entries} == {org.ids["admin"]}


async def test_staff_are_refused_and_other_orgs_see_nothing(api, db):
    org, other = await build_org(db, "sa"), await build_org(db, "sb")
    admin, staff = await login(api, org, "admin"), await login(api, org, "staff")
    survey = await create(api, admin, org.property_id, campaign())
    sid, pid = survey["id"], org.property_id

    for method, path in [
        ("GET", f"/properties/{pid}/schedules"),
        ("POST", f"/properties/{pid}/schedules"),
        ("GET", f"/schedules/{sid}"),
        ("GET", f"/schedules/{sid}/preview"),
        ("POST", f"/schedules/{sid}/pause"),
        ("POST", f"/schedules/{sid}/resume"),
    ]:
        body = campaign() if path.endswith("/schedules") and method == "POST" else None
        response = await api.request(method, path, headers=staff, json=body)
        assert response.status_code == 403, (method, path, response.text)
    supervisor = await login(api, org, "supervisor")
    assert (await api.post(f"/properties/{pid}/schedules", headers=supervisor, json=campaign())).status_code == 403

    stranger = await login(api, other, "admin")
    for method, path in [
        ("GET", f"/properties/{pid}/schedules"),
        ("POST", f"/properties/{pid}/schedules"),
        ("GET", f"/schedules/{sid}"),
        ("GET", f"/schedules/{sid}/preview"),
        ("POST", f"/schedules/{sid}/pause"),
        ("POST", f"/schedules/{sid}/resume"),
    ]:
        body = campaign() if path.endswith("/schedules") and method == "POST" else None
        response = await api.request(method, path, headers=stranger, json=body)
        assert response.status_code == 404, (method, path, response.text)
    # staff of another property of the same org do not learn the schedule exists
    elsewhere = await login(api, org, "elsewhere")
    assert (await api.get(f"/schedules/{sid}", headers=elsewhere)).status_code == 404
    assert (await api.get("/schedules/nope", headers=admin)).status_code == 404


@pytest.mark.parametrize(
    "rule",
    ["FREQ=HOURLY", "FREQ=MINUTELY", "FREQ=MONTHLY;INTERVAL=x", "nonsense", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"],
)
async def test_a_bad_rule_is_refused_naming_rrule(api, db, rule):
    org = await build_org(db, "br")
    admin = await login(api, org, "admin")
    refused = await api.post(f"/properties/{org.property_id}/schedules", headers=admin, json=campaign(rrule=rule))
    assert refused.status_code == 422, refused.text
    assert fields_of(refused) == ["rrule"]
    assert await db.fetchval("SELECT count(*) FROM schedules") == 0


async def test_the_start_is_a_local_time_without_an_offset(api, db):
    org = await build_org(db, "lt")
    admin = await login(api, org, "admin")
    refused = await api.post(
        f"/properties/{org.property_id}/schedules", headers=admin, json=campaign(dtstart_local="2026-08-31T09:00+08:00")
    )
    assert refused.status_code == 422, refused.text
    assert "dtstart_local" in refused.text


async def test_a_round_schedule_names_a_template_route_and_assignees_of_its_property(api, db):
    org = await build_org(db, "rp")
    site = await set_up(api, org)
    admin, pid = site.headers["admin"], org.property_id

    async def refused(body):
        response = await api.post(f"/properties/{pid}/schedules", headers=admin, json=body)
        assert response.status_code == 422, response.text
        return fields_of(response)

    good = round_schedule(site)["payload"]
    assert await refused(round_schedule(site, payload={**good, "template_id": "no-such-template"})) == [
        "payload.template_id"
    ]
    assert await refused(round_schedule(site, payload={**good, "route_id": "no-such-route"})) == ["payload.route_id"]
    strangers = [org.ids["staff"], org.ids["elsewhere"], org.ids["owner"], org.ids["admin"], org.ids["staff"]]
    assert await refused(round_schedule(site, payload={**good, "assignee_ids": strangers})) == [
        "payload.assignee_ids[1]",  # staff of another property
        "payload.assignee_ids[2]",  # an owner
        "payload.assignee_ids[3]",  # admins do not walk rounds
        "payload.assignee_ids[4]",  # listed twice
    ]
    # a route of another property of the org is not this property's
    without_route = {"template_id": site.template_id, "assignee_ids": [org.ids["elsewhere"]]}
    await ok(
        await api.post(
            f"/properties/{org.other_property_id}/schedules",
            headers=admin,
            json=round_schedule(site, payload=without_route),
        ),
        201,
    )
    other_route = await api.post(
        f"/properties/{org.other_property_id}/schedules",
        headers=admin,
        json=round_schedule(site, payload={**good, "assignee_ids": [org.ids["elsewhere"]]}),
    )
    assert other_route.status_code == 422 and fields_of(other_route) == ["payload.route_id"]

    no_payload = round_schedule(site)
    del no_payload["payload"]
    assert await refused(no_payload) == ["payload"]
    assert await refused(campaign(payload=good)) == ["payload"]
    assert await refused(round_schedule(site, payload={**good, "assignee_ids": []})) == ["payload.assignee_ids"]
    # one answer names every field of the schedule itself that is wrong (the payload's are checked after them)
    assert await refused(round_schedule(site, rrule="FREQ=HOURLY", duration_minutes=None)) == [
        "rrule",
        "duration_minutes",
    ]
    assert await db.fetchval("SELECT count(*) FROM schedules WHERE property_id = $1", pid) == 0


async def test_the_worker_finds_active_schedules_of_every_org_and_records_each_occurrence_once(api, db):
    orgs = [await build_org(db, "wa"), await build_org(db, "wb")]
    made = []
    for org in orgs:
        admin = await login(api, org, "admin")
        made.append(await create(api, admin, org.property_id, campaign()))
    admin = await login(api, orgs[1], "admin")
    paused = await create(api, admin, orgs[1].property_id, campaign(name="paused"))
    await ok(await api.post(f"/schedules/{paused['id']}/pause", headers=admin))

    due = await service.due_schedules(db, NOW)
    assert sorted(s.id for s in due) == sorted(s["id"] for s in made)
    first = next(s for s in due if s.id == made[0]["id"])
    assert (first.org_id, first.timezone, first.dtstart_local) == (
        orgs[0].org_id,
        "Asia/Shanghai",
        datetime(2026, 8, 31, 9, 0),
    )
    assert first.kind == "survey_campaign" and first.payload == {}

    starts, ends = datetime(2026, 8, 31, 1, tzinfo=UTC), datetime(2026, 9, 14, 1, tzinfo=UTC)
    assert await service.record_occurrences(db, first.org_id, first.id, [(starts, ends, False)]) == {starts}
    assert await service.record_occurrences(db, first.org_id, first.id, [(starts, ends, False)]) == set()
    # the same instant of another schedule is another occurrence
    second = made[1]
    assert await service.record_occurrences(db, orgs[1].org_id, second["id"], [(starts, ends, True)]) == {starts}
    rows = await db.fetch("SELECT schedule_id, status FROM schedule_occurrences ORDER BY status")
    assert [(r["schedule_id"], r["status"]) for r in rows] == [(first.id, "created"), (second["id"], "missed")]

    later = NOW + timedelta(days=30)
    await service.mark_materialised(db, first.org_id, first.id, later)
    await service.mark_materialised(db, first.org_id, first.id, NOW)  # a slower worker never moves it back
    assert await db.fetchval("SELECT materialised_until FROM schedules WHERE id = $1", first.id) == later
    assert [s.id for s in await service.due_schedules(db, NOW)] == [second["id"]]
    due_later = await service.due_schedules(db, NOW, horizon=timedelta(days=31))
    assert [s.id for s in due_later] == [second["id"], first.id]  # never materialised first


async def test_the_openapi_document_says_dtstart_local_has_no_offset(api, db):
    """RFC 3339's date-time (OpenAPI's format "date-time") carries an offset; a schedule's start does not."""
    import re

    org = await build_org(db, "oa")
    admin = await login(api, org, "admin")
    made = await create(api, admin, org.property_id, campaign())
    schemas = (await ok(await api.get("/schema/openapi.json")))["components"]["schemas"]
    for name in ("Schedule", "ScheduleCreate"):
        field = schemas[name]["properties"]["dtstart_local"]
        assert field.get("format") != "date-time" and "no offset" in field["description"], name
        assert re.fullmatch(field["pattern"], made["dtstart_local"]), name
