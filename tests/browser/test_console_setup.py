"""An admin sets a property up at the console in a real Chromium, at a desk (1280×800) and on a big phone
(390×844): signs in, adds a checkpoint, opens its QR label sheet (a PDF), makes a route, looks at a schedule's
calendar and assigns a person. Every page is kept as a screenshot and checked by axe-core; a page of the label
sheet is kept as an image too."""

from __future__ import annotations

import pypdfium2
import pytest

from core.clock import FixedClock
from tests.browser.conftest import ARTIFACTS, BIG_PHONE, DESK, accessible, keep, open_context, submit
from tests.inspection_world import ok, set_up
from tests.integration.test_console_setup import NOW
from tests.world import PASSWORD, build_org


@pytest.fixture
def clock():
    return FixedClock(NOW)


async def shot(page, name: str) -> None:
    """The page passes axe, is no wider than the screen (a wide table scrolls in its own box), and is kept."""
    await accessible(page)
    screen = page.viewport_size["width"]
    wider = await page.evaluate(f"document.documentElement.scrollWidth - {screen}")
    assert wider <= 0, f"{name}: the page is {wider}px wider than the screen"
    await keep(page, name)


@pytest.mark.parametrize(("size", "viewport"), [("desk", DESK), ("phone", BIG_PHONE)])
async def test_an_admin_sets_up_a_property(api, db, browser, size, viewport):
    org = await build_org(db, f"sb{size[0]}")
    site = await set_up(api, org)
    admin = site.headers["admin"]
    newcomer = await ok(
        await api.post(
            "/users",
            headers=admin,
            json={"name": "李保安", "role": "staff", "phone": f"1390000000{len(size)}", "password": PASSWORD},
        ),
        201,
    )
    base = f"/console/properties/{org.property_id}/setup"
    schedule = await ok(
        await api.post(
            f"/properties/{org.property_id}/schedules",
            headers=admin,
            json={
                "kind": "inspection_round",
                "name": "楼道每日巡查",
                "dtstart_local": "2026-10-14T08:00:00",
                "rrule": "FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=8,14;BYMINUTE=0",
                "duration_minutes": 90,
                "payload": {"template_id": site.template_id, "assignee_ids": [org.ids["staff"]]},
            },
        ),
        201,
    )

    context = await open_context(browser, api, viewport=viewport)
    page = await context.new_page()
    await page.goto(base)
    assert "/console/sign-in" in page.url
    await page.fill("#login", org.email("admin"))
    await page.fill("#password", PASSWORD)
    await submit(page, page.locator("#sign-in button"))
    assert page.url.endswith(base)
    await shot(page, f"console-setup-overview-{size}")

    # a checkpoint, first refused (one coordinate), then added
    await page.click(f"a[href='{base}/checkpoints']")
    await page.fill("#f-name", "3号楼 消防通道")
    await page.fill("#f-tag_code", f"GL-{size}-07")
    await page.fill("#f-location", "一层东侧")
    await page.fill("#f-geo_lat", "31.23")
    await submit(page, page.locator("#add-checkpoint button[type=submit]"))
    assert await page.locator("#e-geo_lon").is_visible()
    assert await page.input_value("#f-name") == "3号楼 消防通道"
    await shot(page, f"console-setup-checkpoint-refused-{size}")
    await page.fill("#f-geo_lat", "")
    await submit(page, page.locator("#add-checkpoint button[type=submit]"))
    assert "done=added" in page.url and await page.locator(f"text=GL-{size}-07").count() == 1
    await shot(page, f"console-setup-checkpoints-{size}")
    checkpoint = page.locator("#checkpoints tr", has_text=f"GL-{size}-07")
    await checkpoint.locator("a").click()
    await page.wait_for_url("**/checkpoints/*")
    await shot(page, f"console-setup-checkpoint-{size}")

    # the label sheet: a PDF
    href = await page.locator("a", has_text="打印此标签").get_attribute("href")
    assert href
    answer = await page.request.get(href)
    assert answer.ok and answer.headers["content-type"] == "application/pdf"
    pdf = await answer.body()
    assert pdf.startswith(b"%PDF-")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pypdfium2.PdfDocument(pdf)[0].render(scale=2).to_pil().save(ARTIFACTS / f"console-setup-labels-{size}.png")

    # a route of the new checkpoint then the first one
    await page.goto(f"{base}/routes")
    await shot(page, f"console-setup-routes-before-{size}")
    await page.click("#new-route")
    await page.fill("#f-name", "夜间巡更")
    new_id = (await ok(await api.get(f"/properties/{org.property_id}/checkpoints?active=true", headers=admin)))["items"]
    made = next(c["id"] for c in new_id if c["tag_code"] == f"GL-{size}-07")
    await page.fill(f"[id='position.{made}']", "1")
    await page.fill(f"[id='position.{site.checkpoints[0]}']", "2")
    await page.fill(f"[id='minutes.{site.checkpoints[0]}']", "12")
    await shot(page, f"console-setup-route-form-{size}")
    await submit(page, page.locator("#route-form button[type=submit]"))
    assert "done=added" in page.url
    route_id = page.url.split("#")[1]
    route = await ok(await api.get(f"/routes/{route_id}", headers=admin))
    assert route["stops"] == [
        {"checkpoint_id": made, "minutes": 0},
        {"checkpoint_id": site.checkpoints[0], "minutes": 12},
    ]
    await shot(page, f"console-setup-routes-{size}")

    # schedules: the rule in words, the calendar, the form
    await page.click(f"a[href='{base}/schedules']")
    assert await page.locator("#schedules", has_text="每周一、周三、周五 08:00、14:00").count() == 1
    await shot(page, f"console-setup-schedules-{size}")
    await page.click(f"a[href='{base}/schedules/{schedule['id']}']")
    assert await page.locator("#calendar td.busy").count() > 10
    await shot(page, f"console-setup-calendar-{size}")
    await page.goto(f"{base}/schedules/new")
    await shot(page, f"console-setup-schedule-form-{size}")

    # people: assign the newcomer
    await page.goto(f"{base}/people")
    await page.select_option("#f-user_id", newcomer["id"])
    await submit(page, page.locator("#assign button[type=submit]"))
    assert "done=assigned" in page.url and await page.locator("#people", has_text="李保安").count() == 1
    staff = await ok(await api.get(f"/properties/{org.property_id}/staff", headers=admin))
    assert newcomer["id"] in {p["id"] for p in staff}
    await shot(page, f"console-setup-people-{size}")
    await page.click("header a[href='/console/people']")
    await shot(page, f"console-setup-org-people-{size}")
    await context.close()
