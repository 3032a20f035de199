"""The service desk's periodic job (servicedesk/plugin.py): a resolved ticket the owner has not answered for
`FIELDWORK_TICKET_AUTOCONFIRM_DAYS` days is confirmed for them, recorded as such (`confirmed_via` auto, a timeline
event and an audit entry by nobody). The deadlines (response, resolution, return visit) are chased by the
kernel's deadline machinery (servicedesk/deadlines.py)."""

from __future__ import annotations

import logging
from datetime import timedelta

from core.db import transaction
from core.jobs import JobContext
from servicedesk.lifecycle import Actor, Request
from servicedesk.repository import tickets as sql
from servicedesk.steps import locked_ticket, take_step

log = logging.getLogger("fieldwork.servicedesk")

SYSTEM = Actor(user_id=None, standing="system")
NOTE = "业主 {d} 天未确认，系统自动确认 / confirmed automatically after {d} days without the owner's answer"


async def confirm_silent_tickets(job: JobContext) -> dict[str, int]:
    """One short transaction per ticket: a long one would hold back every device's sync cursor."""
    now, days = job.clock.now(), job.settings.ticket_autoconfirm_days
    async with transaction(job.pool) as conn:
        due = await sql.unconfirmed_since(conn, now - timedelta(days=days))
    confirmed = 0
    for row in due:
        async with transaction(job.pool) as conn:
            ticket = await locked_ticket(conn, row["org_id"], row["id"])
            if ticket.status != "resolved":  # the owner answered meanwhile
                continue
            await take_step(
                conn,
                ticket,
                "confirm",
                SYSTEM,
                Request(note=NOTE.format(d=days)),
                now,
                visit_days=job.settings.ticket_visit_days,
            )
            confirmed += 1
    if confirmed:
        log.info("auto-confirmed %d tickets resolved before %s", confirmed, (now - timedelta(days=days)).isoformat())
    return {"auto_confirmed": confirmed}
