"""The arq worker on a real Redis: jobs run from the queue, payloads are msgspec, not pickle."""

from datetime import UTC, datetime, timedelta

from core.clock import FixedClock
from tests.world import build_org
from workers.settings import connect_queue, create_worker


async def test_housekeeping_purges_only_long_dead_sessions(settings, db):
    org = await build_org(db, "hk")
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    admin = org.ids["admin"]
    for sid, expires, revoked in [
        ("live", now + timedelta(days=10), None),
        ("revoked-recently", now + timedelta(days=10), now - timedelta(days=1)),
        ("revoked-long-ago", now + timedelta(days=10), now - timedelta(days=40)),
        ("expired-long-ago", now - timedelta(days=31), None),
    ]:
        await db.execute(
            "INSERT INTO sessions (org_id, id, user_id, refresh_hash, expires_at, revoked_at) "
            "VALUES ($1, $2, $3, 'x', $4, $5)",
            org.org_id,
            sid,
            admin,
            expires,
            revoked,
        )
    queue = await connect_queue(settings)
    try:
        assert await queue.enqueue_job("purge_sessions") is not None
    finally:
        await queue.aclose()
    worker = create_worker(settings, burst=True, handle_signals=False)
    worker.ctx["clock"] = FixedClock(now)
    try:
        await worker.main()
    finally:
        await worker.close()
    assert worker.jobs_complete == 1 and worker.jobs_failed == 0
    left = {r["id"] for r in await db.fetch("SELECT id FROM sessions")}
    assert left == {"live", "revoked-recently"}
