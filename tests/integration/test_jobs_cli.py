"""`fieldwork jobs`: what the background half is doing, read from Redis and PostgreSQL."""

import asyncio
import os
import sys
from pathlib import Path

from core.notifications.service import notify
from tests.world import build_org

ROOT = Path(__file__).resolve().parents[2]


async def test_jobs_shows_the_queue_the_crons_the_outbox_and_the_schedules(settings, db):
    org = await build_org(db, "jb")
    async with db.transaction():
        await notify(
            db,
            org_id=org.org_id,
            dedupe_key="jobs-cli",
            kind="custom",
            recipients=[org.ids["staff"]],
            title_zh="测试",
            title_en="test",
        )
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "FIELDWORK_NAMESPACE": settings.namespace,
        "FIELDWORK_HOME": settings.home,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "jobs", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    text = out.decode()
    assert f"queue {settings.namespace}:queue: 0 job(s)" in text
    assert "materialise_schedules" in text and "chase_deadlines" in text and "deliver_notifications" in text
    assert "notification outbox: 1 pending" in text
    assert "schedules: 0 active, 0 behind" in text
