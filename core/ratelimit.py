"""Failed-attempt limits kept in Redis, shared by every API process."""

from __future__ import annotations

from redis.asyncio import Redis

from core.errors import RateLimited


class AttemptLimiter:
    """Allow `attempts` failures per key within `window` seconds; success clears the key."""

    def __init__(self, redis: Redis, *, namespace: str, attempts: int, window: int) -> None:
        self.redis = redis
        self.prefix = f"{namespace}:attempts:"
        self.attempts = attempts
        self.window = window

    async def check(self, key: str) -> None:
        failures = await self.redis.get(self.prefix + key)
        if failures is not None and int(failures) >= self.attempts:
            ttl = await self.redis.ttl(self.prefix + key)
            raise RateLimited("too many failed attempts; wait and try again", retry_after=max(int(ttl), 1))

    async def fail(self, key: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(self.prefix + key)
            pipe.expire(self.prefix + key, self.window, nx=True)
            await pipe.execute()

    async def clear(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)
