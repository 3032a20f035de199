"""The survey page at a household's link against GET /health, side by side on the same server, and its weight.

    .venv/bin/python -m bench.pages [--repeats N]

`fieldwork serve` runs in its own process on a scratch database holding an org, a property of 200 households and a
campaign with a full survey: 12 Likert questions (two for each default dimension), one NPS, two single choices (one
controlling skip logic), one multiple choice and one text question. One client on one keep-alive connection asks,
round-robin, for GET /health (the floor: it reads PostgreSQL and Redis) and GET /survey/{token} as a browser does
(Accept: text/html, gzip: the household's lookup, the template, its answers, the page rendered and compressed),
alternating households. Both go through the same loopback and client, so their ratio is the page's server-side cost
over the cheapest request the app answers. The issue's targets: the page's p95 under 2× /health's p95, and the page
under 60 KB over the wire (gzip) with its stylesheet and script, without photos, and no web font.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench._support import Result, fieldwork_server, median, percentile, print_results, say, scratch_database
from bench.kpi import describe
from core.access import Caller
from core.db import connect
from core.people import service as people
from core.places import service as places
from core.places.schemas import BuildingCreate, PropertyCreate, UnitCreate

PASSWORD = "bench-pages-password"
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Accept-Encoding": "gzip"}


def questions() -> list[dict[str, object]]:
    dimensions = [
        ("service", "服务质量"),
        ("attitude", "人员态度"),
        ("facilities", "设施维护"),
        ("security", "安全"),
        ("cleaning", "清洁"),
        ("landscaping", "绿化"),
    ]
    asked: list[dict[str, object]] = []
    for key, name in dimensions:
        for n in (1, 2):
            asked.append(
                {
                    "type": "likert",
                    "key": f"{key}_{n}",
                    "dimension": key,
                    "text_zh": f"您对{name}的满意程度（{n}）",
                    "text_en": f"How satisfied are you with {key} ({n})?",
                }
            )
    yes_no = [{"key": "yes", "label_zh": "是", "label_en": "Yes"}, {"key": "no", "label_zh": "否", "label_en": "No"}]
    places_ = ["stairs", "lift", "lobby", "garage", "garden", "bins"]
    return [
        *asked,
        {"type": "nps", "key": "recommend", "text_zh": "您会向亲友推荐我们吗", "text_en": "Would you recommend us?"},
        {
            "type": "single",
            "key": "repairs",
            "text_zh": "半年内报修过吗",
            "text_en": "A repair lately?",
            "options": yes_no,
        },
        {
            "type": "single",
            "key": "repair_ok",
            "text_zh": "维修是否及时",
            "text_en": "Was it repaired on time?",
            "options": yes_no,
            "show_if": {"question": "repairs", "equals": "yes"},
        },
        {
            "type": "multiple",
            "key": "places",
            "text_zh": "哪些地方需要改进",
            "text_en": "What needs improving?",
            "options": [{"key": k, "label_zh": k, "label_en": k} for k in places_],
        },
        {"type": "text", "key": "comment", "text_zh": "意见建议", "text_en": "Comments"},
    ]


async def build(url: str) -> str:
    """The org, its property of 200 households; returns the admin's e-mail."""
    conn = await connect(url)
    try:
        org_id, admin = await people.create_org(
            conn, name="Bench", admin_name="Admin", admin_email="admin@bench.test", admin_password=PASSWORD
        )
        caller = Caller(org_id=org_id, user_id=admin.id, role="admin", session_id="bench")
        prop = await places.create_property(conn, caller, PropertyCreate(name="阳光花园", timezone="Asia/Shanghai"))
        for b in range(1, 5):
            building = await places.create_building(conn, caller, prop.id, BuildingCreate(name=f"{b}号楼"))
            for u in range(1, 51):
                unit = UnitCreate(building_id=building.id, number=f"{u // 4 + 1}{u % 4 + 1:02d}-{u}")
                await places.create_unit(conn, caller, prop.id, unit)
        return prop.id
    finally:
        await conn.close()


async def links(client: httpx.AsyncClient, property_id: str) -> list[str]:
    login = await client.post("/auth/login", json={"login": "admin@bench.test", "password": PASSWORD})
    admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
    template = await client.post(
        "/survey-templates",
        headers=admin,
        json={"name_zh": "满意度调查", "name_en": "Satisfaction", "questions": questions(), "allow_edit": True},
    )
    campaign = await client.post(
        f"/properties/{property_id}/campaigns",
        headers=admin,
        json={
            "template_id": template.json()["template_id"],
            "name_zh": "2026下半年业主满意度调查",
            "name_en": "H2 2026 owner satisfaction survey",
            "opens_at": "2020-01-01T00:00:00Z",
            "closes_at": "2099-01-01T00:00:00Z",
        },
    )
    found = await client.get(f"/campaigns/{campaign.json()['id']}/links", headers=admin)
    return [f"/survey/{link['token']}" for link in found.json()]


async def weigh(client: httpx.AsyncClient, link: str) -> tuple[int, int, list[str]]:
    """Bytes over the wire (gzip) of the page with its stylesheet and script, the page alone, and what it loads."""
    async with client.stream("GET", link, headers=BROWSER) as response:
        page = b"".join([chunk async for chunk in response.aiter_raw()])
        assert response.headers.get("content-encoding") == "gzip", "the page was not compressed"
    html = gzip.decompress(page).decode()
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    total = len(page)
    for asset in assets:
        async with client.stream("GET", asset, headers=BROWSER) as response:
            total += len(b"".join([chunk async for chunk in response.aiter_raw()]))
    loaded_fonts = [a for a in assets if re.search(r"\.(woff2?|ttf|otf)", a)] + re.findall(r"@font-face", html)
    return total, len(page), loaded_fonts


async def run(repeats: int) -> tuple[list[Result], str]:
    async with scratch_database() as url:
        say("building a property of 200 households")
        property_id = await build(url)
        with tempfile.TemporaryDirectory() as home, fieldwork_server(url, Path(home)) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                households = await links(client, property_id)
                say(f"{len(households)} links; weighing the page")
                total, page_bytes, fonts = await weigh(client, households[0])
                for _ in range(20):  # warm-up
                    await client.get("/health")
                    await client.get(households[0], headers=BROWSER)
                health: list[float] = []
                survey: list[float] = []
                say(f"timing {repeats} of each, round-robin")
                for i in range(repeats):
                    started = time.perf_counter()
                    answer = await client.get("/health")
                    health.append(time.perf_counter() - started)
                    assert answer.status_code == 200
                    started = time.perf_counter()
                    answer = await client.get(households[i % len(households)], headers=BROWSER)
                    survey.append(time.perf_counter() - started)
                    assert answer.status_code == 200 and "<form" in answer.text, (
                        answer.status_code,
                        answer.text[-800:],
                    )
    p95_page, p95_health = percentile(survey, 95), percentile(health, 95)
    results = [
        Result(
            "GET /survey/{token}, p95 (ms)",
            f"{p95_page * 1000:.2f}",
            f"{p95_health * 1000:.2f}",
            f"{p95_page / p95_health:.2f}×",
            "< 2× /health",
            p95_page < 2 * p95_health,
        ),
        Result(
            "GET /survey/{token}, median (ms)",
            f"{median(survey) * 1000:.2f}",
            f"{median(health) * 1000:.2f}",
            f"{median(survey) / median(health):.2f}×",
            "—",
            None,
        ),
        Result("page + CSS + JS, gzip (KB)", f"{total / 1024:.1f}", "—", "—", "< 60 KB", total < 60 * 1024),
        Result("the page alone (KB, gzip)", f"{page_bytes / 1024:.1f}", "—", "—", "—", None),
        Result("web fonts loaded", str(len(fonts)), "—", "—", "0", not fonts),
    ]
    notes = (
        f"{repeats} requests of each, one keep-alive connection, round-robin over {len(households)} households; "
        f"{platform.node()}, Python {platform.python_version()}, {describe()}"
    )
    return results, notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2000)
    args = parser.parse_args()
    results, notes = asyncio.run(run(args.repeats))
    return print_results(results, notes, "bench.pages")


if __name__ == "__main__":
    sys.exit(main())
