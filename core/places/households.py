"""An owner's households: the units they are linked to, where each is, and its property's time zone (what the
owner's pages show first; the same units sync's owner scope is made of)."""

from __future__ import annotations

import asyncpg
import msgspec

from core.access import Caller
from core.places import repository as sql
from core.structs import Struct


class Household(Struct):
    unit_id: str
    unit_number: str
    building_id: str
    building_name: str
    property_id: str
    property_name: str
    timezone: str

    @property
    def label(self) -> str:
        """How a page names it: "1号楼 101"."""
        return f"{self.building_name} {self.unit_number}"


async def owner_households(conn: asyncpg.Connection, caller: Caller) -> list[Household]:
    """The caller's own households (none for anyone who owns no unit)."""
    rows = await sql.owner_households(conn, caller.org_id, caller.user_id)
    return [msgspec.convert(dict(row), Household) for row in rows]
