"""The service desk's sample data for `fieldwork demo`: a default person for engineering, and a few tickets in
the states a desk sees in a day (just filed from the app, a hotline complaint being worked, an enquiry answered
and confirmed, a praise closed after its return visit, a duplicate declined), made through the same use cases as
the API."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from core.access import Caller
from core.demo import DemoSummary
from servicedesk import assignees, tickets
from servicedesk.schemas import AssigneeSet, StepIn, TicketCreate


class DeskDemo(msgspec.Struct):
    tickets: int
    created: bool


async def load_desk_demo(conn: asyncpg.Connection, org: DemoSummary, now: datetime) -> DeskDemo:
    made = await conn.fetchval("SELECT count(*) FROM tickets WHERE org_id = $1", org.org_id)
    if made:
        return DeskDemo(tickets=made, created=False)
    people = await conn.fetch(
        """SELECT u.id, u.role, (SELECT o.unit_id FROM unit_owners o WHERE o.org_id = u.org_id AND o.user_id = u.id
                                 ORDER BY o.unit_id LIMIT 1) AS unit_id
             FROM users u WHERE u.org_id = $1 AND u.role IN ('owner', 'staff', 'supervisor') ORDER BY u.email""",
        org.org_id,
    )
    owners = [(r["id"], r["unit_id"]) for r in people if r["role"] == "owner" and r["unit_id"]]
    staff = [r["id"] for r in people if r["role"] == "staff"]
    supervisor = next(r["id"] for r in people if r["role"] == "supervisor")

    def as_(user_id: str, role: str) -> Caller:
        return Caller(org_id=org.org_id, user_id=user_id, role=role, session_id="demo")

    desk, boss = as_(staff[0], "staff"), as_(supervisor, "supervisor")
    await assignees.set_assignee(conn, boss, org.property_id, "engineering", AssigneeSet(user_id=staff[1]))

    async def file(who: Caller, **fields: object) -> str:
        made, _ = await tickets.file_ticket(conn, who, org.property_id, msgspec.convert(fields, TicketCreate), now)
        return made.id

    async def steps(ticket_id: str, *taken: tuple[Caller, dict[str, object]]) -> None:
        for who, body in taken:
            await tickets.step(conn, who, ticket_id, msgspec.convert(body, StepIn), now, 3)

    (owner1, unit1), (owner2, unit2), (owner3, unit3) = owners[:3]
    await file(
        as_(owner1, "owner"),
        kind="repair",
        category="engineering",
        unit_id=unit1,
        description="卫生间地漏反味 the bathroom drain smells",
        request="请师傅上门检查",
    )
    noise = await file(
        desk,
        kind="complaint",
        category="safety",
        unit_id=unit2,
        channel="hotline",
        caller_name="业主 李女士",
        caller_phone="13800138000",
        description="夜间楼下广场舞噪音 late-night dancing noise in the square",
    )
    await steps(noise, (desk, {"action": "accept"}), (desk, {"action": "assign", "assignee_id": staff[2]}))
    again = await file(
        desk,
        kind="complaint",
        category="safety",
        unit_id=unit3,
        channel="front_desk",
        description="广场舞噪音 noise from the square again",
    )
    await steps(again, (desk, {"action": "decline", "note": "已合并至同一投诉处理", "duplicate_of": noise}))
    enquiry = await file(
        as_(owner2, "owner"),
        kind="enquiry",
        category="other",
        unit_id=unit2,
        description="快递柜如何开通？ how do I use the parcel lockers?",
    )
    await steps(
        enquiry,
        (desk, {"action": "accept"}),
        (desk, {"action": "assign", "assignee_id": staff[0]}),
        (desk, {"action": "resolve", "note": "已告知：在物业小程序绑定房号即可"}),
        (as_(owner2, "owner"), {"action": "confirm"}),
    )
    praise = await file(
        as_(owner3, "owner"),
        kind="praise",
        category="cleaning",
        unit_id=unit3,
        description="保洁阿姨每天把楼道打扫得很干净 the stairwells are spotless",
    )
    await steps(
        praise,
        (desk, {"action": "accept"}),
        (desk, {"action": "assign", "assignee_id": staff[0]}),
        (desk, {"action": "resolve", "note": "已转达保洁组并予以表扬"}),
        (desk, {"action": "visit", "rating": 5, "channel": "phone", "note": "业主很满意"}),
    )
    return DeskDemo(tickets=5, created=True)
