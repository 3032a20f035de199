"""What counts as "a dependency is down": failing to reach PostgreSQL or Redis, not an error of ours.

The API answers these 503 with Retry-After (api/errors.py), the worker retries a job that met one
(workers/settings.py). Only connection-level classes belong here: a bad query, a constraint violation or a
bug stays what it is (a 4xx or a 500), however it happens to be raised.
"""

from __future__ import annotations

import asyncpg
from redis import exceptions as redis_errors

from core.errors import Unavailable

# Seconds a client is told to wait (Retry-After) before trying again: a restart of either server takes
# a few seconds.
RETRY_AFTER = 5

DATABASE_DOWN: tuple[type[Exception], ...] = (
    # the connection broke, or could not be made (08xxx) …
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.ConnectionFailureError,
    asyncpg.ClientCannotConnectError,
    asyncpg.ConnectionRejectionError,
    # … or the server is shutting down, crashed, or is starting up (57P01-57P03)
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    # a pooled connection that received the dying server's FATAL error but not yet its end of stream, used in
    # that moment ("cannot switch to state 15; another operation (2) is in progress"). asyncpg raises this
    # class only from its protocol state machine; our own misuse of a connection is an InterfaceError.
    asyncpg.InternalClientError,
)

# redis-py wraps every socket error in these; BusyLoadingError (a restarted server reading its data back)
# is a ConnectionError
REDIS_DOWN: tuple[type[Exception], ...] = (redis_errors.ConnectionError, redis_errors.TimeoutError)

DEPENDENCY_DOWN: tuple[type[Exception], ...] = (
    Unavailable,  # core.db raises it when the pool cannot open a connection
    *DATABASE_DOWN,
    *REDIS_DOWN,
    ConnectionError,  # the builtin one: refused, reset or broken sockets
)


def which_dependency(exc: BaseException) -> str:
    """ "PostgreSQL", "Redis" or "a dependency", for log lines and problem details."""
    if isinstance(exc, Unavailable):
        return exc.dependency
    if isinstance(exc, REDIS_DOWN):
        return "Redis"
    if isinstance(exc, DATABASE_DOWN):
        return "PostgreSQL"
    return "a dependency"


def outage_in(exc: BaseException) -> BaseException | None:
    """The dependency-down error that `exc` is or was raised from (redis-py turns a connection lost while
    WATCHing into a WatchError, for one), or None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, DEPENDENCY_DOWN):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
