"""Browser tests: Debian's Chromium (/usr/bin/chromium, installed by .ci/run when missing) driven by Playwright,
never a downloaded browser, against the real app served on a socket (the `api` fixture). Every page a test
visits is kept as a screenshot under tests/artifacts/browser/, and checked by axe-core."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Locator, Page, async_playwright

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "browser"
CHROMIUM = shutil.which("chromium")
# as the machine's own check starts it: no sandbox (root), no GPU, and nothing fetched from Google's hosts
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 740}
# the console's two screens: a desk's and a large phone's
DESK = {"width": 1280, "height": 800}
BIG_PHONE = {"width": 390, "height": 844}


def cjk_fontconfig(tmp_path: Path) -> Path:
    """A fontconfig file adding the CJK font the project ships (mplfonts' Noto Sans CJK SC) for the test's
    Chromium only: a machine here has no CJK font, an owner's phone always has one. Nothing is installed."""
    spec = importlib.util.find_spec("mplfonts")
    assert spec and spec.submodule_search_locations
    fonts = Path(spec.submodule_search_locations[0]) / "fonts"
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{fonts}</dir><cachedir>{tmp_path / 'fontcache'}</cachedir></fontconfig>"
    )
    return config


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=FLAGS,
            headless=True,
            env={"FONTCONFIG_FILE": str(cjk_fontconfig(tmp_path)), "HOME": str(tmp_path)},
        )
        yield launched
        await launched.close()


async def open_context(
    browser: Browser,
    api: httpx.AsyncClient,
    *,
    javascript: bool = True,
    locale: str = "zh-CN",
    viewport: dict[str, int] = PHONE,
) -> BrowserContext:
    """A phone (360×740 unless `viewport` says otherwise; DESK is a desk's screen) on the app under test."""
    phone = viewport["width"] < 600
    return await browser.new_context(
        base_url=str(api.base_url),
        viewport=viewport,  # type: ignore[arg-type]
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
        java_script_enabled=javascript,
        locale=locale,
    )


async def submit(page: Page, button: Locator) -> None:
    """Click a form's button and wait for the page it posts to (a click does not wait for the navigation)."""
    async with page.expect_navigation():
        await button.click()


async def keep(page: Page, name: str) -> Path:
    """A full-page screenshot kept as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    results = await Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, results.generate_report()
