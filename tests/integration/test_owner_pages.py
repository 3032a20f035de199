"""The owners' own pages over real HTTP, as a phone's browser uses them without JavaScript: sign-in with the
owner account (a cookie, HttpOnly and SameSite=Lax), activation with the office's invitation code, sign-out that
ends the session, CSRF on every form, staff refused, and the home with the household's open survey."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from core.clock import FixedClock
from tests.integration.test_auth import invite, new_owner
from tests.pages_world import HTML, csrf_of, survey_link
from tests.world import PASSWORD, build_org, login

NOW = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def clock():
    return FixedClock(NOW)


async def sign_in(
    client: httpx.AsyncClient, login_name: str, password: str = PASSWORD, query: str = "", **more: str
) -> httpx.Response:
    """Open the sign-in page and send its form, as a browser does."""
    form = (await client.get(f"/owner/sign-in{query}", headers=HTML)).text
    data = {"login": login_name, "password": password, "_csrf_token": csrf_of(form), **more}
    return await client.post(f"/owner/sign-in{query}", data=data, headers=HTML)


def session_header(response: httpx.Response) -> str:
    return next(c for c in response.headers.get_list("set-cookie") if c.startswith("fw_session="))


async def test_an_owner_signs_in_with_a_cookie_and_signing_out_ends_the_session(api, db):
    org = await build_org(db, "os")
    stranger = await api.get("/owner", headers=HTML)
    assert stranger.status_code == 303 and stranger.headers["location"] == "/owner/sign-in?next=/owner"
    slash = await api.get("/owner/", headers=HTML)
    assert slash.status_code == 303 and slash.headers["location"].startswith("/owner/sign-in?next=/owner")
    as_api = await api.get("/owner")
    assert as_api.status_code == 401 and as_api.headers["content-type"] == "application/problem+json"
    deeper = await api.get("/owner/inbox", headers=HTML)
    assert deeper.status_code == 303 and deeper.headers["location"] == "/owner/sign-in?next=/owner/inbox"
    asked = (await api.get("/owner/sign-in?next=/owner/inbox", headers=HTML)).text
    assert 'name="next" value="/owner/inbox"' in asked and "业主登录" in asked

    wrong = await sign_in(api, org.email("owner"), "not-the-password", next="/owner/inbox")
    assert wrong.status_code == 401 and "手机号/邮箱或密码不正确" in wrong.text
    assert f'value="{org.email("owner")}"' in wrong.text and 'name="next" value="/owner/inbox"' in wrong.text
    assert "fw_session" not in api.cookies
    too_short = await sign_in(api, org.email("owner"), "short")
    assert too_short.status_code == 422 and "至少 8 位" in too_short.text

    signed = await sign_in(api, org.email("owner"), next="/owner/inbox")
    assert signed.status_code == 303 and signed.headers["location"] == "/owner/inbox"
    cookie = session_header(signed).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    home = await api.get("/owner", headers=HTML)
    assert home.status_code == 200 and "我的家" in home.text and f"Garden {org.tag}" in home.text
    assert await db.fetchval("SELECT count(*) FROM sessions WHERE user_id = $1", org.ids["owner"]) == 1

    no_token = await api.post("/owner/sign-out", headers=HTML)
    assert no_token.status_code == 403 and "页面已过期" in no_token.text
    assert (await api.get("/owner", headers=HTML)).status_code == 200, "a refused form ends nothing"

    held = api.cookies.get("fw_session")
    out = await api.post("/owner/sign-out", data={"_csrf_token": csrf_of(home.text)}, headers=HTML)
    assert out.status_code == 303 and out.headers["location"] == "/owner/sign-in?signed_out=1"
    assert "fw_session" not in api.cookies
    assert "您已退出登录" in (await api.get(out.headers["location"], headers=HTML)).text
    assert await db.fetchval("SELECT revoked_at FROM sessions WHERE user_id = $1", org.ids["owner"]) == NOW
    api.cookies.set("fw_session", held)
    replayed = await api.get("/owner/meetings", headers=HTML)
    assert replayed.status_code == 303 and replayed.headers["location"].startswith("/owner/sign-in")


async def test_next_goes_to_owner_pages_only(api, db):
    org = await build_org(db, "nx")
    elsewhere_all = (
        "https://evil.example/owner/",
        "//evil.example/owner",
        "/survey/x",
        "/owner-x",
        "/owner/\\\\evil.example",
        "/owner/中文",
        "/owner/sign-out",
        "/owner/inbox/x/read",
    )
    for elsewhere in elsewhere_all:
        api.cookies.clear()
        signed = await sign_in(api, org.email("owner"), next=elsewhere)
        assert signed.status_code == 303 and signed.headers["location"] == "/owner", elsewhere
    asked = (await api.get("/owner/sign-in?next=https://evil.example/", headers=HTML)).text
    assert 'name="next" value="/owner"' in asked


async def test_sign_in_and_activation_speak_chinese_then_english(api):
    for path, chinese, english in (
        ("/owner/sign-in", "业主登录", "Owner sign-in"),
        ("/owner/activate", "激活业主账户", "Activate your owner account"),
    ):
        assert chinese in (await api.get(path, headers=HTML)).text
        assert english in (await api.get(f"{path}?lang=en", headers=HTML)).text
        api.cookies.clear()


async def test_staff_are_refused_and_left_without_a_session(api, db):
    org = await build_org(db, "sf")
    for who in ("staff", "admin"):
        refused = await sign_in(api, org.email(who))
        assert refused.status_code == 403 and "此页面仅供业主使用" in refused.text
        assert "fw_session" not in api.cookies
        assert await db.fetchval("SELECT count(*) FROM sessions WHERE user_id = $1", org.ids[who]) == 0
    english = await sign_in(api, org.email("staff"), query="?lang=en")
    assert english.status_code == 403 and "These pages are for owners" in english.text
    # a staff member's API session does not open the owner pages either
    tokens = (await api.post("/auth/login", json={"login": org.email("staff"), "password": PASSWORD})).json()
    api.cookies.set("fw_session", tokens["refresh_token"])
    assert (await api.get("/owner/inbox", headers=HTML)).status_code == 403


async def test_an_owner_activates_with_the_office_s_code_and_is_signed_in(api, db):
    org = await build_org(db, "ac")
    admin = await login(api, org, "admin")
    owner = await new_owner(api, org, admin)  # no phone or e-mail recorded, linked to unit 102
    code = await invite(api, admin, owner)
    page = (await api.get("/owner/activate", headers=HTML)).text
    assert "激活业主账户" in page and "邀请码" in page
    token = csrf_of(page)
    form = {"code": code, "password": "owner-password", "password_again": "owner-password", "_csrf_token": token}

    wrong = await api.post("/owner/activate", data={**form, "code": "AAAAA-BBBBB"}, headers=HTML)
    assert wrong.status_code == 401 and "邀请码不正确" in wrong.text and 'value="AAAAA-BBBBB"' in wrong.text
    differ = await api.post("/owner/activate", data={**form, "password_again": "something-else"}, headers=HTML)
    assert differ.status_code == 422 and "两次输入的密码不一致" in differ.text
    bad_phone = await api.post("/owner/activate", data={**form, "phone": "12"}, headers=HTML)
    assert bad_phone.status_code == 422 and "手机号格式不正确" in bad_phone.text
    # the right code, refused after it was claimed: nothing of the try is kept, the code still works
    no_login = await api.post("/owner/activate", data=form, headers=HTML)
    assert no_login.status_code == 422 and "请填写手机号或邮箱" in no_login.text
    taken = await api.post("/owner/activate", data={**form, "email": org.email("staff")}, headers=HTML)
    assert taken.status_code == 409 and "已被使用" in taken.text
    assert "fw_session" not in api.cookies

    done = await api.post("/owner/activate", data={**form, "phone": "13700001111"}, headers=HTML)
    assert done.status_code == 303 and done.headers["location"] == "/owner"
    assert "httponly" in session_header(done).lower()
    home = await api.get("/owner", headers=HTML)
    assert home.status_code == 200 and "1号楼 102" in home.text
    api.cookies.clear()
    assert (await sign_in(api, "13700001111", "owner-password")).status_code == 303


async def test_the_home_lists_the_household_and_its_open_survey_with_a_working_link(api, db):
    org = await build_org(db, "hm")
    admin = await login(api, org, "admin")
    link = await survey_link(api, org, admin, NOW)
    assert (await sign_in(api, org.email("owner"))).status_code == 303
    home = await api.get("/owner", headers=HTML)
    assert home.status_code == 200
    text = home.text
    assert f"Garden {org.tag}" in text and "1号楼 101" in text and "待填写的调查" in text
    assert "2026下半年满意度调查" in text and f'href="{link}"' in text and "截止 2026年10月26日 10:00" in text
    assert "1号楼 102" not in text, "the neighbour's household is not this owner's"
    survey = await api.get(link, headers=HTML)
    assert survey.status_code == 200 and "本链接属于：1号楼 101" in survey.text
    english = await api.get("/owner?lang=en", headers=HTML)
    assert "My home" in english.text and "H2 2026 satisfaction survey" in english.text and "Answer" in english.text
    assert "Closes 26 Oct 2026, 10:00" in english.text
    assert "我的家" in (await api.get("/owner?lang=zh", headers=HTML)).text


async def test_sign_in_is_throttled_as_the_api_is(api, db, settings):
    org = await build_org(db, "th")
    token = csrf_of((await api.get("/owner/sign-in", headers=HTML)).text)
    form = {"login": org.email("owner"), "password": "not-the-password", "_csrf_token": token}
    for _ in range(settings.login_attempts):
        assert (await api.post("/owner/sign-in", data=form, headers=HTML)).status_code == 401
    blocked = await api.post("/owner/sign-in", data={**form, "password": PASSWORD}, headers=HTML)
    assert blocked.status_code == 429 and "操作太频繁" in blocked.text and "fw_session" not in api.cookies
