"""The survey page at a household's link, over real HTTP without a browser: the same address answers HTML or
JSON, the form posts without JavaScript, skip logic and errors are applied on the server, and every bad input is
a page with the right status and nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from core.clock import FixedClock
from tests.pages_world import HTML, csrf_of, csrf_of_cookie, seen_of, survey_link
from tests.world import build_org, login

NOW = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
async def site(api, db):
    org = await build_org(db, "pg")
    return org, await login(api, org, "admin")


async def stored(db, org):
    return await db.fetchval("SELECT count(*) FROM survey_responses WHERE org_id = $1", org.org_id)


ANSWER = {"a.service": "4", "a.cleaning": "5", "a.repairs": "no", "a.recommend": "9", "a.comment": "  很好  "}


async def test_a_browser_gets_the_page_and_an_api_client_json(api, site):
    org, admin = site
    link = await survey_link(api, org, admin, NOW)
    as_json = await api.get(link)
    assert as_json.headers["content-type"].startswith("application/json")
    assert "Accept" in as_json.headers["vary"].replace(" ", "").split(",")
    assert as_json.json()["household"] == "1号楼 101" and as_json.json()["time_zone"] == "Asia/Shanghai"
    page = await api.get(link, headers={**HTML, "Accept-Encoding": "gzip"})
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-encoding"] == "gzip" and "Accept-Language" in page.headers["vary"]
    assert (
        page.headers["referrer-policy"] == "no-referrer"
        and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    )
    text = page.text
    assert "2026下半年满意度调查" in text and "非常不满意" in text and "非常满意" in text
    assert "截止时间：2026年5月20日 10:00" in text  # 14 days on, in Asia/Shanghai
    assert "（当第 2 题低于 3 分时作答）" in text  # skip logic in words, for a browser without JavaScript
    english = await api.get(f"{link}?lang=en", headers=HTML)
    assert "H2 2026 satisfaction survey" in english.text and "Very dissatisfied" in english.text
    assert english.cookies.get("lang") == "en"
    by_header = await api.get(link, headers={**HTML, "Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert "Closes: 20 May 2026, 10:00" in by_header.text


async def test_a_form_without_javascript_answers_then_edits(api, site, db):
    org, admin = site
    link = await survey_link(api, org, admin, NOW)
    page = (await api.get(link, headers=HTML)).text
    # the stairwell answer hides "where is it dirty"; answering it anyway (no JavaScript hid it) drops it
    form = {**ANSWER, "a.dirty": "lift", "_csrf_token": csrf_of(page), "seen": seen_of(page)}
    sent = await api.post(f"{link}/answer", data=form, headers=HTML)
    assert sent.status_code == 303 and sent.headers["location"] == f"{link}?sent=1"
    answers = await db.fetchval("SELECT answers FROM survey_responses WHERE org_id = $1", org.org_id)
    assert answers == {"service": 4, "cleaning": 5, "repairs": "no", "recommend": 9, "comment": "很好"}
    thanks = (await api.get(f"{link}?sent=1", headers=HTML)).text
    assert "感谢您的参与" in thanks and "4 · 满意" in thanks and "修改回答" in thanks
    edit = (await api.get(f"{link}?edit=1", headers=HTML)).text
    assert 'value="4" checked' in edit and "保存修改" in edit
    changed = {**form, "a.cleaning": "2", "a.dirty": ["stairs", "bins"], "seen": seen_of(edit)}
    assert (await api.post(f"{link}/answer", data=changed, headers=HTML)).status_code == 303
    answers = await db.fetchval("SELECT answers FROM survey_responses WHERE org_id = $1", org.org_id)
    assert answers["cleaning"] == 2 and answers["dirty"] == ["stairs", "bins"]
    assert await stored(db, org) == 1


async def test_errors_are_shown_beside_each_question_and_keep_what_was_typed(api, site, db):
    org, admin = site
    link = await survey_link(api, org, admin, NOW)
    page = (await api.get(link, headers=HTML)).text
    form = {"a.service": "7", "a.cleaning": "1", "a.comment": "楼梯很脏", "_csrf_token": csrf_of(page), "seen": ""}
    refused = await api.post(f"{link}/answer", data=form, headers=HTML)
    assert refused.status_code == 422
    text = refused.text
    assert "请修改以下" in text and 'href="#q-service"' in text and "此题必答" in text
    assert 'id="e-dirty"' in text  # cleaning 1 shows "where is it dirty", which is required and unanswered
    assert "楼梯很脏</textarea>" in text and 'value="1" checked' in text
    assert await stored(db, org) == 0


async def test_a_replayed_form_a_missing_token_and_a_tampered_link_store_nothing(api, site, db):
    org, admin = site
    link = await survey_link(api, org, admin, NOW, allow_edit=True)
    page = (await api.get(link, headers=HTML)).text
    form = {**ANSWER, "_csrf_token": csrf_of(page), "seen": seen_of(page)}
    assert (await api.post(f"{link}/answer", data=form, headers=HTML)).status_code == 303
    replayed = await api.post(f"{link}/answer", data={**form, "a.service": "1"}, headers=HTML)
    assert replayed.status_code == 409 and "本页已过期" not in replayed.text and "此页面已过期" in replayed.text
    no_token = await api.post(f"{link}/answer", data={**ANSWER, "seen": ""}, headers=HTML)
    assert no_token.status_code == 403 and "页面已过期" in no_token.text
    forged = await api.post(f"{link}/answer", data={**form, "_csrf_token": "x" * 40}, headers=HTML)
    assert forged.status_code == 403
    tampered = await api.get(link[:-3] + "AAA", headers=HTML)
    assert tampered.status_code == 404 and "找不到这份问卷" in tampered.text
    fresh = seen_of((await api.get(f"{link}?edit=1", headers=HTML)).text)
    out_of_range = await api.post(f"{link}/answer", data={**form, "a.recommend": "11", "seen": fresh}, headers=HTML)
    assert out_of_range.status_code == 422
    answers = await db.fetchval("SELECT answers FROM survey_responses WHERE org_id = $1", org.org_id)
    assert answers["service"] == 4 and answers["recommend"] == 9
    assert await stored(db, org) == 1


async def test_each_state_says_what_it_is(api, site, clock):
    org, admin = site
    later = await survey_link(api, org, admin, NOW, opens=24, closes=48)
    assert "调查尚未开始，将于 2026年5月7日 10:00 开放" in (await api.get(later, headers=HTML)).text
    closed = await survey_link(api, org, admin, NOW, opens=-48, closes=-24)
    text = (await api.get(closed, headers=HTML)).text
    assert "本次调查已于 2026年5月5日 10:00 结束" in text and "<form" not in text
    late = await api.post(
        f"{closed}/answer", data={**ANSWER, "_csrf_token": csrf_of_cookie(api), "seen": ""}, headers=HTML
    )
    assert late.status_code == 409 and "本次调查已于" in late.text
    anonymous = await survey_link(api, org, admin, NOW, anonymous=True)
    page = (await api.get(anonymous, headers=HTML)).text
    assert "本次调查为匿名调查" in page and "本链接属于" not in page
    sent = await api.post(
        f"{anonymous}/answer", data={**ANSWER, "_csrf_token": csrf_of(page), "seen": ""}, headers=HTML
    )
    assert sent.status_code == 303
    after = (await api.get(anonymous, headers=HTML)).text
    assert "您已于 2026年5月6日 10:00 提交" in after and "本调查提交后不能修改" in after and "<form" not in after


async def test_an_api_client_still_gets_problem_json_on_the_link(api, site):
    org, admin = site
    link = await survey_link(api, org, admin, NOW)
    missing = await api.get(link[:-3] + "AAA")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    answered = await api.post(link, json={"answers": {"service": 4, "cleaning": 5, "repairs": "no", "recommend": 8}})
    assert answered.status_code == 201, answered.text


async def test_a_client_guessing_links_gets_a_page_asking_it_to_wait(api, site):
    for n in range(200):
        guessed = await api.get(f"/survey/not-a-real-token-{n:06d}", headers=HTML)
        if guessed.status_code != 404:
            break
    assert guessed.status_code == 429 and "操作太频繁" in guessed.text
    assert int(guessed.headers["retry-after"]) >= 1


async def test_an_address_no_page_answers_is_a_page_for_a_browser_and_json_for_a_client(api):
    missing = await api.get("/owner/no-such-page", headers=HTML)
    assert missing.status_code == 404 and "未找到该页面" in missing.text
    assert (await api.get("/owner/no-such-page")).headers["content-type"] == "application/problem+json"
    wrong_method = await api.get("/survey/whatever-token/answer", headers=HTML)
    assert wrong_method.status_code == 405 and "<html" in wrong_method.text


@pytest.fixture
def secure_settings(settings):
    return msgspec.structs.replace(settings, public_url="https://wy.example.com")


async def test_the_form_cookie_is_secure_when_owners_are_given_an_https_address(secure_settings, clock, db):
    from api.app import create_app
    from tests.conftest import serve

    org = await build_org(db, "sc")
    async with serve(create_app(secure_settings, clock=clock)) as client:
        link = await survey_link(client, org, await login(client, org, "admin"), NOW)
        page = await client.get(link, headers=HTML)
    cookie = next(v for k, v in page.headers.multi_items() if k == "set-cookie" and v.startswith("csrftoken="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
