"""The audit trail, newest first (admins)."""

from __future__ import annotations

from litestar import get
from litestar.params import FromQuery

from api.deps import Conn, CurrentCaller, Cursor, PageLimit
from api.guards import ADMIN
from core.access import require_role
from core.audit.service import AuditEntry, list_entries
from core.structs import Page


@get("/audit", guards=[ADMIN], tags=["system"], summary="Who changed what, newest first (admin)")
async def audit_trail(
    caller: CurrentCaller,
    conn: Conn,
    entity: FromQuery[str | None] = None,
    entity_id: FromQuery[str | None] = None,
    cursor: Cursor = None,
    limit: PageLimit = 100,
) -> Page[AuditEntry]:
    require_role(caller, "admin")
    return await list_entries(
        conn, org_id=caller.org_id, entity=entity, entity_id=entity_id, cursor=cursor, limit=limit
    )
