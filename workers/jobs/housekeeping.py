"""Housekeeping: drop sign-in records nobody can use any more."""

from __future__ import annotations

import logging
from typing import Any

from core.db import transaction
from core.people.auth import purge_dead_sessions

log = logging.getLogger("fieldwork.worker.housekeeping")


async def purge_sessions(ctx: dict[str, Any]) -> int:
    async with transaction(ctx["pool"]) as conn:
        removed = await purge_dead_sessions(conn, now=ctx["clock"].now())
    log.info("purged %d ended sessions and spent invitations", removed)
    return removed
