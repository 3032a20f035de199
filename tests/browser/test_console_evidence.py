"""A supervisor judges evidence flags in a real Chromium, on a desk (1280×800; and again with JavaScript off: plain
forms) and a large phone (390×844): the property's evidence section lists the open flags with the evidence in
words; a flag's link opens its order, whose page shows its flags beside the photos (the other photo's thumbnail for
a reused photo); a dismissal without a reason is refused beside the form, one with a reason shows the flag
dismissed, by whom, when and why. Every page is kept as a screenshot and checked by axe-core."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from core.clock import FixedClock
from tests.browser.conftest import BIG_PHONE, DESK, accessible, keep, open_context, submit
from tests.browser.test_console_review import boxes, sign_in
from tests.integration.test_console_evidence import NOW, flagged_order
from tests.integration.test_evidence_kpis import insert_flag
from tests.integration.test_owner_tickets import make_derivatives
from tests.world import build_org


@pytest.fixture
def clock():
    return FixedClock(NOW)


async def checked(page: Page, javascript: bool) -> None:
    if javascript:
        await accessible(page)


# once more on the desk with JavaScript off: the forms alone (axe-core needs a script, so that run skips it)
@pytest.mark.parametrize(
    ("viewport", "size", "javascript"), [(DESK, "desk", True), (BIG_PHONE, "phone", True), (DESK, "nojs", False)]
)
async def test_a_supervisor_reads_the_flags_and_dismisses_one(api, db, settings, browser, viewport, size, javascript):
    org = await build_org(db, f"eb{size}")
    # the order's before-photo, said to be a photo seen before (the thumbnail shows it)
    order = await flagged_order(api, db, org, other_photo="before-placeholder")
    before = await db.fetchval("SELECT id FROM photos WHERE record_id = $1 AND purpose = 'before'", order)
    await db.execute("UPDATE evidence_flags SET evidence = evidence || jsonb_build_object('photo_id', $1::text) "
                     "WHERE id = 'f-reused'", before)  # fmt: skip
    staff = org.ids["staff"]
    await insert_flag(db, org, "f-fast", "too_fast", staff=staff, at=NOW, subject="visit",
                      evidence={"from_visit": "v1", "metres": 420, "seconds": 55, "kmh": 27.5}, score=27.5)  # fmt: skip
    await insert_flag(db, org, "f-short", "round_too_short", staff=staff, at=NOW, subject="round",
                      evidence={"minutes": 9.0, "expected_minutes": 45, "share": 0.2}, score=0.2)  # fmt: skip
    await make_derivatives(settings, db, org)

    context = await open_context(browser, api, viewport=viewport, javascript=javascript)
    page = await context.new_page()
    section = f"/console/properties/{org.property_id}/evidence"
    await sign_in(page, org, section)
    flags = page.locator("ol.flags > li.flag")
    assert await flags.count() == 5
    text = await page.locator("#flags").inner_text()
    assert "27.5 公里/小时" in text and "巡查用时 9 分钟，路线预计 45 分钟" in text
    assert await page.locator('nav.tabs a[aria-current="page"]').inner_text() == "证据"
    await checked(page, javascript)
    await keep(page, f"console-evidence-section-{size}")

    await submit(page, page.locator("#flag-f-reused a.flag-order"))
    assert page.url.endswith(f"/console/orders/{order}")
    card = page.locator("#evidence")
    assert await card.locator("li.flag").count() == 3
    assert "与 3 天前的照片相同" in await card.inner_text()
    thumbnails = await boxes(page, "#flag-f-reused .flag-photo img")
    assert len(thumbnails) == 1 and thumbnails[0]["width"] == 56
    await checked(page, javascript)
    await keep(page, f"console-order-flags-{size}")

    await page.fill("#reason-f-reused", "   ")
    await submit(page, page.locator("#flag-f-reused button"))
    assert "请写明忽略的理由" in await page.locator("#reason-error-f-reused").inner_text()
    await checked(page, javascript)
    await page.fill("#reason-f-reused", "同一位置，不同日期 the same spot, another day")
    await submit(page, page.locator("#flag-f-reused button"))
    assert "flag_done=f-reused" in page.url
    judged = await page.locator("#flag-f-reused .flag-judged").inner_text()
    assert "已由 Supervisor" in judged and "the same spot, another day" in judged
    assert await page.locator("#flag-f-reused form").count() == 0
    await checked(page, javascript)
    await keep(page, f"console-order-flag-dismissed-{size}")

    await page.goto(f"/console/properties/{org.property_id}/review")
    assert await page.locator(f"#order-{order} .flag-count").inner_text() == "⚑ 1 个证据标记"
    await keep(page, f"console-review-queue-flags-{size}")
    await context.close()
