"""Housekeeping: drop sign-in records nobody can use any more, and sync bookkeeping past its retention."""

from __future__ import annotations

import logging
from typing import Any

from core.db import transaction
from core.people.auth import purge_dead_sessions
from core.settings import Settings
from sync.retention import prune_sync_history

log = logging.getLogger("fieldwork.worker.housekeeping")


async def purge_sessions(ctx: dict[str, Any]) -> int:
    async with transaction(ctx["pool"]) as conn:
        removed = await purge_dead_sessions(conn, now=ctx["clock"].now())
    log.info("purged %d ended sessions and spent invitations", removed)
    return removed


async def prune_sync(ctx: dict[str, Any]) -> dict[str, int]:
    settings: Settings = ctx["settings"]
    async with transaction(ctx["pool"]) as conn:
        counts = await prune_sync_history(conn, now=ctx["clock"].now(), retention_days=settings.sync_retention_days)
    log.info("sync retention (%d days): %s", settings.sync_retention_days, counts)
    return counts
