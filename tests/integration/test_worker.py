"""The arq worker on a real Redis: jobs run from the queue, payloads are msgspec, not pickle."""

from datetime import UTC, datetime, timedelta

import msgspec

from core.clock import FixedClock
from tests.world import build_org
from workers.settings import connect_queue, create_worker, queue_name


async def run_job(settings, name: str, clock=None, resolve=None, registry=None) -> None:
    """Enqueue one job and let a burst worker run it to completion (on the given clock and, for webhook
    hosts, resolver; with the given plug-ins)."""
    queue = await connect_queue(settings)
    try:
        assert await queue.enqueue_job(name) is not None
    finally:
        await queue.aclose()
    worker = create_worker(settings, burst=True, handle_signals=False, registry=registry)
    if clock is not None:
        worker.ctx["clock"] = clock
    if resolve is not None:
        worker.ctx["resolve"] = resolve
    try:
        await worker.main()
    finally:
        await worker.close()
    assert worker.jobs_complete == 1 and worker.jobs_failed == 0


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
    await run_job(settings, "purge_sessions", FixedClock(now))
    left = {r["id"] for r in await db.fetch("SELECT id FROM sessions")}
    assert left == {"live", "revoked-recently"}


async def test_sync_retention_forgets_old_tombstones_and_moves_the_horizon(settings, db):
    org = await build_org(db, "sr")
    await db.execute(
        "INSERT INTO handover_notes (org_id, id, property_id, author_id, body, status, created_at) "
        "VALUES ($1, 'old', $2, $3, 'x', 'open', now()), ($1, 'new', $2, $3, 'y', 'open', now())",
        org.org_id,
        org.property_id,
        org.ids["staff"],
    )
    await db.execute("DELETE FROM handover_notes WHERE org_id = $1", org.org_id)
    await db.execute("UPDATE sync_tombstones SET deleted_at = now() - interval '91 days' WHERE id = 'old'")
    await run_job(settings, "prune_sync")
    assert [r["id"] for r in await db.fetch("SELECT id FROM sync_tombstones")] == ["new"]
    horizon = await db.fetchval("SELECT horizon::text::bigint FROM sync_state")
    old_xid = await db.fetchval("SELECT sync_xid::text::bigint FROM properties WHERE id = $1", org.property_id)
    assert horizon > old_xid  # the pruned tombstone's transaction came after the property's


async def test_installations_sharing_a_redis_each_get_every_cron_tick(settings):
    """arq names a cron tick's job after the cron job and the instant, and job ids are global on a Redis: two
    installations on one Redis (two namespaces) must each queue every tick, not take each other's."""
    other = msgspec.structs.replace(settings, namespace=f"{settings.namespace}b")
    queue = await connect_queue(settings)
    ticks: dict[str, list[str]] = {}
    try:
        start = datetime.now(UTC)  # arq's cron runs on the real clock
        for installation in (settings, other):
            worker = create_worker(installation, handle_signals=False)
            worker._pool = queue  # the cron loop's connection, without running the whole worker
            await worker.run_cron(start, delay=0.5)  # the first look arms each cron job
            await worker.run_cron(start + timedelta(hours=1, minutes=1), delay=0.5)  # the next tick of each is due
        for installation in (settings, other):
            queued = await queue.queued_jobs(queue_name=queue_name(installation))
            ticks[installation.namespace] = sorted(job.function.rsplit(":", 1)[-1] for job in queued)
            await queue.delete(queue_name(installation), *(f"arq:job:{job.job_id}" for job in queued))
    finally:
        await queue.aclose()
    assert {"materialise_schedules", "chase_deadlines", "deliver_notifications"} <= set(ticks[settings.namespace])
    assert ticks[other.namespace] == ticks[settings.namespace]
