"""A supervisor at the review queue in a real Chromium, on a desk (1280×800) and a large phone (390×844): signs in
through the sign-in page, opens the queue, compares the photos before and after (side by side on the desk, one
above the other on the phone), verifies one order with the button, lands on the next, sends it back with a
reason and sees the queue emptied; the API then shows both verdicts. A verdict on an order someone else decided
meanwhile is the 409 page, another property's order the 404 page. Once more with the keyboard (j, r, v, ?).
Every page is kept as a screenshot and checked by axe-core."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from core.clock import FixedClock
from tests.browser.conftest import BIG_PHONE, DESK, accessible, keep, open_context, submit
from tests.integration.test_console_review import NOW, queue_of, second_supervisor, submitted_order
from tests.integration.test_owner_tickets import make_derivatives
from tests.world import PASSWORD, Org, build_org, login


@pytest.fixture
def clock():
    return FixedClock(NOW)


async def sign_in(page: Page, org: Org, to: str) -> None:
    await page.goto(to)
    assert "/console/sign-in?next=" in page.url
    await page.fill("#login", org.email("supervisor"))
    await page.fill("#password", PASSWORD)
    await submit(page, page.locator("#sign-in button"))
    assert page.url.endswith(to), page.url


async def boxes(page: Page, selector: str) -> list[dict]:
    """Where on the page each matching image is drawn, once it has loaded (a broken one fails to decode)."""
    found = []
    for image in await page.locator(selector).all():
        await image.evaluate("i => i.decode()")
        assert await image.evaluate("i => i.naturalWidth") > 0, "the photo shows"
        found.append(
            await image.evaluate(
                "i => { const r = i.getBoundingClientRect();"
                " return {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height}; }"
            )
        )
    return found


@pytest.mark.parametrize(("viewport", "size"), [(DESK, "desk"), (BIG_PHONE, "phone")])
async def test_a_supervisor_verifies_one_order_and_sends_one_back(api, db, clock, settings, browser, viewport, size):
    org = await build_org(db, f"rb{size[0]}")
    first = await submitted_order(api, db, org, "大堂地面有污渍，需要清洗", due_in_hours=2, before_photo=True)
    clock.advance(hours=1)
    second = await submitted_order(api, db, org, "电梯厅垃圾桶满溢", location="1号楼电梯厅", severity="high")
    elsewhere = await submitted_order(
        api, db, org, "塔楼外墙脱落", property_id=org.other_property_id, opener="admin", fixer="elsewhere"
    )
    clock.advance(hours=2)
    await make_derivatives(settings, db, org)

    context = await open_context(browser, api, viewport=viewport)
    page = await context.new_page()
    await sign_in(page, org, queue_of(org))
    rows = page.locator("table.review-queue tbody tr")
    assert await rows.count() == 2
    assert first in await rows.nth(0).get_attribute("id") and second in await rows.nth(1).get_attribute("id")
    assert "已逾期" in await rows.nth(0).inner_text()
    await accessible(page)
    await keep(page, f"console-review-queue-{size}")

    await submit(page, page.locator(f"#order-{first} a.order-link"))
    assert page.url.endswith(f"/console/orders/{first}")
    before, after = await boxes(page, ".side img")
    if size == "desk":
        assert abs(before["y"] - after["y"]) < 2 and after["x"] > before["x"] + before["width"], "side by side"
        assert before["width"] > 400, "at display size"
    else:
        assert after["y"] > before["y"] + before["height"], "one above the other"
    assert await page.locator(".history li").count() == 3  # opened, started, submitted (with its note)
    await accessible(page)
    await keep(page, f"console-review-order-{size}")

    await submit(page, page.locator("#verify"))
    assert f"/console/orders/{second}?done=verified" in page.url
    assert "已通过：大堂地面有污渍，需要清洗" in await page.locator("#done").inner_text()
    await page.fill("#reason", "垃圾桶周边仍有污水，请冲洗地面")
    await page.fill("#due_at", "2026-10-14T18:00")
    await submit(page, page.locator("#reject"))
    assert f"{queue_of(org)}?done=rejected" in page.url
    notice = await page.locator("#done").inner_text()
    assert "已退回整改：电梯厅垃圾桶满溢" in notice and "队列已清空" in notice
    await accessible(page)
    await keep(page, f"console-review-queue-empty-{size}")

    supervisor = await login(api, org, "supervisor")
    verified = (await api.get(f"/orders/{first}", headers=supervisor)).json()
    assert (verified["status"], verified["verified_by"]) == ("verified", org.ids["supervisor"])
    back = (await api.get(f"/orders/{second}", headers=supervisor)).json()
    assert (back["status"], back["reject_reason"]) == ("in_progress", "垃圾桶周边仍有污水，请冲洗地面")
    assert back["due_at"] == "2026-10-14T10:00:00Z"

    # someone else decides while the page is open: the page's verdict is refused, clearly
    third = await submitted_order(api, db, org, "草坪喷头漏水")
    await page.goto(f"/console/orders/{third}")
    other = await second_supervisor(api, org)
    assert (await api.post(f"/orders/{third}/verify", headers=other)).status_code == 200
    await submit(page, page.locator("#verify"))
    refusal = page.locator("#refusal")
    assert "这张整改单在您查看后已被他人处理或重新提交" in await refusal.inner_text()
    assert await page.locator("#verify").count() == 0
    await accessible(page)
    await keep(page, f"console-review-409-{size}")

    answer = await page.goto(f"/console/orders/{elsewhere}")
    assert answer is not None and answer.status == 404
    assert "没有找到这张整改单" in await page.content()
    await accessible(page)
    await keep(page, f"console-review-404-{size}")
    await context.close()


async def test_the_review_keys_open_orders_and_give_verdicts(api, db, clock, settings, browser):
    org = await build_org(db, "rbk")
    first = await submitted_order(api, db, org, "消防通道堆放杂物", severity="critical")
    clock.advance(minutes=30)
    second = await submitted_order(api, db, org, "车库照明损坏")
    await make_derivatives(settings, db, org)
    context = await open_context(browser, api, viewport=DESK)
    page = await context.new_page()
    await sign_in(page, org, queue_of(org))

    async with page.expect_navigation():
        await page.keyboard.press("j")
    assert page.url.endswith(f"/console/orders/{first}")
    async with page.expect_navigation():
        await page.keyboard.press("n")
    assert page.url.endswith(f"/console/orders/{second}")
    async with page.expect_navigation():
        await page.keyboard.press("k")
    assert page.url.endswith(f"/console/orders/{first}")

    await page.keyboard.press("?")
    assert await page.locator("#shortcuts").get_attribute("open") is not None
    await accessible(page)
    await keep(page, "console-review-keys-list-desk")
    await page.keyboard.press("r")
    assert await page.evaluate("document.activeElement.id") == "reason"
    await page.keyboard.type("j k v 还没清完")  # typing in a field: no shortcut fires
    assert page.url.endswith(f"/console/orders/{first}")
    assert await page.input_value("#reason") == "j k v 还没清完"
    await page.locator("h1").click()  # out of the field

    asked = []

    async def decline(dialog):
        asked.append(dialog.message)
        await dialog.dismiss()

    page.once("dialog", decline)
    await page.keyboard.press("v")
    assert asked == ["确认通过这张整改单？"] and page.url.endswith(f"/console/orders/{first}"), "declined: nothing"
    page.once("dialog", lambda dialog: dialog.accept())
    async with page.expect_navigation():
        await page.keyboard.press("v")
    assert f"/console/orders/{second}?done=verified" in page.url
    supervisor = await login(api, org, "supervisor")
    assert (await api.get(f"/orders/{first}", headers=supervisor)).json()["status"] == "verified"

    await page.goto(f"/console/orders/{second}?lang=en")
    assert await page.locator("#verify").inner_text() == "Verify" and "Send back" in await page.content()
    await accessible(page)
    await keep(page, "console-review-order-en-desk")
    await context.close()
