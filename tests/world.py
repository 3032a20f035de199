"""A small world of two tenants, built through the services, for tests to log into and poke at."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg
import httpx

from core.access import Caller
from core.people import service as people
from core.people.schemas import UserCreate
from core.places import service as places
from core.places.schemas import BuildingCreate, PropertyCreate, UnitCreate

PASSWORD = "correct-horse-battery"


@dataclass
class Org:
    tag: str
    org_id: str = ""
    admin: str = ""
    property_id: str = ""
    other_property_id: str = ""
    building_id: str = ""
    unit_id: str = ""
    other_unit_id: str = ""
    ids: dict[str, str] = field(default_factory=dict)  # user role name -> user id

    def email(self, who: str) -> str:
        return f"{who}@{self.tag}.test"


async def build_org(conn: asyncpg.Connection, tag: str) -> Org:
    org = Org(tag=tag)
    org.org_id, admin = await people.create_org(
        conn, name=f"Org {tag}", admin_name="Admin", admin_email=org.email("admin"), admin_password=PASSWORD
    )
    org.ids["admin"] = admin.id
    caller = Caller(org_id=org.org_id, user_id=admin.id, role="admin", session_id="test")
    prop = await places.create_property(conn, caller, PropertyCreate(name=f"Garden {tag}", timezone="Asia/Shanghai"))
    other = await places.create_property(conn, caller, PropertyCreate(name=f"Tower {tag}", timezone="Asia/Shanghai"))
    org.property_id, org.other_property_id = prop.id, other.id
    building = await places.create_building(conn, caller, prop.id, BuildingCreate(name="1号楼"))
    org.building_id = building.id
    unit = await places.create_unit(conn, caller, prop.id, UnitCreate(building_id=building.id, number="101"))
    neighbour = await places.create_unit(conn, caller, prop.id, UnitCreate(building_id=building.id, number="102"))
    org.unit_id, org.other_unit_id = unit.id, neighbour.id
    for role in ("supervisor", "staff"):
        person = await people.create_user(
            conn, caller, UserCreate(name=role.title(), role=role, email=org.email(role), password=PASSWORD)
        )
        await people.assign_staff(conn, caller, prop.id, person.id)
        org.ids[role] = person.id
    loner = await people.create_user(
        conn, caller, UserCreate(name="Elsewhere", role="staff", email=org.email("elsewhere"), password=PASSWORD)
    )
    await people.assign_staff(conn, caller, other.id, loner.id)
    org.ids["elsewhere"] = loner.id
    owner = await people.create_user(conn, caller, UserCreate(name="Owner", role="owner", email=org.email("owner")))
    await people.link_owner(conn, caller, unit.id, owner.id)
    await conn.execute(
        "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE id = $1), "
        "activated_at = now() WHERE id = $2",
        admin.id,
        owner.id,
    )
    org.ids["owner"] = owner.id
    return org


async def login(api: httpx.AsyncClient, org: Org, who: str) -> dict[str, str]:
    response = await api.post("/auth/login", json={"login": org.email(who), "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def add_households(conn: asyncpg.Connection, org: Org, count: int, building: str = "2号楼") -> list[str]:
    """`count` more units of the property in a new building, each with an owner who can sign in as
    f"owner{i}"; returns the units' ids (org.ids[f"owner{i}"] is the owner's)."""
    caller = Caller(org_id=org.org_id, user_id=org.ids["admin"], role="admin", session_id="test")
    built = await places.create_building(conn, caller, org.property_id, BuildingCreate(name=building))
    units = []
    for i in range(count):
        unit = await places.create_unit(
            conn, caller, org.property_id, UnitCreate(building_id=built.id, number=f"{1 + i // 4}0{1 + i % 4}")
        )
        who = f"owner{i}"
        owner = await people.create_user(conn, caller, UserCreate(name=f"业主{i}", role="owner", email=org.email(who)))
        await people.link_owner(conn, caller, unit.id, owner.id)
        org.ids[who] = owner.id
        units.append(unit.id)
    await conn.execute(
        "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE id = $1), activated_at = now() "
        "WHERE id = ANY($2::text[])",
        org.ids["admin"],
        [org.ids[f"owner{i}"] for i in range(count)],
    )
    return units
