"""Hourly: remind households that have not answered a survey closing within three days (once each)."""

from __future__ import annotations

import logging
from typing import Any

from core.db import transaction
from surveys.reminders import remind_unanswered

log = logging.getLogger("fieldwork.worker.surveys")


async def remind_surveys(ctx: dict[str, Any]) -> int:
    async with transaction(ctx["pool"]) as conn:
        sent = await remind_unanswered(conn, ctx["clock"].now())
    if sent:
        log.info("reminded %d households of surveys closing soon", sent)
    return sent
