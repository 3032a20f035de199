"""The worker heartbeat, shared by the worker (which beats) and the API and CLI (which read it).

arq rewrites its health-check key every HEARTBEAT seconds with a TTL of HEARTBEAT + 1, so the key's
remaining TTL tells how long ago a worker last beat, with no job (and no log line) per beat.
"""

from __future__ import annotations

from redis.asyncio import Redis

HEARTBEAT = 10


def heartbeat_key(namespace: str) -> str:
    return f"{namespace}:worker:heartbeat"


async def heartbeat_age(redis: Redis, namespace: str) -> float | None:
    """Seconds since a worker last beat, or None if none did within HEARTBEAT seconds."""
    ttl_ms = await redis.pttl(heartbeat_key(namespace))
    return None if ttl_ms < 0 else max(0.0, round(HEARTBEAT + 1 - ttl_ms / 1000, 1))
