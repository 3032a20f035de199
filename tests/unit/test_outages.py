"""What counts as a dependency being down: the API's one table and the worker's job wrapper agree, and a bug of
ours is never one."""

import asyncpg
import pytest
from arq import Retry
from redis import exceptions as redis_errors

from api.errors import EXCEPTION_HANDLERS, on_dependency_down, on_unexpected
from core.errors import Unavailable
from core.heartbeat import STALE_AFTER, heartbeat_stale
from workers.settings import outage_delay, retried_through_outages


def handler_for(kind: type[BaseException]):
    """The handler Litestar picks: the first class of the exception's MRO in the table."""
    return next(EXCEPTION_HANDLERS[k] for k in kind.__mro__ if k in EXCEPTION_HANDLERS)


DOWN = [
    Unavailable,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.InternalClientError,  # seen in the chaos test: a connection the killed server left mid-error
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
    ConnectionRefusedError,
    ConnectionResetError,
]
BUGS = [
    asyncpg.UndefinedTableError,
    asyncpg.QueryCanceledError,  # a statement timeout is a slow query, not an outage
    asyncpg.InterfaceError,  # "another operation is in progress": two users of one connection, a bug
    redis_errors.ResponseError,
    FileNotFoundError,
    OSError,
    TimeoutError,
    KeyError,
]


@pytest.mark.parametrize("kind", DOWN, ids=lambda k: k.__name__)
def test_connection_failures_answer_503(kind):
    assert handler_for(kind) is on_dependency_down


@pytest.mark.parametrize("kind", BUGS, ids=lambda k: k.__name__)
def test_other_failures_stay_500(kind):
    assert handler_for(kind) is on_unexpected


async def test_a_job_that_meets_an_outage_is_retried_later_with_backoff():
    async def job(ctx):
        raise Unavailable("down", dependency="PostgreSQL", retry_after=5)

    with pytest.raises(Retry) as retry:
        await retried_through_outages(job)({"job_try": 3})
    assert retry.value.defer_score == outage_delay(3) * 1000 == 8000
    assert outage_delay(20) == 60


async def test_a_connection_lost_while_watching_is_an_outage_too():
    async def job(ctx):
        try:
            raise redis_errors.ConnectionError("Connection closed by server.")
        except redis_errors.ConnectionError:
            raise redis_errors.WatchError("A ConnectionError occurred on while watching one or more keys") from None

    with pytest.raises(Retry):
        await retried_through_outages(job)({"job_try": 1})


async def test_a_job_that_fails_for_its_own_reasons_still_fails():
    async def job(ctx):
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        await retried_through_outages(job)({"job_try": 1})

    async def chooses(ctx):
        raise Retry(defer=300) from ConnectionError("storage")

    with pytest.raises(Retry) as retry:  # a job's own Retry keeps its own delay
        await retried_through_outages(chooses)({"job_try": 1})
    assert retry.value.defer_score == 300_000


def test_a_heartbeat_is_stale_when_old_or_missing_once_watched_long_enough():
    assert not heartbeat_stale(STALE_AFTER - 1, watching_for=3600)
    assert heartbeat_stale(STALE_AFTER + 1, watching_for=0)
    assert not heartbeat_stale(None, watching_for=STALE_AFTER - 1)  # a worker starting beside the API
    assert heartbeat_stale(None, watching_for=STALE_AFTER + 1)
