"""A supervisor makes the property report in a real Chromium, at a desk (1280×800, JavaScript on: the progress
updates by itself) and on a large phone (390×844, JavaScript off: the Refresh link): signs in, opens Reports, asks
for last month's (the quarter's on the phone), sees it queued with its progress, the worker's job runs, the
download link appears and gives the PDF. Every page is kept as a screenshot and checked by axe-core; the PDF's
pages are kept as PNG too."""

from __future__ import annotations

import pytest

from core.clock import FixedClock
from tests.browser.conftest import ARTIFACTS, BIG_PHONE, DESK, accessible, keep, open_context, submit
from tests.report_world import REPORT_TIME, build_month, pdf_pages, run_queued_jobs
from tests.world import PASSWORD


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(REPORT_TIME)


async def sign_in(page, org, to: str) -> None:
    await page.goto(f"/console/sign-in?next={to}")
    await page.fill("#login", org.email("supervisor"))
    await page.fill("#password", PASSWORD)
    await submit(page, page.locator("#sign-in button"))
    assert page.url.endswith(to), page.url


async def keep_pdf_pages(content: bytes, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / f"{name}.pdf"
    pdf.write_bytes(content)
    assert len(pdf_pages(pdf, resolution=60)) == 6


@pytest.mark.parametrize(
    ("size", "viewport", "javascript", "period"),
    [("desk", DESK, True, "2025-06"), ("phone", BIG_PHONE, False, "2025-Q2")],
)
async def test_a_supervisor_makes_a_report_and_downloads_it(
    api, db, settings, clock, browser, size, viewport, javascript, period
):
    org, _ = await build_month(api, db, clock, f"cr{size[0]}")
    reports = f"/console/properties/{org.property_id}/reports"
    context = await open_context(browser, api, viewport=viewport, javascript=javascript)

    async def check(page) -> None:  # axe-core runs in the page: with JavaScript off it is run apart, below
        if javascript:
            await accessible(page)

    try:
        page = await context.new_page()
        await sign_in(page, org, reports)
        assert await page.locator("nav.tabs a[aria-current=page]").inner_text() == "月度/季度报告"
        row = page.locator(f"#r-{period}")
        assert await row.locator(".report-state").inner_text() == "未生成"
        await check(page)
        await keep(page, f"console-reports-list-{size}")

        await submit(page, row.get_by_role("button", name=f"生成报告 {period}"))
        assert page.url.endswith(f"{reports}#r-{period}")
        assert await row.locator(".report-state").inner_text() == "排队中"
        assert await row.locator("progress").get_attribute("max") == "19"
        assert await page.locator(".reports-waiting").is_visible()
        await check(page)
        await keep(page, f"console-reports-queued-{size}")

        assert await run_queued_jobs(settings, clock) == 1  # the worker makes it
        download = row.get_by_role("link", name=f"下载 PDF {period}")
        if javascript:
            await download.wait_for(timeout=15000)  # reports.js saw it done and loaded the page again
        else:
            await submit(page, page.locator(".reports-refresh"))
        assert await row.locator(".report-state").inner_text() == "已生成"
        assert await page.locator(".reports-waiting").count() == 0
        await check(page)
        await keep(page, f"console-reports-done-{size}")

        answer = await page.request.get(await download.get_attribute("href"))
        assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
        body = await answer.body()
        assert body.startswith(b"%PDF")
        api_pdf = await api.get(
            f"/properties/{org.property_id}/reports/{period}",
            headers={"Authorization": (await _bearer(api, org))},
        )
        assert api_pdf.content == body  # the same stored bytes
        await keep_pdf_pages(body, f"console-reports-pdf-{size}")
    finally:
        await context.close()
    if not javascript:  # the pages the phone saw without scripts pass axe-core where scripts run
        context = await open_context(browser, api, viewport=viewport)
        try:
            page = await context.new_page()
            await sign_in(page, org, reports)
            await accessible(page)
            await keep(page, f"console-reports-done-js-{size}")
        finally:
            await context.close()


async def _bearer(api, org) -> str:
    from tests.world import login

    return (await login(api, org, "supervisor"))["Authorization"]
