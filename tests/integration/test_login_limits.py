"""No lock-out by strangers: guessing is limited by login and client address together, a login attacked from
many addresses is slowed (not locked), and the current password and survey links are limited per client.

The API believes X-Forwarded-For from 127.0.0.1 here (FIELDWORK_TRUSTED_PROXIES), so one test client speaks
from many addresses; the clock is fixed, and moved instead of waiting out a window.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import pytest

from core.clock import FixedClock
from core.ratelimit import Limits
from tests.world import PASSWORD, build_org, login

HOME = "198.51.100.7"  # the person's own network
STRANGER = "203.0.113.66"


@pytest.fixture
def settings(settings, request):
    """Two failures per login and address keep the tests short: 40 per address, 8 mean an attack, and a turn
    every 112 s while it lasts (Limits.derived). A test changes more with indirect parametrisation."""
    changes = {"trusted_proxies": "127.0.0.1", "login_attempts": 2, **getattr(request, "param", {})}
    return msgspec.structs.replace(settings, **changes)


@pytest.fixture
def clock():
    return FixedClock(datetime.now(UTC))


def limits_of(settings) -> Limits:
    return Limits.derived(
        attempts=settings.login_attempts, window=settings.login_window, known_for=settings.refresh_token_ttl
    )


async def sign_in(api: httpx.AsyncClient, login_name: str, password: str, address: str) -> httpx.Response:
    return await api.post(
        "/auth/login", json={"login": login_name, "password": password}, headers={"X-Forwarded-For": address}
    )


def assert_limited(response: httpx.Response, *, at_most: int) -> int:
    """A 429 problem with a Retry-After of 1..at_most seconds; returns it."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "rate_limited"
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= at_most, retry_after
    return retry_after


async def test_a_stranger_hammering_a_login_does_not_lock_its_person_out(api, db, settings, clock):
    org = await build_org(db, "lk")
    person, limits = org.email("staff"), limits_of(settings)
    for _ in range(limits.attempts):
        assert (await sign_in(api, person, "guess-guess", STRANGER)).status_code == 401
    for _ in range(3):  # hammering the closed door does not keep it closed longer
        assert_limited(await sign_in(api, person, "guess-again", STRANGER), at_most=limits.window)
    # even the right password, from the stranger's address
    assert_limited(await sign_in(api, person, PASSWORD, STRANGER), at_most=limits.window)
    # the person, from home (never signed in from there before), is not affected
    assert (await sign_in(api, person, PASSWORD, HOME)).status_code == 200
    clock.advance(seconds=limits.window)
    assert (await sign_in(api, person, "guess-guess", STRANGER)).status_code == 401  # a new window


async def test_a_login_attacked_from_many_addresses_is_slowed_not_locked(api, db, settings, clock):
    org = await build_org(db, "la")
    person, limits = org.email("staff"), limits_of(settings)
    assert (await sign_in(api, person, PASSWORD, HOME)).status_code == 200  # home is known to the login
    botnet = [f"192.0.2.{n}" for n in range(1, 100)]
    for address in botnet[: limits.attack]:  # one guess each: no address reaches its own limit
        assert (await sign_in(api, person, "guess-guess", address)).status_code == 401
    # under attack: unknown addresses share one turn per `slowdown` seconds
    assert (await sign_in(api, person, "guess-guess", botnet[limits.attack])).status_code == 401
    refused = [await sign_in(api, person, "guess-guess", a) for a in botnet[limits.attack + 1 : limits.attack + 6]]
    for response in refused:
        assert_limited(response, at_most=limits.slowdown)
    # the person from home gets in at once, again and again
    for _ in range(3):
        assert (await sign_in(api, person, PASSWORD, HOME)).status_code == 200
    # the person from a new address (a phone on another network) waits a turn, and then gets in
    elsewhere = "100.64.0.9"
    wait = assert_limited(await sign_in(api, person, PASSWORD, elsewhere), at_most=limits.slowdown)
    clock.advance(seconds=wait)
    assert (await sign_in(api, person, PASSWORD, elsewhere)).status_code == 200
    # other people are not slowed
    assert (await sign_in(api, org.email("supervisor"), PASSWORD, botnet[-1])).status_code == 200
    # the attack ends: a window later, unknown addresses try freely again
    clock.advance(seconds=limits.window)
    for address in botnet[-3:]:
        assert (await sign_in(api, person, "guess-guess", address)).status_code == 401


async def test_one_address_guessing_many_logins_is_stopped(api, db, settings):
    org = await build_org(db, "ls")
    limits = limits_of(settings)
    logins = [f"nobody{n}@{org.tag}.test" for n in range(limits.per_address)]
    statuses = [(await sign_in(api, name, "guess-guess", STRANGER)).status_code for name in logins]
    assert statuses == [401] * limits.per_address
    assert_limited(await sign_in(api, "one-more@ls.test", "guess-guess", STRANGER), at_most=limits.window)
    assert (await sign_in(api, org.email("staff"), PASSWORD, HOME)).status_code == 200


async def test_guesses_sent_at_once_from_many_addresses_cannot_pass_the_turn_together(api, db, settings):
    org = await build_org(db, "lc")
    person, limits = org.email("staff"), limits_of(settings)
    for n in range(limits.attack):
        assert (await sign_in(api, person, "guess-guess", f"192.0.2.{n + 1}")).status_code == 401
    racing = [sign_in(api, person, "guess-guess", f"198.18.0.{n}") for n in range(1, 11)]
    statuses = sorted(r.status_code for r in await asyncio.gather(*racing))
    assert statuses == [401] + [429] * 9, statuses


@pytest.mark.parametrize("settings", [{"trusted_proxies": ""}], indirect=True)
async def test_x_forwarded_for_is_not_believed_unless_the_proxy_is_trusted(api, db, settings):
    org = await build_org(db, "lx")
    person = org.email("staff")
    for n in range(settings.login_attempts):
        assert (await sign_in(api, person, "guess-guess", f"192.0.2.{n}")).status_code == 401
    # every "address" was 127.0.0.1, the peer: the pair's limit is reached
    assert_limited(await sign_in(api, person, PASSWORD, "192.0.2.200"), at_most=settings.login_window)


async def test_guessing_the_current_password_is_limited_per_client(api, db, settings, clock):
    org = await build_org(db, "lp")
    limits = limits_of(settings)

    async def change(current: str, address: str) -> httpx.Response:
        tokens = (await sign_in(api, org.email("staff"), PASSWORD, HOME)).json()  # a session held by a thief
        body: dict[str, Any] = {"current_password": current, "new_password": "a-new-long-password"}
        headers = {"Authorization": f"Bearer {tokens['access_token']}", "X-Forwarded-For": address}
        return await api.post("/auth/password", json=body, headers=headers)

    for _ in range(limits.attempts):
        assert (await change("guess-guess", STRANGER)).status_code == 422
    assert_limited(await change(PASSWORD, STRANGER), at_most=limits.window)
    assert await db.fetchval("SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL") == 0  # nothing changed
    assert (await change("guess-guess", HOME)).status_code == 422  # per client: home is still heard
    clock.advance(seconds=limits.window)
    assert (await change("guess-guess", STRANGER)).status_code == 422  # a new window
    assert (await change(PASSWORD, HOME)).status_code == 200


async def test_survey_links_are_limited_per_client(api, db, settings):
    from tests.integration.test_surveys import TEMPLATE, campaign, links

    org = await build_org(db, "lv")
    admin = await login(api, org, "admin")
    template = (await api.post("/survey-templates", headers=admin, json=TEMPLATE)).json()
    made = await campaign(api, org, admin, template["template_id"])
    token = (await links(api, admin, made["id"]))[0]["token"]
    limits = limits_of(settings)
    for n in range(limits.per_address):
        wrong = await api.get(f"/survey/not-a-real-token-{n:06d}", headers={"X-Forwarded-For": STRANGER})
        assert wrong.status_code == 404, wrong.text
    for method in ("GET", "POST"):
        body = {"answers": {}} if method == "POST" else None
        blocked = await api.request(method, f"/survey/{token}", json=body, headers={"X-Forwarded-For": STRANGER})
        assert_limited(blocked, at_most=limits.window)
    # the right link from a household's own address: many times, none of it counted
    for _ in range(limits.per_address + 1):
        assert (await api.get(f"/survey/{token}", headers={"X-Forwarded-For": HOME})).status_code == 200
