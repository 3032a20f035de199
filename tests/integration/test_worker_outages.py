"""`fieldwork worker` rides out a Redis restart longer than its command retries: arq's loop stops, the runner
logs it and starts a fresh worker after a backoff, in the same process, and the queue is served again."""

import asyncio
import logging

import msgspec
import pytest
from arq.jobs import Job, JobStatus
from redis.asyncio import Redis

from core.heartbeat import heartbeat_age
from tests.private_servers import PrivateRedis
from workers import settings as worker_settings
from workers.runner import run_worker
from workers.settings import connect_queue, queue_name


async def until(predicate, what: str, seconds: float = 30):
    deadline = asyncio.get_running_loop().time() + seconds
    while not (result := await predicate()):
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)
    return result


@pytest.fixture
def redis_server(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


async def test_the_worker_starts_again_in_process_after_a_long_redis_outage(
    settings, redis_server, monkeypatch, caplog
):
    monkeypatch.setattr(worker_settings, "REDIS_RETRIES", 1)  # an outage longer than the retries, quickly
    settings = msgspec.structs.replace(settings, redis_url=redis_server.url)
    caplog.set_level(logging.WARNING, logger="fieldwork.worker")
    redis = Redis.from_url(redis_server.url)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, stop=stop))
    try:

        async def beating():
            return await heartbeat_age(redis, settings.namespace) is not None

        await until(beating, "the worker's first beat")
        redis_server.kill()

        async def noticed():
            return "the worker stopped: Redis is unavailable" in caplog.text

        await until(noticed, "the runner to notice")
        assert not worker.done()
        redis_server.start()
        await redis.aclose()
        redis = Redis.from_url(redis_server.url)
        queue = await connect_queue(settings)
        try:
            await queue.enqueue_job("purge_sessions", _job_id="after-the-outage")
            job = Job("after-the-outage", queue, _queue_name=queue_name(settings), _deserializer=msgspec.msgpack.decode)

            async def done():
                return await job.status() == JobStatus.complete

            await until(done, "the job queued after the outage")
            assert (await job.result_info()).success
        finally:
            await queue.aclose()
        assert "starting it again in 1 s" in caplog.text
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
        await redis.aclose()
