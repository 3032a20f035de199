"""The surveys' periodic job (surveys/plugin.py), hourly: invite the households added to a property since its
campaign was made, remind the households that have not answered a survey closing within three days (once each),
and keep the final counts of the campaigns that have closed (surveys.report.keep_final_counts)."""

from __future__ import annotations

import logging

from core.db import transaction
from core.jobs import JobContext
from surveys.campaigns import invite_new_units
from surveys.reminders import remind_unanswered
from surveys.report import keep_final_counts

log = logging.getLogger("fieldwork.surveys.reminders")


async def remind_surveys(job: JobContext) -> int:
    now = job.clock.now()
    assert job.settings.secret_key, "the worker's settings carry the secret"
    async with transaction(job.pool) as conn:
        invited = await invite_new_units(conn, job.settings.secret_key, now)
    if invited:
        log.info("invited %d households added since their campaigns were made", invited)
    async with transaction(job.pool) as conn:
        sent = await remind_unanswered(conn, now)
    if sent:
        log.info("reminded %d households of surveys closing soon", sent)
    async with transaction(job.pool) as conn:
        kept = await keep_final_counts(conn, now)
    if kept:
        log.info("kept the final counts of %d closed campaigns: %s", len(kept), ", ".join(kept))
    return sent
