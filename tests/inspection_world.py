"""A property set up for inspection work through the public API: a cleaning checklist, two checkpoints on a
route, a fixer who answers for cleaning findings, and a round assigned to the staff member."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from sync.client import SyncClient
from tests.world import PASSWORD, Org, login

FLOOR_ITEM = {
    "type": "pass_fail",
    "key": "floor",
    "label_zh": "地面清洁",
    "label_en": "Floor clean",
    "standard_zh": "公共区域每日清扫2次",
    "standard_en": "common areas cleaned twice a day",
    "photo_on_fail": True,
    "severity": "high",
    "rectify_hours": 24,
}
TEMP_ITEM = {
    "type": "number",
    "key": "temp",
    "label_zh": "垃圾房温度",
    "label_en": "Bin room temperature",
    "min": 2,
    "max": 8,
    "unit": "°C",
    "required": False,
}


@dataclass
class Site:
    org: Org
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # who -> auth headers
    template_id: str = ""
    checkpoints: list[str] = field(default_factory=list)  # ids; tags are "QR-<n>"
    route_id: str = ""
    fixer: str = ""


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def now_ms() -> int:
    return ms(datetime.now(UTC))


async def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


async def set_up(api: httpx.AsyncClient, org: Org) -> Site:
    site = Site(org=org)
    for who in ("admin", "supervisor", "staff"):
        site.headers[who] = await login(api, org, who)
    admin = site.headers["admin"]
    template = await ok(
        await api.post(
            "/templates",
            headers=admin,
            json={
                "name_zh": "楼道保洁",
                "name_en": "Stairwell cleaning",
                "category": "cleaning",
                "items": [FLOOR_ITEM, TEMP_ITEM],
            },
        ),
        201,
    )
    site.template_id = template["id"]
    for n in (1, 2):
        checkpoint = await ok(
            await api.post(
                f"/properties/{org.property_id}/checkpoints",
                headers=admin,
                json={"name": f"B{n} 楼梯间", "tag_code": f"QR-{org.tag}-{n}", "location": f"B{n}"},
            ),
            201,
        )
        site.checkpoints.append(checkpoint["id"])
    route = await ok(
        await api.post(
            f"/properties/{org.property_id}/routes",
            headers=admin,
            json={
                "name": "地下室巡查 basement",
                "stops": [
                    {"checkpoint_id": site.checkpoints[0], "minutes": 0},
                    {"checkpoint_id": site.checkpoints[1], "minutes": 10},
                ],
                "tolerance_minutes": 5,
            },
        ),
        201,
    )
    site.route_id = route["id"]
    fixer = await ok(
        await api.post(
            "/users",
            headers=admin,
            json={"name": "Fixer 维修工", "role": "staff", "email": org.email("fixer"), "password": PASSWORD},
        ),
        201,
    )
    site.fixer = fixer["id"]
    await ok(await api.put(f"/properties/{org.property_id}/staff/{site.fixer}", headers=admin))
    await ok(
        await api.put(
            f"/properties/{org.property_id}/rectification-defaults/cleaning",
            headers=admin,
            json={"user_id": site.fixer},
        )
    )
    site.headers["fixer"] = await login(api, org, "fixer")
    return site


async def assign_round(api: httpx.AsyncClient, site: Site, assignee: str = "staff", route: bool = True) -> dict:
    body = {"template_id": site.template_id, "assignee_id": site.org.ids.get(assignee, assignee)}
    if route:
        body["route_id"] = site.route_id
    detail = await ok(
        await api.post(f"/properties/{site.org.property_id}/rounds", headers=site.headers["supervisor"], json=body), 201
    )
    return detail["round"]


async def device(api: httpx.AsyncClient, site: Site, who: str) -> SyncClient:
    return await SyncClient.from_server(api, ":memory:", site.headers[who])


def tag(site: Site, n: int) -> str:
    return f"QR-{site.org.tag}-{n}"
