"""How long sync remembers deletions and grant changes for devices that were away."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from sync import repository as sql

# an Idempotency-Key answers retries for a day; a phone retries within minutes
ANSWER_TTL = timedelta(days=1)


async def prune_sync_history(conn: asyncpg.Connection, *, now: datetime, retention_days: int) -> dict[str, int]:
    """Forget what is older than the retention. A device that last pulled before that gets a full re-sync
    (`experimentalStrategy: replacement`) on its next pull, never a silently incomplete one."""
    return await sql.prune(conn, before=now - timedelta(days=retention_days), answers_before=now - ANSWER_TTL)
