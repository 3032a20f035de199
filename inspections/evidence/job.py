"""The worker's evidence checks (every minute, inspections/plugin.py): each photo once the derivative job has
hashed it, each round once completed (triggers put them on evidence_todo, migration 0022). Each is taken off the
list in the transaction that keeps its flags, so a crash re-checks only what it had not finished, two workers do
not check one thing twice, and a flag is never made twice (evidence_flags_once)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import msgspec

from core.db import acquire, transaction
from core.jobs import JobContext
from inspections.evidence import flags
from inspections.evidence.geo import Fence
from inspections.evidence.models import Thresholds
from inspections.evidence.pace import RoundFacts, VisitFacts, check_round
from inspections.evidence.photo_checks import check_photo, facts_of
from inspections.models import Plan
from inspections.repository import evidence as sql

log = logging.getLogger("fieldwork.evidence")

BATCH = 200  # photos (and rounds) a run takes; the next run takes the rest
RUN_SECONDS = 45  # a run stops taking batches after this long (the job runs every minute)
# an after-photo whose order's before-photo is not ready yet is checked again after a while, for up to a day
RECHECK_AFTER = timedelta(minutes=10)
WAIT_FOR_BEFORE = timedelta(days=1)


async def check_evidence(job: JobContext) -> dict[str, int]:
    """Batches of photos, then of rounds, until none is left or the run's time is up (the next run goes on)."""
    limits = Thresholds.of(job.settings)
    now = job.clock.now()
    counts = {"photos": 0, "rounds": 0, "flags": 0, "waiting": 0}
    deadline = time.monotonic() + RUN_SECONDS
    async with transaction(job.pool) as conn:
        await sql.forget_gone(conn)
    while time.monotonic() < deadline:
        async with acquire(job.pool) as conn:
            photos = await sql.photos_to_check(conn, now, BATCH)
        for row in photos:
            photo = facts_of(row)
            async with transaction(job.pool) as conn:
                if not await sql.take(conn, photo.org_id, "photo", photo.id):
                    continue  # another worker's run checked it
                if photo.received_at < now - timedelta(days=limits.window_days):
                    continue  # hashed again long after it came (a new kind of hash): not judged so late
                checked = await check_photo(conn, photo, limits)
                if checked.waits == "signature" or (checked.waits and now - photo.received_at < WAIT_FOR_BEFORE):
                    await sql.defer(conn, photo.org_id, "photo", photo.id, now + RECHECK_AFTER)
                    counts["waiting"] += 1
                    continue
                counts["flags"] += await flags.keep(conn, photo.org_id, photo.property_id, checked.findings, now)
            counts["photos"] += 1
        if len(photos) < BATCH or counts["waiting"] >= BATCH:
            break
        log.info("evidence: %(photos)d photos checked so far, %(flags)d new flags", counts)
    while time.monotonic() < deadline:
        async with acquire(job.pool) as conn:
            rounds = await sql.rounds_to_check(conn, now, BATCH)
        for row in rounds:
            async with transaction(job.pool) as conn:
                if not await sql.take(conn, row["org_id"], "round", row["id"]):
                    continue
                facts = RoundFacts(
                    id=row["id"],
                    property_id=row["property_id"],
                    assignee_id=row["assignee_id"],
                    started_at=row["started_at"],
                    completed_at=row["completed_at"],
                    plan=msgspec.convert(row["plan"], Plan | None),
                    visits=[
                        VisitFacts(**dict(v)) for v in await sql.visits_with_places(conn, row["org_id"], row["id"])
                    ],
                    fence=Fence.around(row["fence_lat"], row["fence_lon"], row["fence_radius_m"]),
                )
                findings = check_round(facts, limits)
                counts["flags"] += await flags.keep(conn, row["org_id"], row["property_id"], findings, now)
            counts["rounds"] += 1
        if len(rounds) < BATCH:
            break
    if counts["photos"] or counts["rounds"] or counts["waiting"]:
        log.info(
            "evidence checked: %(photos)d photos (%(waiting)d waiting: a before-photo or a signature), "
            "%(rounds)d rounds, %(flags)d new flags",
            counts,
        )
    return counts
