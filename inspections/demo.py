"""Inspection setup for the demo org (core/demo.py): two checklists, six checkpoints on a night patrol route,
who answers for findings, and today's rounds. Built through the services, as an admin would. Idempotent."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from core.access import Caller
from core.demo import DemoSummary
from inspections import rounds, setup, templates
from inspections.models import ChoiceItem, NumberItem, Option, PassFailItem, PhotoItem, Stop
from inspections.schemas import CheckpointCreate, DefaultResponsibleSet, RouteCreate, TemplateCreate
from inspections.schemas_work import RoundCreate


class InspectionDemo(msgspec.Struct):
    templates: int
    checkpoints: int
    rounds: int
    created: bool


CLEANING = TemplateCreate(
    name_zh="楼道保洁检查",
    name_en="Stairwell cleaning check",
    category="cleaning",
    items=[
        PassFailItem(
            key="floor",
            label_zh="地面干净无积水",
            label_en="Floor clean and dry",
            standard_zh="公共区域每日清扫2次",
            standard_en="common areas cleaned twice a day",
            photo_on_fail=True,
            severity="medium",
            rectify_hours=24,
        ),
        PassFailItem(
            key="handrail",
            label_zh="扶手无灰尘",
            label_en="Handrails dust-free",
            standard_zh="扶手每日擦拭1次",
            standard_en="handrails wiped daily",
        ),
        ChoiceItem(
            key="bins",
            label_zh="垃圾桶状态",
            label_en="Bins",
            options=[
                Option(value="empty", label_zh="已清空", label_en="emptied"),
                Option(value="half", label_zh="半满", label_en="half full"),
                Option(value="overflowing", label_zh="满溢", label_en="overflowing", fails=True),
            ],
            photo_on_fail=True,
            severity="high",
            rectify_hours=4,
        ),
    ],
)

PATROL = TemplateCreate(
    name_zh="夜间巡更",
    name_en="Night patrol",
    category="patrol",
    items=[
        PassFailItem(
            key="doors",
            label_zh="消防门关闭",
            label_en="Fire doors closed",
            standard_zh="消防通道畅通、防火门常闭",
            standard_en="fire lanes clear, fire doors kept shut",
            photo_on_fail=True,
            severity="critical",
        ),
        NumberItem(
            key="pump_bar",
            label_zh="消防泵压力",
            label_en="Fire pump pressure",
            min=0.3,
            max=0.8,
            unit="MPa",
            required=False,
            severity="high",
        ),
        PhotoItem(key="scene", label_zh="现场照片", label_en="Photo of the spot", required=False),
    ],
)

CHECKPOINTS = [
    ("1号楼大堂", "1F lobby"),
    ("1号楼地下车库", "B1 car park"),
    ("2号楼消防泵房", "B1 fire pump room"),
    ("3号楼屋顶", "roof"),
    ("4号楼配电房", "B1 switch room"),
    ("南门岗亭", "south gate"),
]


async def load_inspection_demo(conn: asyncpg.Connection, org: DemoSummary, now: datetime) -> InspectionDemo:
    org_id, property_id = org.org_id, org.property_id
    caller = Caller(org_id=org_id, user_id=org.admin_id, role="admin", session_id="demo")
    if await conn.fetchval("SELECT count(*) FROM checklist_templates WHERE org_id = $1", org_id):
        counts = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM checklist_templates WHERE org_id = $1) AS templates,
                      (SELECT count(*) FROM checkpoints WHERE org_id = $1) AS checkpoints,
                      (SELECT count(*) FROM rounds WHERE org_id = $1) AS rounds""",
            org_id,
        )
        assert counts is not None
        return InspectionDemo(**dict(counts), created=False)
    cleaning = await templates.create_template(conn, caller, CLEANING)
    patrol = await templates.create_template(conn, caller, PATROL)
    checkpoint_ids = []
    for n, (name, location) in enumerate(CHECKPOINTS, start=1):
        checkpoint = await setup.create_checkpoint(
            conn, caller, property_id, CheckpointCreate(name=name, tag_code=f"GL-CP-{n:02d}", location=location)
        )
        checkpoint_ids.append(checkpoint.id)
    route = await setup.create_route(
        conn,
        caller,
        property_id,
        RouteCreate(
            name="夜间巡更路线 Night route",
            stops=[Stop(checkpoint_id=c, minutes=0 if i == 0 else 8) for i, c in enumerate(checkpoint_ids)],
            tolerance_minutes=5,
            window_start="22:00",
            window_end="06:00",
        ),
    )
    people = {
        r["email"]: r["id"]
        for r in await conn.fetch("SELECT id, email FROM users WHERE org_id = $1 AND email IS NOT NULL", org_id)
    }
    staff1, staff2 = people["staff1@demo.fieldwork.local"], people["staff2@demo.fieldwork.local"]
    responsible = {
        "cleaning": staff2,
        "patrol": staff1,
        "engineering": people["supervisor2@demo.fieldwork.local"],
        "safety": people["supervisor1@demo.fieldwork.local"],
    }
    for category, user_id in responsible.items():
        await setup.set_default_responsible(conn, caller, property_id, category, DefaultResponsibleSet(user_id=user_id))
    await rounds.create_round(
        conn, caller, property_id, RoundCreate(template_id=patrol.id, assignee_id=staff1, route_id=route.id), now
    )
    await rounds.create_round(conn, caller, property_id, RoundCreate(template_id=cleaning.id, assignee_id=staff2), now)
    return InspectionDemo(templates=2, checkpoints=len(checkpoint_ids), rounds=2, created=True)
