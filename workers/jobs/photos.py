"""Photo jobs: derivatives of stored photos, and the sweep that removes expired uploads.

Derivatives are queued from the database, not by the request that stored the bytes: every few seconds the
queue_derivatives cron enqueues a make_derivatives job, keyed by (org, sha256), for each original whose photos
are still `uploaded`. A job lost to a crash, or one that ran out of tries, is queued again by a later tick once
arq forgets its id; a job queued twice runs once.
"""

from __future__ import annotations

import logging
from typing import Any

from arq import Retry

from sync.photos import derivatives
from sync.photos.uploads import Uploads

log = logging.getLogger("fieldwork.worker.photos")


async def queue_derivatives(ctx: dict[str, Any]) -> dict[str, int]:
    todo = await derivatives.awaiting(ctx["pool"], ctx["clock"].now())
    queued = 0
    for org_id, sha256 in todo:
        job = await ctx["redis"].enqueue_job(
            derivatives.JOB, org_id, sha256, _job_id=derivatives.job_id(org_id, sha256), _queue_name=ctx["queue"]
        )
        queued += job is not None
    if queued:
        log.info("queued derivatives of %d photos (%d waiting)", queued, len(todo))
    return {"waiting": len(todo), "queued": queued}


async def make_derivatives(ctx: dict[str, Any], org_id: str, sha256: str) -> str:
    try:
        return await derivatives.make(ctx["pool"], ctx["store"], org_id, sha256)
    except (OSError, ConnectionError) as exc:  # storage or network: try again later, backing off
        tries = ctx.get("job_try", 1)
        log.warning("derivatives of %s/%s failed (try %d): %s", org_id, sha256[:12], tries, exc)
        raise Retry(defer=min(300, 5 * 2**tries)) from exc


async def hash_photos(ctx: dict[str, Any]) -> int:
    """The likeness backfill: photos made ready before hashes were kept (docs/photos.md)."""
    return await derivatives.hash_stragglers(ctx["pool"], ctx["store"])


async def expire_uploads(ctx: dict[str, Any]) -> int:
    uploads: Uploads = ctx["uploads"]
    removed = await uploads.expire()
    if removed:
        log.info("removed %d expired uploads", removed)
    return removed
