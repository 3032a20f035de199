"""Attempt limits kept in Redis, shared by every API process."""

from __future__ import annotations

from redis.asyncio import Redis

from core.errors import RateLimited


class AttemptLimiter:
    """Allow `attempts` tries per key within `window` seconds; a success clears the key.

    A try is counted before it is judged, in one atomic step: tries sent at once cannot all pass a check
    that none of them has been counted in yet.
    """

    def __init__(self, redis: Redis, *, namespace: str, attempts: int, window: int) -> None:
        self.redis = redis
        self.prefix = f"{namespace}:attempts:"
        self.attempts = attempts
        self.window = window

    async def attempt(self, key: str) -> None:
        """Count one try; RateLimited when the key has used up its tries."""
        # SET NX EX starts the window once and INCR keeps its TTL; EXPIRE NX would say the same but needs
        # Redis 7, and the embedded redis-server is 6.2
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.prefix + key, 0, ex=self.window, nx=True)
            pipe.incr(self.prefix + key)
            pipe.ttl(self.prefix + key)
            _, tries, ttl = await pipe.execute()
        if int(tries) > self.attempts:
            raise RateLimited("too many failed attempts; wait and try again", retry_after=max(int(ttl), 1))

    async def clear(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)
