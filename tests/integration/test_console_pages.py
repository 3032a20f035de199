"""The console's sign-in and frame over real HTTP, as a desk's browser uses them: supervisors and admins sign in
with their accounts (the cookie session), staff and owners are refused and get no session, the properties list
follows the API's scope, another property's pages are a 404 page, a forged form changes nothing, and signing out
ends the session."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.clock import FixedClock
from tests.console_world import console_sign_in, post_form, signed_in_console
from tests.integration.test_owner_pages import sign_in
from tests.pages_world import HTML
from tests.world import build_org

NOW = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return FixedClock(NOW)


async def test_a_supervisor_signs_in_sees_their_properties_and_signs_out(api, db):
    org = await build_org(db, "cs")
    stranger = await api.get("/console", headers=HTML)
    assert stranger.status_code == 303 and stranger.headers["location"] == "/console/sign-in?next=/console"
    deeper = await api.get("/console/photos/some-photo", headers=HTML)
    assert deeper.headers["location"] == "/console/sign-in?next=/console/photos/some-photo"
    assert (await api.get("/console")).status_code == 401  # an API client gets problem+json
    asked = f"/console/properties/{org.property_id}/kpis?from=2026-09-01&to=2026-09-30"
    with_query = await api.get(asked, headers=HTML)
    back = f"/console/properties/{org.property_id}/kpis%3Ffrom%3D2026-09-01%26to%3D2026-09-30"
    assert with_query.headers["location"] == f"/console/sign-in?next={back}"
    came_back = await console_sign_in(api, org.email("supervisor"), next=asked)
    assert came_back.status_code == 303 and came_back.headers["location"] == asked
    await post_form(api, "/console", "/console/sign-out")

    wrong = await console_sign_in(api, org.email("supervisor"), "not-the-password")
    assert wrong.status_code == 401 and "手机号/邮箱或密码不正确" in wrong.text and "fw_session" not in api.cookies

    signed = await console_sign_in(api, org.email("supervisor"), next="/console/nowhere/../../owner")
    assert signed.status_code == 303 and signed.headers["location"] == "/console"
    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith("fw_session=")).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    home = await api.get("/console", headers=HTML)
    assert home.status_code == 200 and f"Garden {org.tag}" in home.text and f"Tower {org.tag}" not in home.text
    assert "主管" in home.text and "no-store" in home.headers["cache-control"]

    # the same scope as the API: another property is not found, whether it exists or not
    for elsewhere in (org.other_property_id, "no-such-property"):
        other = await api.get(f"/console/properties/{elsewhere}/review", headers=HTML)
        assert other.status_code == 404 and "没有找到这个物业项目" in other.text

    # a forged form changes nothing: the session stays
    forged = await api.post("/console/sign-out", data={"_csrf_token": "forged"}, headers=HTML)
    assert forged.status_code == 403 and "页面已过期" in forged.text
    assert (await api.get("/console", headers=HTML)).status_code == 200

    out = await post_form(api, "/console", "/console/sign-out")
    assert out.status_code == 303 and out.headers["location"] == "/console/sign-in?signed_out=1"
    after = await api.get("/console", headers=HTML)
    assert after.status_code == 303 and after.headers["location"].startswith("/console/sign-in")


async def test_a_kept_cookie_is_refused_after_sign_out(api, db, settings):
    org = await build_org(db, "cx")
    await signed_in_console(api, org, "admin")
    kept = api.cookies.get("fw_session")
    home = await api.get("/console", headers=HTML)
    assert f"Garden {org.tag}" in home.text and f"Tower {org.tag}" in home.text and "管理员" in home.text
    await post_form(api, "/console", "/console/sign-out")
    api.cookies.set("fw_session", kept)
    replayed = await api.get("/console", headers=HTML)
    assert replayed.status_code == 303 and replayed.headers["location"].startswith("/console/sign-in")


@pytest.mark.parametrize("who", ["staff", "owner"])
async def test_staff_and_owners_are_refused_at_the_console(api, db, who):
    org = await build_org(db, f"cr{who[0]}")
    refused = await console_sign_in(api, org.email(who))
    assert refused.status_code == 403 and "仅供主管和管理员使用" in refused.text
    assert "fw_session" not in api.cookies
    # an owner signed in on the owner pages is refused at the console too (the same cookie)
    if who == "owner":
        await sign_in(api, org.email("owner"))
        assert "fw_session" in api.cookies
        page = await api.get("/console", headers=HTML)
        assert page.status_code == 403 and "仅供主管和管理员使用" in page.text
