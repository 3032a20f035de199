"""Putting a job in the worker's queue from a request (a report asked for): arq's client over the app's Redis
connections, with the worker's serializer and queue (core/jobs.py queue_name). The API names the job; it never
imports the worker."""

from __future__ import annotations

from arq import ArqRedis

from bootstrap.services import Services
from core.jobs import decode_job, encode_job, queue_name


async def enqueue(services: Services, job: str, *args: str, job_id: str) -> bool:
    """Queue `job` once per `job_id` (arq drops an id it holds); True if this call queued it."""
    queue = ArqRedis(
        services.redis.connection_pool,
        job_serializer=encode_job,
        job_deserializer=decode_job,
        default_queue_name=queue_name(services.settings),
    )
    return await queue.enqueue_job(job, *args, _job_id=job_id) is not None
