"""An owner without the app, on a 360×740 phone in a real Chromium: signs in, finds the household's open survey,
reads the published results with their improvement actions, the meetings with their minutes and attachment,
and the inbox, in Chinese and then in English; signs out. Every page is kept as a screenshot and checked by
axe-core."""

from __future__ import annotations

import pytest

from core.clock import FixedClock
from tests.browser.conftest import accessible, keep, open_context, submit
from tests.integration.test_meetings import add_neighbour
from tests.integration.test_owner_pages_sections import NOW, action, closing_campaign, meeting_with_minutes, ok
from tests.integration.test_surveys import TEMPLATE
from tests.pages_world import survey_link
from tests.world import PASSWORD, build_org, login


@pytest.fixture
def clock():
    return FixedClock(NOW)


async def test_an_owner_signs_in_and_reads_results_and_minutes(api, db, clock, browser):
    org = await build_org(db, "ob")
    await add_neighbour(db, org)
    admin = await login(api, org, "admin")
    template = await ok(await api.post("/survey-templates", headers=admin, json=TEMPLATE), 201)
    autumn = await closing_campaign(
        api, admin, org.property_id, template["template_id"], "2026秋季满意度调查", "Autumn 2026 survey"
    )
    actions = {
        "dimension": "cleaning",
        "actions": [action("楼道每日清扫两次", "Sweep the stairwells twice a day", org.ids["staff"], 30)],
    }
    await ok(await api.post(f"/campaigns/{autumn['id']}/actions", headers=admin, json=actions), 201)
    await meeting_with_minutes(
        api, admin, org.property_id, 10, "秋季业主大会", "Autumn owners' meeting", "一、公示物业费收支。"
    )
    clock.advance(hours=3)  # the autumn survey has closed
    admin = await login(api, org, "admin")
    await ok(await api.post(f"/campaigns/{autumn['id']}/publish", headers=admin))
    await survey_link(api, org, admin, clock.now(), closes=24 * 10)  # the winter survey, open now

    context = await open_context(browser, api)
    page = await context.new_page()
    await page.goto("/owner/surveys")
    assert page.url.endswith("/owner/sign-in?next=/owner/surveys")
    await accessible(page)
    await keep(page, "owner-sign-in")
    await page.fill("#login", org.email("owner"))
    await page.fill("#password", "not the password")
    await submit(page, page.locator("#sign-in button"))
    assert "/owner/sign-in" in page.url
    await keep(page, "owner-sign-in-refused")
    await page.fill("#password", PASSWORD)
    await submit(page, page.locator("#sign-in button"))
    assert page.url.endswith("/owner/surveys")
    session = next(c for c in await context.cookies() if c["name"] == "fw_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax"

    text = await page.content()
    assert "2026秋季满意度调查" in text and "楼道每日清扫两次" in text and "进行中" in text
    await accessible(page)
    await keep(page, "owner-results")

    await page.goto("/owner")
    assert "2026下半年满意度调查" in await page.content()  # the open survey of the household, to answer
    await accessible(page)
    await keep(page, "owner-home")

    await page.goto("/owner/meetings")
    text = await page.content()
    assert "秋季业主大会" in text and "一、公示物业费收支。" in text and "会议纪要.pdf" in text
    await accessible(page)
    await keep(page, "owner-meetings")

    await page.goto("/owner/inbox")
    await accessible(page)
    await keep(page, "owner-inbox")

    await submit(page, page.get_by_role("link", name="English"))
    await page.goto("/owner/surveys")
    text = await page.content()
    assert "Autumn 2026 survey" in text and "Sweep the stairwells twice a day" in text
    await accessible(page)
    await keep(page, "owner-results-english")
    await page.goto("/owner/meetings")
    assert "Minutes in English." in await page.content()
    await keep(page, "owner-meetings-english")

    await page.goto("/owner/activate")
    await accessible(page)
    await keep(page, "owner-activate-english")
    await context.close()


async def sign_in(page, org) -> None:
    await page.goto("/owner/sign-in")
    await page.fill("#login", org.email("owner"))
    await page.fill("#password", PASSWORD)
    await submit(page, page.locator("#sign-in button"))
    assert page.url.endswith("/owner")


async def test_an_owner_files_a_repair_with_a_photo_and_follows_it(api, db, clock, browser, tmp_path):
    from PIL import Image

    org = await build_org(db, "tk")
    photo = tmp_path / "leak.jpg"
    Image.new("RGB", (1200, 900), (90, 120, 160)).save(photo, quality=85)
    context = await open_context(browser, api, javascript=False)  # a plain form post, no script at all
    page = await context.new_page()
    await sign_in(page, org)
    await submit(page, page.get_by_role("link", name="报事报修").first)
    await keep(page, "owner-tickets-empty")
    await submit(page, page.locator("a[href='/owner/tickets/new']"))
    await keep(page, "owner-ticket-form")
    await submit(page, page.locator("button[type=submit]").last)  # nothing written: the form says what is missing
    assert await page.locator(".err").count() >= 1
    await keep(page, "owner-ticket-form-error")
    await page.select_option("#f-category", index=1)
    await page.fill("#f-description", "卫生间天花板漏水，滴到洗手台。")
    await page.set_input_files("#f-photos", str(photo))
    await submit(page, page.locator("button[type=submit]").last)
    assert "/owner/tickets/" in page.url and "卫生间天花板漏水" in await page.content()
    await keep(page, "owner-ticket-filed")
    assert await db.fetchval("SELECT count(*) FROM tickets WHERE org_id = $1", org.org_id) == 1
    assert await db.fetchval("SELECT count(*) FROM photos WHERE org_id = $1", org.org_id) == 1
    await context.close()

    context = await open_context(browser, api)  # and the pages pass axe-core where scripts run
    page = await context.new_page()
    await sign_in(page, org)
    for path, name in (("/owner/tickets", "owner-tickets"), ("/owner/tickets/new", "owner-ticket-form-js")):
        await page.goto(path)
        await accessible(page)
        await keep(page, name)
    await page.goto("/owner/tickets")
    await submit(page, page.locator("a.ticket-link").first)
    await accessible(page)
    await keep(page, "owner-ticket")
    await context.close()
