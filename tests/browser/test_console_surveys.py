"""A supervisor at the console in a real Chromium, on a desk's screen (1280×800) and a large phone (390×844): signs
in, opens the property's survey campaigns and a campaign's report (its charts drawn), picks a building's household
and enters its answers taken by telephone, and sees the count by channel change; the report in English too. Every
page is kept as a screenshot and checked by axe-core."""

from __future__ import annotations

import re

import pytest

from core.clock import FixedClock
from tests.browser.conftest import BIG_PHONE, DESK, accessible, keep, open_context, submit
from tests.integration.test_console_surveys import NOW, two_campaigns
from tests.world import PASSWORD


@pytest.fixture
def clock():
    return FixedClock(NOW)


async def phone_count(page) -> int:
    return int(await page.locator('td[data-channel="phone"]').inner_text())


@pytest.mark.parametrize("screen", ["desk", "phone"])
async def test_a_supervisor_reads_a_report_and_enters_a_telephone_answer(api, db, clock, browser, screen):
    org, _, _, units = await two_campaigns(api, db, clock, f"cb{screen[0]}")
    context = await open_context(browser, api, viewport=DESK if screen == "desk" else BIG_PHONE)
    page = await context.new_page()

    await page.goto(f"/console/properties/{org.property_id}/surveys")
    assert "/console/sign-in" in page.url
    await page.fill("#login", org.email("supervisor"))
    await page.fill("#password", PASSWORD)
    await submit(page, page.get_by_role("button", name="登录"))
    assert page.url.endswith(f"/console/properties/{org.property_id}/surveys")
    assert await page.get_by_role("link", name="2026下半年满意度调查").is_visible()
    await accessible(page)
    await keep(page, f"console-surveys-list-{screen}")

    await page.get_by_role("link", name="2026下半年满意度调查").click()
    await page.wait_for_url(re.compile(r"/console/campaigns/"))
    charts = page.locator(".chart svg")
    assert await charts.count() >= 8
    for i in range(await charts.count()):
        box = await charts.nth(i).bounding_box()
        assert box and box["width"] > 200 and box["height"] > 40, "every chart is drawn at a readable size"
    assert await page.locator('[data-figure="nps"]').inner_text() == "33"
    assert await phone_count(page) == 0
    await accessible(page)
    await keep(page, f"console-surveys-report-{screen}")

    await page.locator("tr[data-building] a", has_text="查看住户").last.click()  # 2号楼, by name after 1号楼
    await page.wait_for_url(re.compile(r"/households\?building="))
    await accessible(page)
    await keep(page, f"console-surveys-households-{screen}")
    await page.locator(f'tr[data-unit="{units[2]}"] a').click()
    await page.wait_for_url(re.compile(r"/answer$"))
    await keep(page, f"console-surveys-answer-{screen}")
    await accessible(page)

    # sent without a channel and with a question left: refused beside each, what was chosen kept
    await page.locator("#q-service").get_by_text("满意", exact=True).click()
    await submit(page, page.get_by_role("button", name="保存答卷"))
    assert "请选择答卷方式" in await page.locator("#e-channel").inner_text()
    assert await page.locator("#q-service input[value='4']").is_checked()
    await keep(page, f"console-surveys-answer-refused-{screen}")
    await page.locator("#q-channel").get_by_text("电话回访", exact=True).click()
    await page.locator("#q-cleaning").get_by_text("非常满意", exact=True).click()
    await page.locator("#q-repairs").get_by_text("否", exact=True).click()
    await page.locator("#q-recommend").get_by_text("9", exact=True).click()
    await submit(page, page.get_by_role("button", name="保存答卷"))
    assert "已保存" in await page.locator(".banner.ok").inner_text()
    assert await page.locator(f'tr[data-unit="{units[2]}"]').get_attribute("data-channel") == "phone"
    await accessible(page)
    await keep(page, f"console-surveys-entered-{screen}")

    await page.get_by_role("link", name="返回调查报告").click()
    await page.wait_for_url(re.compile(r"/console/campaigns/[^/]+$"))
    assert await phone_count(page) == 1
    assert await page.locator('[data-figure="responses"]').inner_text() == "4 / 6"

    await page.goto(page.url + "?lang=en")
    assert await page.get_by_role("heading", name="Scores by dimension").is_visible()
    await accessible(page)
    await keep(page, f"console-surveys-report-en-{screen}")
    await context.close()
