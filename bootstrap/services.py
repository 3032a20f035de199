"""The services every process builds from its settings, built here once: the API's lifespan, the worker's start
and the CLI's commands open them the same way and close them on the way out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from redis.asyncio import Redis

from bootstrap.domains import registry as default_registry
from core.clock import Clock, configured_clock
from core.db import create_pool
from core.egress import Egress, Resolver, system_resolve
from core.people.auth import AuthConfig
from core.ratelimit import AttemptLimiter, Limits
from core.settings import Settings, with_secret
from sync.photos.storage import BlobStore
from sync.photos.uploads import Uploads, upload_config
from sync.plugins import Registry

# seconds to reach Redis, and for one command's answer (no process here sends blocking commands through it)
REDIS_CONNECT_TIMEOUT = 2
REDIS_TIMEOUT = 5


@dataclass
class Services:
    settings: Settings  # with the secret
    clock: Clock
    registry: Registry  # the plug-ins: synced tables, schedule kinds, notification kinds, jobs
    pool: asyncpg.Pool
    redis: Redis
    auth: AuthConfig
    limiter: AttemptLimiter
    store: BlobStore
    uploads: Uploads
    egress: Egress  # where webhooks may point
    resolve: Resolver  # webhook hosts' addresses
    started: datetime  # the clock's time when the services opened: /health gives a new worker time to beat


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    resolve: Resolver | None = None,
    registry: Registry | None = None,
    pool_size: int | None = None,
) -> AsyncIterator[Services]:
    """`clock`, `resolve` and `registry` are the system's unless a test gives its own; `pool_size` defaults to
    FIELDWORK_DB_POOL_SIZE. Short Redis timeouts: an unreachable Redis makes a request 503 in seconds."""
    resolved = with_secret(settings)
    assert resolved.secret_key and resolved.database_url and resolved.redis_url
    plugins = registry or default_registry()
    pool = await create_pool(resolved.database_url, size=pool_size or resolved.db_pool_size)
    redis = Redis.from_url(
        resolved.redis_url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT, socket_timeout=REDIS_TIMEOUT
    )
    store = BlobStore.from_url(resolved.photo_store_url)
    now = clock or configured_clock(resolved.clock_file)
    resolver = resolve or system_resolve
    try:
        yield Services(
            settings=resolved,
            clock=now,
            registry=plugins,
            pool=pool,
            redis=redis,
            auth=AuthConfig(
                secret=resolved.secret_key, access_ttl=resolved.access_token_ttl, refresh_ttl=resolved.refresh_token_ttl
            ),
            limiter=AttemptLimiter(
                redis,
                namespace=resolved.namespace,
                clock=now,
                limits=Limits.derived(
                    attempts=resolved.login_attempts, window=resolved.login_window, known_for=resolved.refresh_token_ttl
                ),
            ),
            store=store,
            uploads=Uploads(pool, upload_config(resolved, store), now),
            egress=Egress.of(resolved, resolver),
            resolve=resolver,
            started=now.now(),
        )
    finally:
        await redis.aclose()
        await pool.close()
