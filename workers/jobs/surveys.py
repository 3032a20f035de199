"""Hourly: invite the households added to a property since its campaign was made, then remind the households
that have not answered a survey closing within three days (once each)."""

from __future__ import annotations

import logging
from typing import Any

from core.db import transaction
from surveys.campaigns import invite_new_units
from surveys.reminders import remind_unanswered

log = logging.getLogger("fieldwork.worker.surveys")


async def remind_surveys(ctx: dict[str, Any]) -> int:
    now = ctx["clock"].now()
    async with transaction(ctx["pool"]) as conn:
        invited = await invite_new_units(conn, ctx["settings"].secret_key, now)
    if invited:
        log.info("invited %d households added since their campaigns were made", invited)
    async with transaction(ctx["pool"]) as conn:
        sent = await remind_unanswered(conn, now)
    if sent:
        log.info("reminded %d households of surveys closing soon", sent)
    return sent
