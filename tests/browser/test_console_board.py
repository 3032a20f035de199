"""A supervisor at the console in a real Chromium, on a desk's screen (in Chinese) and a large phone (in English):
signs in, sees the property's day on the board and the board refreshing itself, opens the late rounds, opens the
KPIs of a period (each headline equal to GET /properties/{id}/kpis for that period), sorts the staff table and
follows a figure to the orders behind it. Every page is kept as a screenshot and checked by axe-core."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from core.clock import FixedClock
from tests.browser.conftest import BIG_PHONE, DESK, accessible, keep, open_context, submit
from tests.integration.test_console_board import arrange_today
from tests.integration.test_kpis import NOW, PERIOD
from tests.world import PASSWORD, build_org, login


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)  # 12:00 in Shanghai, 15 June 2025


def written(value: float | None, unit: str, lang: str) -> str:
    """A figure as the page writes it (api/pages/console_kpis.py `shown`)."""
    if value is None:
        return "—"
    if unit == "%":
        return f"{value * 100:.1f}%"
    return f"{value:.1f} {'小时' if lang == 'zh' else 'h'}"


@pytest.mark.parametrize(
    ("size", "viewport", "locale"), [("desk", DESK, "zh-CN"), ("phone", BIG_PHONE, "en-GB")], ids=["desk", "phone"]
)
async def test_a_supervisor_reads_the_board_and_the_kpis(api, db, browser, size, viewport, locale):
    org = await build_org(db, f"cb{size[0]}")
    await arrange_today(db, org)
    lang = "zh" if locale.startswith("zh") else "en"
    home = f"/console/properties/{org.property_id}"
    context = await open_context(browser, api, viewport=viewport, locale=locale)
    page = await context.new_page()

    await page.goto(f"{home}?refresh=1")
    assert "/console/sign-in?next=" in page.url
    await page.fill("#login", org.email("supervisor"))
    await page.fill("#password", PASSWORD)
    await submit(page, page.locator("#sign-in button"))
    assert page.url.endswith(f"{home}?refresh=1")  # back to the page asked for, its query kept

    await page.goto("/console")  # the properties list, with each one's orders at a glance
    assert await page.locator('[data-summary="overdue"]').count() == 1
    await accessible(page)
    await keep(page, f"console-board-properties-{size}")

    await page.goto(f"{home}?refresh=1")  # a short refresh under test
    figure = page.locator('[data-figure="rounds.in_progress"]')
    assert await figure.inner_text() == "1" and await page.locator('[data-figure="rounds.late"]').inner_text() == "2"
    assert await page.locator('[data-figure="orders.overdue"]').inner_text() == "3"
    assert await page.locator("#orders-by-deadline tbody tr").count() == 5
    await accessible(page)
    await keep(page, f"console-board-today-{size}")

    # the board reads its figures again without a reload: a round starts meanwhile
    await db.execute("UPDATE rounds SET status = 'in_progress' WHERE org_id = $1 AND id = 'b1'", org.org_id)
    await expect(figure).to_have_text("2", timeout=10_000)  # board.js fetched the figures again
    assert await page.locator("#board").get_attribute("data-refreshed")
    assert await page.locator('[data-figure="rounds.planned"]').inner_text() == "0"

    # a figure opens the rounds behind it
    await submit(page, page.locator("#rounds-late"))
    assert "/rounds?status=late" in page.url
    assert await page.locator("#rounds tbody tr").count() == 2
    await accessible(page)
    await keep(page, f"console-board-rounds-{size}")

    # the KPIs of a period, chosen in the form
    await page.goto(f"{home}/kpis")
    await page.fill('input[name="from"]', PERIOD["from"])
    await page.fill('input[name="to"]', PERIOD["to"])
    await submit(page, page.locator("form.period button"))
    assert "from=2025-06-01" in page.url and "to=2025-06-10" in page.url
    bearer = await login(api, org, "supervisor")
    told = (await api.get(f"/properties/{org.property_id}/kpis", params=PERIOD, headers=bearer)).json()
    headlines = {
        "rounds.completion_rate": "%",
        "visits.on_time_rate": "%",
        "items.pass_rate": "%",
        "rectification.on_time_rate": "%",
        "rectification.reopen_rate": "%",
        "reviews.mean_review_hours": "h",
        "evidence.flag_rate": "%",
    }
    for where, unit in headlines.items():
        family, name = where.split(".")
        shown = await page.locator(f'.figure [data-kpi="{where}"]').inner_text()
        assert shown == written(told["totals"][family][name], unit, lang), where
    assert await page.locator("figure.chart svg").count() == 7
    await accessible(page)
    await keep(page, f"console-kpis-period-{size}")

    # the staff table sorts on the server, by a header's link
    completion = page.locator("#staff thead a", has_text="完成率" if lang == "zh" else "Completion")
    await submit(page, completion)
    assert "sort=completion" in page.url and "dir=desc" in page.url
    rows = await page.locator("#staff tbody tr").evaluate_all("rows => rows.map(r => r.dataset.user)")
    assert rows == [org.ids["staff"], org.ids["supervisor"]]  # 50% before 0%
    await submit(page, page.locator("#staff thead th[aria-sort] a"))
    rows = await page.locator("#staff tbody tr").evaluate_all("rows => rows.map(r => r.dataset.user)")
    assert "dir=asc" in page.url and rows == [org.ids["supervisor"], org.ids["staff"]]
    await keep(page, f"console-kpis-sorted-{size}")

    # a figure opens the orders behind it
    await submit(page, page.locator("#kpi-orders_on_time a.behind"))
    assert "/kpis/orders?figure=due_not_handed_in" in page.url
    orders = await page.locator("#orders tbody tr").evaluate_all("rows => rows.map(r => r.dataset.order)")
    assert orders == ["o7", "o3"]
    await accessible(page)
    await keep(page, f"console-kpis-orders-{size}")
    await context.close()
