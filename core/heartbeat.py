"""The worker heartbeat, shared by the worker (which beats) and the API and CLI (which read it).

A worker sets one key every HEARTBEAT seconds with a TTL of KEEP, so the key's remaining TTL tells how long
ago a worker last beat, by Redis's clock alone (no clock skew between machines), with no job and no log line
per beat. A beat older than STALE_AFTER (three missed beats: one late beat under load is not an outage) means
no worker is polling the queue; so does no beat at all once the API has been up STALE_AFTER seconds.
"""

from __future__ import annotations

from redis.asyncio import Redis

HEARTBEAT = 10
STALE_AFTER = 3 * HEARTBEAT
# how long the last beat stays readable: `fieldwork jobs` can say "last beat 20 minutes ago"
KEEP = 3600


def heartbeat_key(namespace: str) -> str:
    return f"{namespace}:worker:heartbeat"


async def beat(redis: Redis, namespace: str) -> None:
    await redis.set(heartbeat_key(namespace), b"1", ex=KEEP)


async def heartbeat_age(redis: Redis, namespace: str) -> float | None:
    """Seconds since a worker last beat, or None if none did within KEEP seconds."""
    ttl_ms = await redis.pttl(heartbeat_key(namespace))
    return None if ttl_ms < 0 else max(0.0, round(KEEP - ttl_ms / 1000, 1))


def heartbeat_stale(age: float | None, *, watching_for: float) -> bool:
    """A beat older than STALE_AFTER, or none after `watching_for` seconds of looking (a reader that has just
    started gives a starting worker time for its first beat)."""
    return age > STALE_AFTER if age is not None else watching_for > STALE_AFTER
