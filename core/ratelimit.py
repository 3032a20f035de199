"""Attempt limits kept in Redis, shared by every API process, timed by the injectable clock.

Each key holds a sliding log of tries (a sorted set scored by the clock's milliseconds), so a limit means "at
most `limit` tries in any `window` seconds" and time moves when the clock moves: tests advance a FixedClock
instead of sleeping. Redis expiry only collects keys that nobody has tried for a window.
"""

from __future__ import annotations

import ipaddress
import math
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NamedTuple

import msgspec
from redis.asyncio import Redis

from core.clock import Clock
from core.errors import RateLimited


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    """How many tries may be made, and by whom; docs/security.md says why these numbers."""

    attempts: int  # failed tries per login (or code, or current password) from one client address
    window: int  # seconds over which tries are counted
    per_address: int  # failed tries from one client address, whatever they try
    attack: int  # failed logins of one login from all addresses that mean it is under attack
    slowdown: int  # under attack: seconds between two tries from addresses the login never signed in from
    known_for: int  # seconds an address a login signed in from stays known to it

    @classmethod
    def derived(cls, *, attempts: int, window: int, known_for: int) -> Limits:
        """Every limit from the two a person sets (FIELDWORK_LOGIN_ATTEMPTS and _WINDOW)."""
        return cls(
            attempts=attempts,
            window=window,
            per_address=20 * attempts,
            attack=4 * attempts,
            slowdown=max(1, window // (4 * attempts)),
            known_for=known_for,
        )


class Ticket(NamedTuple):
    """One counted try, which a success may give back."""

    key: str
    member: str


def address_key(host: str) -> str:
    """The client address as limits count it: an IPv6 client is its /64 (one subscriber's network, which it
    can fill with addresses at will); anything else as it is."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # an IPv4 client of a dual-stack socket
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class AttemptLimiter:
    def __init__(self, redis: Redis, *, namespace: str, clock: Clock, limits: Limits) -> None:
        self.redis = redis
        self.prefix = f"{namespace}:attempts:"
        self.clock = clock
        self.limits = limits

    def _now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    async def attempt(self, key: str, *, limit: int | None, window: int) -> Ticket:
        """Count one try; RateLimited, and the try not counted, when `limit` tries were counted in the last
        `window` seconds (None: count, never refuse).

        The try is counted before it is judged, in one atomic step: tries sent at once cannot all pass a check
        that none of them has been counted in yet. A refused try is taken back out, so hammering a closed door
        does not keep it closed longer.
        """
        now, span = self._now_ms(), window * 1000
        name, member = self.prefix + key, f"{now}-{secrets.token_hex(6)}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(name, "-inf", now - span)
            pipe.zadd(name, {member: now})
            pipe.zcard(name)
            pipe.zrange(name, 0, 0, withscores=True)
            pipe.pexpire(name, span)
            _, _, tries, oldest, _ = await pipe.execute()
        if limit is not None and int(tries) > limit:
            await self.redis.zrem(name, member)
            wait_ms = int(oldest[0][1]) + span - now if oldest else span
            raise RateLimited("too many attempts; wait and try again", retry_after=max(math.ceil(wait_ms / 1000), 1))
        return Ticket(name, member)

    async def refund(self, *tickets: Ticket) -> None:
        """Take counted tries back (they succeeded, or another limit refused them)."""
        if tickets:
            async with self.redis.pipeline(transaction=True) as pipe:
                for ticket in tickets:
                    pipe.zrem(ticket.key, ticket.member)
                await pipe.execute()

    async def clear(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)

    async def count(self, key: str, *, window: int) -> int:
        """Tries counted against `key` in the last `window` seconds."""
        name = self.prefix + key
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(name, "-inf", self._now_ms() - window * 1000)
            pipe.zcard(name)
            _, tries = await pipe.execute()
        return int(tries)

    async def remember(self, key: str, *, seconds: int) -> None:
        """Keep a mark under `key` for `seconds` (by the clock)."""
        until = self._now_ms() + seconds * 1000
        await self.redis.set(self.prefix + key, until, px=seconds * 1000)

    async def remembers(self, key: str) -> bool:
        until = await self.redis.get(self.prefix + key)
        return until is not None and int(until) > self._now_ms()

    @asynccontextmanager
    async def counting_failures(
        self, key: str, *, limit: int, window: int, failures: tuple[type[Exception], ...]
    ) -> AsyncIterator[None]:
        """Count the block as one try against `key` if it raises one of `failures`; RateLimited before it runs
        once `limit` failures were counted in the last `window` seconds.

        Only failures are written: a block that succeeds costs one read (a survey page is opened far more often
        than a wrong link is tried). Failures sent at once may pass the read together and overshoot the limit
        by as many; a limit that must hold exactly, like the sign-in's, counts with `attempt` instead."""
        name, now, span = self.prefix + key, self._now_ms(), window * 1000
        if await self.redis.zcount(name, now - span + 1, "+inf") >= limit:
            oldest = await self.redis.zrangebyscore(name, now - span + 1, "+inf", start=0, num=1, withscores=True)
            wait_ms = int(oldest[0][1]) + span - now if oldest else span
            raise RateLimited("too many attempts; wait and try again", retry_after=max(math.ceil(wait_ms / 1000), 1))
        try:
            yield
        except failures:
            await self.attempt(key, limit=None, window=window)
            raise
