"""GET /health: `ok` (200) only while the database and Redis answer and a worker beats; `degraded` (503) when
the last beat is older than STALE_AFTER, or when none came once the API has been up that long."""

from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from core.clock import FixedClock
from core.heartbeat import KEEP, STALE_AFTER, beat, heartbeat_key


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 6, 1, 9, tzinfo=UTC))


@pytest.fixture
async def redis(servers):
    client = Redis.from_url(servers[1])
    yield client
    await client.aclose()


async def test_health_is_degraded_when_the_worker_heartbeat_is_stale(api, redis, settings):
    await beat(redis, settings.namespace)
    fresh = await api.get("/health")
    assert fresh.status_code == 200 and fresh.json()["status"] == "ok" and fresh.json()["worker"]["ok"]
    assert fresh.json()["worker_heartbeat_age_s"] < STALE_AFTER

    # the last beat was 45 s ago: three beats missed
    await redis.set(heartbeat_key(settings.namespace), b"1", px=(KEEP - 45) * 1000)
    stale = await api.get("/health")
    assert stale.status_code == 503 and stale.json()["status"] == "degraded"
    assert not stale.json()["worker"]["ok"] and stale.json()["worker_heartbeat_age_s"] >= 45
    assert stale.json()["database"]["ok"] and stale.json()["redis"]["ok"]


async def test_health_is_degraded_when_no_worker_has_beaten_once_the_api_is_up_a_while(api, clock):
    starting = await api.get("/health")  # a worker starting beside the API has not beaten yet
    assert starting.status_code == 200 and starting.json()["worker_heartbeat_age_s"] is None

    clock.advance(seconds=STALE_AFTER + 1)
    missing = await api.get("/health")
    assert missing.status_code == 503 and missing.json()["status"] == "degraded"
    assert not missing.json()["worker"]["ok"] and missing.json()["worker_heartbeat_age_s"] is None
