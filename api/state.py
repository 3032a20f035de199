"""What the API process holds between requests (built in the lifespan, read by dependencies)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg
from redis.asyncio import Redis

from core.clock import Clock
from core.egress import Egress
from core.people.auth import AuthConfig
from core.ratelimit import AttemptLimiter
from core.settings import Settings
from sync.photos.storage import BlobStore
from sync.photos.uploads import Uploads


@dataclass
class Services:
    settings: Settings
    clock: Clock
    pool: asyncpg.Pool
    redis: Redis
    auth: AuthConfig
    limiter: AttemptLimiter
    store: BlobStore
    uploads: Uploads
    egress: Egress  # where webhooks may point
    started: datetime  # the clock's time when the API started: /health gives a new worker time for its first beat
