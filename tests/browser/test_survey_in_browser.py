"""An owner answers the survey at their household's link in a real Chromium on a 360×740 phone: with JavaScript
off (plain form posts, skip logic and errors from the server) and on (skipped questions hide at once), edits
the answers, meets every state of a link, and switches to English. Each page is kept as a screenshot and checked
by axe-core."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.clock import FixedClock
from tests.browser.conftest import accessible, keep, open_context, submit
from tests.pages_world import survey_link
from tests.world import build_org, login

NOW = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
async def site(api, db):
    org = await build_org(db, "br")
    return org, await login(api, org, "admin")


async def stored(db, org):
    return await db.fetchval("SELECT answers FROM survey_responses WHERE org_id = $1", org.org_id)


def question(page, key):
    return page.locator(f"#q-{key}")


async def choose(page, key, label):
    await question(page, key).get_by_text(label, exact=True).click()


async def test_answering_with_javascript_off(api, site, db, browser):
    org, admin = site
    link = await survey_link(api, org, admin, NOW)
    context = await open_context(browser, api, javascript=False)
    page = await context.new_page()
    await page.goto(link)
    await keep(page, "survey-open-no-js")
    assert await question(page, "dirty").is_visible()  # without JavaScript every question shows, with its condition
    await choose(page, "service", "满意")
    await choose(page, "cleaning", "不满意")  # 2: "where is it not clean" becomes required
    await choose(page, "repairs", "否")
    await question(page, "recommend").get_by_text("8", exact=True).click()
    await submit(page, page.get_by_role("button", name="提交"))
    assert "请修改以下 1 处后再提交" in await page.content()
    assert await page.locator("#e-dirty").inner_text() == "此题必答"
    assert await page.locator("#q-service input[value='4']").is_checked()  # what was typed is kept
    await keep(page, "survey-field-error-no-js")
    await choose(page, "dirty", "楼梯")
    await choose(page, "dirty", "垃圾桶")
    await page.locator("textarea").fill("三楼楼梯灯坏了")
    await submit(page, page.get_by_role("button", name="提交"))
    assert "感谢您的参与" in await page.content()
    await keep(page, "survey-thanks-no-js")
    assert await stored(db, org) == {
        "service": 4,
        "cleaning": 2,
        "dirty": ["stairs", "bins"],
        "repairs": "no",
        "recommend": 8,
        "comment": "三楼楼梯灯坏了",
    }
    await context.close()


async def test_answering_and_editing_with_javascript_on(api, site, db, browser):
    org, admin = site
    link = await survey_link(api, org, admin, NOW)
    context = await open_context(browser, api)
    page = await context.new_page()
    await page.goto(link)
    assert not await question(page, "dirty").is_visible()  # skip logic at once: cleaning is not answered yet
    await accessible(page)
    await keep(page, "survey-open")
    await choose(page, "cleaning", "非常不满意")
    assert await question(page, "dirty").is_visible()
    await keep(page, "survey-skip-logic-shown")
    await choose(page, "dirty", "电梯")
    await choose(page, "cleaning", "满意")  # hides it again: its answer is not sent
    assert not await question(page, "dirty").is_visible()
    await submit(page, page.get_by_role("button", name="提交"))
    assert "此题必答" in await question(page, "service").inner_text()
    await accessible(page)
    await keep(page, "survey-field-error")
    await choose(page, "service", "非常满意")
    await choose(page, "repairs", "是")
    await question(page, "recommend").get_by_text("10", exact=True).click()
    await submit(page, page.get_by_role("button", name="提交"))
    assert "感谢您的参与" in await page.content()
    await accessible(page)
    await keep(page, "survey-thanks")
    assert (await stored(db, org))["cleaning"] == 4 and "dirty" not in await stored(db, org)
    await submit(page, page.get_by_role("link", name="修改回答"))
    await choose(page, "service", "一般")
    await submit(page, page.get_by_role("button", name="保存修改"))
    assert "3 · 一般" in await page.content()
    await keep(page, "survey-edited")
    assert (await stored(db, org))["service"] == 3
    await context.close()


async def test_each_state_of_a_link_and_english(api, site, browser):
    org, admin = site
    context = await open_context(browser, api)
    page = await context.new_page()
    states = {
        "scheduled": (await survey_link(api, org, admin, NOW, opens=24, closes=48), "调查尚未开始"),
        "closed": (await survey_link(api, org, admin, NOW, opens=-48, closes=-24), "本次调查已于"),
        "anonymous": (await survey_link(api, org, admin, NOW, anonymous=True), "本次调查为匿名调查"),
        "unknown": ("/survey/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "找不到这份问卷"),
    }
    for state, (link, words) in states.items():
        response = await page.goto(link)
        assert response is not None and response.status == (404 if state == "unknown" else 200)
        assert words in await page.content()
        await accessible(page)
        await keep(page, f"survey-{state}")
    await page.goto(states["anonymous"][0])
    await submit(page, page.get_by_role("link", name="English"))
    assert "This survey is anonymous" in await page.content()
    assert "Very dissatisfied" in await page.content()
    await accessible(page)
    await keep(page, "survey-english")
    await page.goto(states["closed"][0])  # the choice is remembered
    assert "This survey closed on" in await page.content()
    await context.close()


async def test_a_revoked_link_and_an_expired_form_say_what_to_do(api, site, db, browser):
    org, admin = site
    link = await survey_link(api, org, admin, NOW)
    campaign_id = (await api.get(link)).json()["campaign_id"]
    context = await open_context(browser, api)
    page = await context.new_page()
    await page.goto(link)
    await choose(page, "service", "满意")
    await context.clear_cookies()  # the form's CSRF cookie is gone (a phone that cleared its cookies)
    await submit(page, page.get_by_role("button", name="提交"))
    assert "页面已过期" in await page.content()
    await accessible(page)
    await keep(page, "survey-form-expired")
    assert await stored(db, org) is None
    revoked = await api.post(f"/campaigns/{campaign_id}/links/{org.unit_id}/revoke", headers=admin)
    assert revoked.status_code == 200, revoked.text
    response = await page.goto(link)
    assert response is not None and response.status == 404
    assert "此链接已作废" in await page.content()
    await accessible(page)
    await keep(page, "survey-revoked")
    await context.close()
