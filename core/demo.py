"""A realistic demo org: one property, four buildings, 200 units, supervisors, staff and owners.

The README tour and the benchmarks use it. Loading it twice changes nothing.
"""

from __future__ import annotations

import random

import asyncpg
import msgspec

from core.access import Caller
from core.people import repository as people_sql
from core.people import service as people
from core.people.schemas import UserCreate
from core.places import service as places
from core.places.schemas import BuildingCreate, PropertyCreate, UnitCreate
from core.security import hash_password
from core.vocabulary import Role

DEMO_ORG = "demo-property-services"
ADMIN_EMAIL = "admin@demo.fieldwork.local"
OWNER_EMAIL = "owner@demo.fieldwork.local"  # the owner of 1号楼 101, who can sign in to the owner pages
PASSWORD = "fieldwork-demo"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"


class DemoSummary(msgspec.Struct):
    org_id: str
    property_id: str
    admin_id: str
    admin_email: str
    password: str
    staff_emails: list[str]
    owner_email: str
    units: int
    owners: int
    created: bool


def staff_logins() -> list[str]:
    """The demo's supervisors and staff, who carry phones (`fieldwork simulate` logs in as them)."""
    return [f"supervisor{i}@demo.fieldwork.local" for i in (1, 2)] + [
        f"staff{i}@demo.fieldwork.local" for i in range(1, 7)
    ]


async def load_demo(conn: asyncpg.Connection, *, seed: int = 7) -> DemoSummary:
    existing = await conn.fetchrow("SELECT org_id FROM orgs WHERE slug = $1", DEMO_ORG)
    staff_emails = staff_logins()
    if existing is not None:
        org_id = existing["org_id"]
        counts = await conn.fetchrow(
            """SELECT (SELECT id FROM properties WHERE org_id = $1 ORDER BY created_at LIMIT 1) AS property_id,
                      (SELECT id FROM users WHERE org_id = $1 AND email = $2) AS admin_id,
                      (SELECT count(*) FROM units WHERE org_id = $1) AS units,
                      (SELECT count(*) FROM users WHERE org_id = $1 AND role = 'owner') AS owners""",
            org_id,
            ADMIN_EMAIL,
        )
        assert counts is not None
        return DemoSummary(
            org_id=org_id,
            property_id=counts["property_id"],
            admin_id=counts["admin_id"],
            admin_email=ADMIN_EMAIL,
            password=PASSWORD,
            staff_emails=staff_emails,
            owner_email=OWNER_EMAIL,
            units=counts["units"],
            owners=counts["owners"],
            created=False,
        )

    rng = random.Random(seed)
    org_id, admin = await people.create_org(
        conn,
        name="Demo Property Services 示范物业",
        admin_name="管理员 Admin",
        admin_email=ADMIN_EMAIL,
        admin_password=PASSWORD,
        slug=DEMO_ORG,
    )
    caller = Caller(org_id=org_id, user_id=admin.id, role="admin", session_id="demo")
    prop = await places.create_property(
        conn,
        caller,
        PropertyCreate(
            name="翠湖花园 Green Lake Garden",
            address="上海市浦东新区翠湖路 88 号",
            timezone="Asia/Shanghai",
            geo_lat=31.2222,
            geo_lon=121.5440,
            geo_radius_m=350,
        ),
    )
    units = 0
    owners = 0
    unit_ids: list[str] = []
    for b in range(1, 5):
        building = await places.create_building(conn, caller, prop.id, BuildingCreate(name=f"{b}号楼"))
        for floor in range(1, 26):
            for door in (1, 2):
                unit = await places.create_unit(
                    conn,
                    caller,
                    prop.id,
                    UnitCreate(
                        building_id=building.id,
                        number=f"{floor}{door:02d}",
                        floor=floor,
                        area_m2=rng.choice([78.5, 89.0, 96.2, 118.0, 135.6]),
                    ),
                )
                unit_ids.append(unit.id)
                units += 1
    for i, email in enumerate(staff_emails):
        role: Role = "supervisor" if email.startswith("supervisor") else "staff"
        person = await people.create_user(
            conn,
            caller,
            UserCreate(
                name=f"{SURNAMES[i]}{GIVEN[i]}", role=role, email=email, phone=f"1390000{i:04d}", password=PASSWORD
            ),
        )
        await people.assign_staff(conn, caller, prop.id, person.id)
    for n, unit_id in enumerate(unit_ids):
        registered = rng.random() < 0.8  # some flats are empty or not yet registered
        if n == 0 or registered:
            owner = await people.create_user(
                conn,
                caller,
                UserCreate(
                    name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                    role="owner",
                    phone=f"1380000{n:04d}",
                    email=OWNER_EMAIL if n == 0 else None,
                ),
            )
            if n == 0:  # as if activated with the office's code: an owner sets their own password
                await people_sql.set_password(conn, org_id, owner.id, await hash_password(PASSWORD))
            await people.link_owner(conn, caller, unit_id, owner.id)
            owners += 1
    return DemoSummary(
        org_id=org_id,
        property_id=prop.id,
        admin_id=admin.id,
        admin_email=ADMIN_EMAIL,
        password=PASSWORD,
        staff_emails=staff_emails,
        owner_email=OWNER_EMAIL,
        units=units,
        owners=owners,
        created=True,
    )
