"""The console's door in a real Chromium, on a desk (1280×800) and a large phone (390×844): a staff account is
refused, a supervisor signs in and sees only their property, signs out, and the page they had open sends them
back to the sign-in. Every page is kept as a screenshot and checked by axe-core."""

from __future__ import annotations

import pytest

from tests.browser.conftest import BIG_PHONE, DESK, accessible, keep, open_context, submit
from tests.world import PASSWORD, build_org


@pytest.mark.parametrize(("screen", "size"), [("desk", DESK), ("phone", BIG_PHONE)])
async def test_a_supervisor_signs_in_to_the_console_and_out(api, db, browser, screen, size):
    org = await build_org(db, f"cb{screen[0]}")
    context = await open_context(browser, api, viewport=size)
    page = await context.new_page()
    await page.goto("/console")
    assert page.url.endswith("/console/sign-in?next=/console")
    await accessible(page)
    await keep(page, f"console-sign-in-{screen}")

    await page.fill("#login", org.email("staff"))
    await page.fill("#password", PASSWORD)
    await submit(page, page.locator("#sign-in button"))
    assert "仅供主管和管理员使用" in await page.content()
    assert not [c for c in await context.cookies() if c["name"] == "fw_session"]
    await keep(page, f"console-sign-in-refused-{screen}")

    await page.fill("#login", org.email("supervisor"))
    await page.fill("#password", PASSWORD)
    await submit(page, page.locator("#sign-in button"))
    assert page.url.endswith("/console")
    text = await page.content()
    assert f"Garden {org.tag}" in text and f"Tower {org.tag}" not in text
    await accessible(page)
    await keep(page, f"console-home-{screen}")

    await page.goto("/console?lang=en")
    assert "Property console" in await page.content()
    await keep(page, f"console-home-en-{screen}")

    await submit(page, page.get_by_role("button", name="Sign out"))
    assert page.url.endswith("/console/sign-in?signed_out=1")
    await page.goto("/console")
    assert "/console/sign-in" in page.url
    await context.close()
