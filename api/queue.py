"""Putting a job in the worker's queue from a request (a report asked for): arq's client over the app's Redis
connections, with the worker's serializer and queue (core/jobs.py queue_name). The API names the job; it never
imports the worker."""

from __future__ import annotations

import msgspec
from arq import ArqRedis

from bootstrap.services import Services
from core.jobs import queue_name


async def enqueue(services: Services, job: str, *args: str, job_id: str) -> bool:
    """Queue `job` once per `job_id` (arq drops an id it holds); True if this call queued it."""
    queue = ArqRedis(
        services.redis.connection_pool,
        job_serializer=msgspec.msgpack.encode,
        job_deserializer=msgspec.msgpack.decode,
        default_queue_name=queue_name(services.settings),
    )
    return await queue.enqueue_job(job, *args, _job_id=job_id) is not None
