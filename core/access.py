"""Who may see and do what: the caller, and the property scope rules every service applies.

Objects outside the caller's org or scope answer NotFound (their existence is not revealed); objects the
caller can see but not change answer Forbidden.
"""

from __future__ import annotations

from typing import Literal

import asyncpg
import msgspec

from core.errors import Forbidden, NotFound
from core.places import repository as places_sql

Level = Literal["read", "supervise", "admin"]


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    org_id: str
    user_id: str
    role: str
    session_id: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


async def visible_property_ids(conn: asyncpg.Connection, caller: Caller) -> list[str] | None:
    """The properties the caller can see; None means all of the org's (admins)."""
    if caller.is_admin:
        return None
    if caller.role == "owner":
        return sorted({r["property_id"] for r in await places_sql.owned_units(conn, caller.org_id, caller.user_id)})
    return await places_sql.assigned_property_ids(conn, caller.org_id, caller.user_id)


async def require_property(conn: asyncpg.Connection, caller: Caller, property_id: str, level: Level = "read") -> None:
    """Raise unless the caller can act on the property at `level`.

    read: anyone whose scope holds it; supervise: its supervisors and admins; admin: admins only.
    """
    visible = await visible_property_ids(conn, caller)
    if visible is None:
        found = await places_sql.get_property(conn, caller.org_id, property_id) is not None
    else:
        found = property_id in visible
    if not found:
        raise NotFound(f"property {property_id} not found", entity="property", id=property_id)
    if level == "admin" and not caller.is_admin:
        raise Forbidden("only an admin can do this / 只有管理员可以执行此操作", required_role="admin")
    if level == "supervise" and caller.role not in ("admin", "supervisor"):
        raise Forbidden("only a supervisor of this property or an admin can do this", required_role="supervisor")


async def supervised_zone(conn: asyncpg.Connection, caller: Caller, property_id: str) -> str:
    """The property's time zone, once the caller is found to supervise it (its supervisors and admins; else
    NotFound or Forbidden): where a supervisor's period of local days is read."""
    await require_property(conn, caller, property_id, "supervise")
    prop = await places_sql.get_property(conn, caller.org_id, property_id)
    if prop is None:  # deleted since the scope check, in another transaction
        raise NotFound(f"property {property_id} not found", entity="property", id=property_id)
    return str(prop["timezone"])


def require_role(caller: Caller, *roles: str) -> None:
    if caller.role not in roles:
        raise Forbidden(f"this needs the role {' or '.join(roles)}", required_role=list(roles))


async def found_in_scope(
    conn: asyncpg.Connection, caller: Caller, row: asyncpg.Record | None, missing: NotFound, level: Level = "read"
) -> asyncpg.Record:
    """The row, if it exists and the caller may act on its property at `level`; else `missing`, the same answer
    either way (a 403 would tell a caller that the record exists)."""
    if row is None:
        raise missing
    try:
        await require_property(conn, caller, row["property_id"], level)
    except NotFound:
        raise missing from None
    return row
