"""Periodic jobs a domain plugs in (deadline chasers, reminders): what they get from the worker, and when they run.
The worker (workers/settings.py) hands them to arq under their names; the kernel names none of them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec

from core.clock import Clock
from core.settings import Settings


class JobContext(msgspec.Struct, frozen=True, kw_only=True):
    pool: asyncpg.Pool
    clock: Clock
    settings: Settings  # with the secret


class Periodic(msgspec.Struct, frozen=True, kw_only=True):
    """A job run on a schedule of the worker's clock (arq's cron fields: None is every value)."""

    name: str  # the job's name in the queue (`fieldwork jobs`, tests and operators call it by this)
    run: Callable[[JobContext], Awaitable[Any]]
    hour: frozenset[int] | None = None
    minute: frozenset[int] | None = None
    second: frozenset[int] = frozenset({0})
    run_at_startup: bool = False


# how a job's arguments and result are written in the queue: the worker and whoever queues a job must agree
encode_job = msgspec.msgpack.encode
decode_job = msgspec.msgpack.decode


def queue_name(settings: Settings) -> str:
    """The worker's queue (arq's queue name): the API puts jobs there too (a report asked for)."""
    return f"{settings.namespace}:queue"
