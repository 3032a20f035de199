"""Schedules materialised by the worker's job with an injected clock: two workers at once make each occurrence
once; a three-day downtime is caught up (open windows made, closed ones recorded missed); campaigns are made
one ahead and announced; a paused schedule makes nothing.

One clock tells the story for the whole test: the app serves with it (so a schedule is made "yesterday"), and each
tick moves it and runs the worker's job with it."""

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from bootstrap.domains import registry
from core.clock import FixedClock
from core.db import create_pool
from tests.inspection_world import ok, set_up
from tests.integration.test_surveys import TEMPLATE, links
from tests.world import build_org, login
from workers.jobs.schedules import materialise_schedules

SHANGHAI_9AM_DAY1 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai


@pytest.fixture
def clock() -> FixedClock:
    """The test's one clock (tests/conftest.py serves the app with it): the story starts the day before day 1."""
    return FixedClock(SHANGHAI_9AM_DAY1 - timedelta(days=1))


async def tick(settings, clock, at, **overrides):
    """Moves the test's clock to `at` and runs the cron job once with it, as a worker runs it, with its own pool."""
    clock.at = at
    pool = await create_pool(settings.database_url, size=2)
    try:
        ctx = {
            "pool": pool,
            "clock": clock,
            "settings": msgspec.structs.replace(settings, **overrides),
            "registry": registry(),
        }
        return await materialise_schedules(ctx)
    finally:
        await pool.close()


async def daily_round_schedule(api, db, site, **extra):
    body = {
        "kind": "inspection_round",
        "name": "早班保洁 morning cleaning",
        "rrule": "FREQ=DAILY",
        "dtstart_local": "2026-12-01T09:00:00",
        "duration_minutes": 120,
        "payload": {"template_id": site.template_id, "assignee_ids": [site.org.ids["staff"], site.fixer]},
        **extra,
    }
    created = await ok(
        await api.post(f"/properties/{site.org.property_id}/schedules", headers=site.headers["admin"], json=body), 201
    )
    return created["id"]


async def rounds_by_day(db, schedule_id):
    rows = await db.fetch(
        "SELECT window_start, status, count(*) AS n FROM rounds WHERE occurrence_key LIKE $1 || ':%' "
        "GROUP BY 1, 2 ORDER BY 1",
        schedule_id,
    )
    return [((r["window_start"] - SHANGHAI_9AM_DAY1).days, r["status"], r["n"]) for r in rows]


async def test_two_workers_ticking_at_once_make_each_occurrence_once(api, db, settings, clock):
    site = await set_up(api, await build_org(db, "tw"))
    schedule_id = await daily_round_schedule(api, db, site)
    at = SHANGHAI_9AM_DAY1 - timedelta(hours=12)
    first, second = await asyncio.gather(tick(settings, clock, at), tick(settings, clock, at))
    assert first["created"] + second["created"] == 14  # 14 days ahead, once
    assert await db.fetchval("SELECT count(*) FROM schedule_occurrences WHERE schedule_id = $1", schedule_id) == 14
    made = await rounds_by_day(db, schedule_id)
    assert [day for day, _, _ in made] == list(range(14))
    assert all(status == "planned" and n == 2 for _, status, n in made)  # one round per assignee
    assert (await tick(settings, clock, at))["created"] == 0


async def test_a_three_day_downtime_is_caught_up(api, db, settings, clock):
    site = await set_up(api, await build_org(db, "cu"))
    schedule_id = await daily_round_schedule(api, db, site)
    await tick(settings, clock, SHANGHAI_9AM_DAY1 - timedelta(hours=12), schedule_horizon_days=1)
    assert await rounds_by_day(db, schedule_id) == [(0, "planned", 2)]
    # the worker is down from then until day 3, 10:00 local: day 3's window (09:00-11:00) is still open
    back = SHANGHAI_9AM_DAY1 + timedelta(days=3, hours=1)
    counts = await tick(settings, clock, back, schedule_horizon_days=1)
    assert (counts["created"], counts["missed"]) == (2, 2)  # days 3 and 4; days 1 and 2 missed
    assert await rounds_by_day(db, schedule_id) == [
        (0, "planned", 2),  # made before the downtime; the deadline job marks it missed
        (1, "missed", 2),
        (2, "missed", 2),
        (3, "planned", 2),
        (4, "planned", 2),
    ]
    statuses = [
        r["status"]
        for r in await db.fetch(
            "SELECT status FROM schedule_occurrences WHERE schedule_id = $1 ORDER BY starts_at", schedule_id
        )
    ]
    assert statuses == ["created", "missed", "missed", "created", "created"]


async def test_a_campaign_is_made_one_ahead_and_announced_and_a_paused_schedule_rests(api, db, settings, clock):
    site = await set_up(api, await build_org(db, "cp"))
    admin = site.headers["admin"]
    campaign = await ok(
        await api.post(
            f"/properties/{site.org.property_id}/schedules",
            headers=admin,
            json={"kind": "survey_campaign", "name": "2027 满意度调查", "dtstart_local": "2027-03-01T09:00:00"},
        ),
        201,
    )
    await tick(settings, clock, SHANGHAI_9AM_DAY1)
    await tick(settings, clock, SHANGHAI_9AM_DAY1 + timedelta(days=1))
    starts = [
        r["starts_at"]
        for r in await db.fetch("SELECT starts_at FROM schedule_occurrences WHERE schedule_id = $1", campaign["id"])
    ]
    assert starts == [datetime(2027, 3, 1, 1, 0, tzinfo=UTC)]
    notices = await db.fetch("SELECT kind, title_en FROM notifications WHERE kind = 'schedule.survey_campaign'")
    assert len(notices) == 1 and "2027-03-01 09:00" in notices[0]["title_en"]

    admin = site.headers["admin"] = await login(api, site.org, "admin")  # a day later: yesterday's token expired
    schedule_id = await daily_round_schedule(api, db, site)
    await ok(await api.post(f"/schedules/{schedule_id}/pause", headers=admin))
    await tick(settings, clock, SHANGHAI_9AM_DAY1)
    assert await rounds_by_day(db, schedule_id) == []


async def test_a_survey_schedule_makes_its_campaign_with_invitations(api, db, settings, clock):
    org = await build_org(db, "ss")
    admin = await login(api, org, "admin")
    template = (await api.post("/survey-templates", headers=admin, json=TEMPLATE)).json()
    base = {"kind": "survey_campaign", "name": "半年满意度调查", "dtstart_local": "2026-12-01T09:00:00"}
    bad = await api.post(
        f"/properties/{org.property_id}/schedules", headers=admin, json={**base, "survey": {"template_id": "nope"}}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "survey.template_id"
    wrong_kind = await api.post(
        f"/properties/{org.property_id}/schedules",
        headers=admin,
        json={**base, "kind": "owner_meeting", "survey": {"template_id": template["template_id"]}},
    )
    assert wrong_kind.status_code == 422 and wrong_kind.json()["errors"][0]["field"] == "survey"
    created = await api.post(
        f"/properties/{org.property_id}/schedules",
        headers=admin,
        json={**base, "survey": {"template_id": template["template_id"], "anonymous": True, "flag_below": 3.5}},
    )
    assert created.status_code == 201, created.text
    schedule = created.json()
    made = "SELECT * FROM survey_campaigns WHERE occurrence_key LIKE $1 || ':%' ORDER BY opens_at"
    await tick(settings, clock, SHANGHAI_9AM_DAY1 - timedelta(hours=2))
    await tick(settings, clock, SHANGHAI_9AM_DAY1 - timedelta(hours=1))  # a later tick makes nothing more
    assert len(await db.fetch(made, schedule["id"])) == 1
    await tick(settings, clock, SHANGHAI_9AM_DAY1 + timedelta(days=2))  # once it has opened, the next one is made
    found, following = await db.fetch(made, schedule["id"])
    assert following["opens_at"] == datetime(2027, 6, 1, 1, 0, tzinfo=UTC)
    assert (found["opens_at"], found["closes_at"]) == (SHANGHAI_9AM_DAY1, SHANGHAI_9AM_DAY1 + timedelta(days=14))
    assert (found["anonymous"], float(found["flag_below"])) == (True, 3.5)
    assert found["name_zh"] == "半年满意度调查（2026-12）"
    invited = await db.fetchval("SELECT count(*) FROM survey_invitations WHERE campaign_id = $1", found["id"])
    assert invited == 2
    # the household's link works for the campaign the worker made (the worker derives it from the same secret);
    # the app reads the same clock as the worker: two days after it opened, the campaign is open
    admin = await login(api, org, "admin")  # two days later: the first token expired
    token = (await links(api, admin, found["id"]))[0]["token"]
    assert (await api.get(f"/survey/{token}")).json()["state"] == "open"
    clock.at = SHANGHAI_9AM_DAY1 - timedelta(hours=1)
    assert (await api.get(f"/survey/{token}")).json()["state"] == "scheduled"
    assert await db.fetchval("SELECT count(*) FROM notifications WHERE kind = 'schedule.survey_campaign'") == 2
