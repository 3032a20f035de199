"""When a photo row arrives after its bytes (a phone that uploaded first, or whose push failed), the push
attaches the finished upload to it, in the push's transaction; the phone pulls the result."""

from __future__ import annotations

from collections.abc import Mapping

import asyncpg

from core.access import Caller
from sync.photos import repository as sql
from sync.push import Written
from sync.scope import Grants


async def attach_arrived(
    conn: asyncpg.Connection, caller: Caller, grants: Grants, written: Mapping[str, Written]
) -> None:
    created = written["photos"].created if "photos" in written else []
    if created:
        await sql.attach_pushed(conn, caller.org_id, created)
