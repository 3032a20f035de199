"""The signed-in owner's sections over real HTTP, as a phone's browser sees them: the published survey results
and improvement actions, the meetings and their minutes (with an attachment to download), and the inbox. An
owner sees their own property's, never another's: exactly what sync sends their phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core.clock import FixedClock
from core.notifications.service import notify
from tests.integration.test_meetings import PDF, add_neighbour, local_evening, meeting_body, ok, upload
from tests.integration.test_owner_pages import sign_in
from tests.integration.test_surveys import TEMPLATE
from tests.integration.test_worker import run_job
from tests.pages_world import HTML, csrf_of
from tests.world import build_org, login

NOW = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
LOW_CLEANING = {"service": 5, "clean": 2, "recommend": 9, "repairs": "no"}


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
async def neighbour_browser(api):
    """A second browser, for the owner of a unit of the org's other property."""
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
        yield client


async def closing_campaign(api, admin, property_id, template_id, name_zh, name_en):
    """A campaign of the property, open on the test's clock and closing two hours later; its households answer
    through their links with a low cleaning score."""
    made = await ok(
        await api.post(
            f"/properties/{property_id}/campaigns",
            headers=admin,
            json={
                "template_id": template_id,
                "name_zh": name_zh,
                "name_en": name_en,
                "opens_at": (NOW - timedelta(hours=1)).isoformat(),
                "closes_at": (NOW + timedelta(hours=2)).isoformat(),
            },
        ),
        201,
    )
    for household in await ok(await api.get(f"/campaigns/{made['id']}/links", headers=admin)):
        await ok(await api.post(f"/survey/{household['token']}", json={"answers": LOW_CLEANING}), 201)
    return made


def action(title_zh, title_en, responsible_id, days):
    due = (NOW + timedelta(days=days)).isoformat()
    return {
        "kind": "action",
        "title_zh": title_zh,
        "title_en": title_en,
        "due_at": due,
        "responsible_id": responsible_id,
    }


async def test_results_show_the_published_scores_and_actions_of_the_owner_s_property_only(
    api, db, clock, neighbour_browser
):
    org = await build_org(db, "rs")
    await add_neighbour(db, org)
    admin = await login(api, org, "admin")
    template = await ok(await api.post("/survey-templates", headers=admin, json=TEMPLATE), 201)
    ours = await closing_campaign(
        api, admin, org.property_id, template["template_id"], "2026秋季满意度调查", "Autumn 2026 survey"
    )
    theirs = await closing_campaign(
        api, admin, org.other_property_id, template["template_id"], "塔楼满意度调查", "Tower survey"
    )
    staff = org.ids["staff"]
    body = {
        "dimension": "cleaning",
        "actions": [
            action("楼道每日清扫两次", "Sweep twice a day", staff, 30),
            action("更换垃圾桶", "New bins", staff, 20),
        ],
    }
    made = await ok(await api.post(f"/campaigns/{ours['id']}/actions", headers=admin, json=body), 201)

    assert (await sign_in(api, org.email("owner"))).status_code == 303
    before = await api.get("/owner/surveys", headers=HTML)
    assert before.status_code == 200 and "还没有公布的调查结果" in before.text

    clock.advance(hours=3)  # both campaigns have closed
    admin = await login(api, org, "admin")
    for campaign in (ours, theirs):
        await ok(await api.post(f"/campaigns/{campaign['id']}/publish", headers=admin))
    done = f"/survey-actions/{made[1]['id']}/done"
    await ok(await api.post(done, headers=await login(api, org, "staff"), json={}))

    page = await api.get("/owner/surveys", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert "2026秋季满意度调查" in text and f"Garden {org.tag}" in text and "公布于 2026年10月12日" in text
    assert "100%" in text and "2 / 2 户" in text  # both households answered
    assert "3.50" in text  # the overall household score: (5 + 2) / 2
    assert re.search(r"清洁.*待改进.*2\.00", text, re.S) and "5.00" in text
    assert "绿化" not in text, "a topic this survey did not ask about is left out"
    assert "楼道每日清扫两次" in text and "计划完成：2026年11月11日" in text and "进行中" in text
    assert "更换垃圾桶" in text and "已于 2026年10月12日 完成" in text and "已完成" in text
    assert "塔楼满意度调查" not in text, "another property's results are not this owner's"

    english = (await api.get("/owner/surveys?lang=en", headers=HTML)).text
    assert "Survey results" in english and "Autumn 2026 survey" in english and "Cleaning" in english
    assert "Sweep twice a day" in english and "Due: 11 Nov 2026" in english and "Improvement actions" in english

    assert (await sign_in(neighbour_browser, org.email("neighbour"))).status_code == 303
    theirs_page = (await neighbour_browser.get("/owner/surveys", headers=HTML)).text
    assert "塔楼满意度调查" in theirs_page and "2026秋季满意度调查" not in theirs_page
    assert "楼道每日清扫两次" not in theirs_page


async def notice(api, admin, meeting_id):
    await ok(await api.post(f"/meetings/{meeting_id}/notice", headers=admin))


async def meeting_with_minutes(api, admin, property_id, days, title_zh, title_en, minutes_zh):
    meeting = await ok(
        await api.post(
            f"/properties/{property_id}/meetings",
            headers=admin,
            json=meeting_body(local_evening(days), title_zh=title_zh, title_en=title_en),
        ),
        201,
    )
    await notice(api, admin, meeting["id"])
    minutes = {"minutes_zh": minutes_zh, "minutes_en": "Minutes in English."}
    await ok(await api.put(f"/meetings/{meeting['id']}/minutes", headers=admin, json=minutes))
    attached = await ok(await upload(api, admin, meeting["id"]), 201)
    await ok(await api.post(f"/meetings/{meeting['id']}/minutes/publish", headers=admin))
    return meeting, f"/owner/meetings/{meeting['id']}/attachments/{attached['id']}"


async def test_meetings_show_noticed_and_cancelled_ones_and_minutes_with_a_downloadable_file(
    api, db, clock, neighbour_browser
):
    org = await build_org(db, "mt")
    await add_neighbour(db, org)
    admin = await login(api, org, "admin")
    _, ours = await meeting_with_minutes(
        api, admin, org.property_id, 10, "秋季业主大会", "Autumn owners' meeting", "一、公示物业费收支。"
    )
    _, theirs = await meeting_with_minutes(
        api, admin, org.other_property_id, 10, "塔楼业主会", "Tower meeting", "塔楼纪要。"
    )
    path = f"/properties/{org.property_id}/meetings"
    agenda = [{"title_zh": "续聘物业", "title_en": "Renew the contract", "note": "请带身份证"}]
    coming = meeting_body(local_evening(100), title_zh="冬季业主会议", title_en="Winter meeting")
    coming = await ok(
        await api.post(path, headers=admin, json={**coming, "location": "会所二楼", "agenda": agenda}), 201
    )
    await notice(api, admin, coming["id"])
    called_off = meeting_body(local_evening(200), title_zh="春季业主会议", title_en="Spring meeting")
    called_off = await ok(await api.post(path, headers=admin, json=called_off), 201)
    await notice(api, admin, called_off["id"])
    cancel = {"reason": "会所维修"}
    await ok(await api.post(f"/meetings/{called_off['id']}/cancel", headers=admin, json=cancel))
    planned = meeting_body(local_evening(290), title_zh="夏季业主会议", title_en="Summer meeting")
    await ok(await api.post(path, headers=admin, json=planned), 201)  # not noticed: not the owners' yet

    stranger = await api.get(ours, headers=HTML)
    assert stranger.status_code == 303 and stranger.headers["location"] == f"/owner/sign-in?next={ours}"
    assert (await sign_in(api, org.email("owner"))).status_code == 303
    page = await api.get("/owner/meetings", headers=HTML)
    assert page.status_code == 200
    text = page.text
    upcoming, minutes = text.split("会议纪要</h2>")
    assert "冬季业主会议" in upcoming and "地点：会所二楼" in upcoming and "续聘物业" in upcoming
    assert "时间：2027年1月20日 19:00 – 21:00" in upcoming and "通知发布于 2026年10月12日" in upcoming
    assert "春季业主会议" in upcoming and "会议已取消" in upcoming and "原因：会所维修" in upcoming
    assert "夏季业主会议" not in text and "塔楼业主会" not in text
    assert "秋季业主大会" in minutes and "一、公示物业费收支。" in minutes and f'href="{ours}"' in minutes
    assert "会议纪要.pdf" in minutes and "塔楼纪要" not in text and theirs not in text

    download = await api.get(ours, headers=HTML)
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"].startswith("application/pdf")
    assert download.headers["content-disposition"].startswith("attachment;")
    refused = await api.get(theirs, headers=HTML)
    assert refused.status_code == 404 and "未找到" in refused.text
    assert (await api.get(ours.replace("/attachments/", "/attachments/x"), headers=HTML)).status_code == 404

    english = (await api.get("/owner/meetings?lang=en", headers=HTML)).text
    assert "Owner meetings" in english and "Winter meeting" in english and "This meeting is cancelled" in english
    assert "When: 20 Jan 2027, 19:00 – 21:00" in english and "Minutes in English." in english

    assert (await sign_in(neighbour_browser, org.email("neighbour"))).status_code == 303
    assert (await neighbour_browser.get(theirs, headers=HTML)).content == PDF
    assert (await neighbour_browser.get(ours, headers=HTML)).status_code == 404


async def test_the_inbox_pages_newest_first_and_marks_read(api, db, settings, clock):
    org = await build_org(db, "ib")
    for i in range(1, 24):
        await notify(
            db,
            org_id=org.org_id,
            dedupe_key=f"test:{i}",
            kind="survey_results",
            recipients=[org.ids["owner"]],
            title_zh=f"测试通知{i}号",
            title_en=f"Test notice no. {i}",
            body_zh="正文",
            body_en="Body",
            property_id=org.property_id,
            record_table="survey_campaigns" if i == 23 else None,
        )
    await notify(
        db,
        org_id=org.org_id,
        dedupe_key="test:staff",
        kind="survey_results",
        recipients=[org.ids["staff"]],
        title_zh="员工的通知",
        title_en="Staff's notice",
    )
    await run_job(settings, "deliver_notifications", clock)
    assert (await sign_in(api, org.email("owner"))).status_code == 303

    home = (await api.get("/owner", headers=HTML)).text
    assert "测试通知23号" in home and "测试通知21号" in home and "测试通知20号" not in home

    first = await api.get("/owner/inbox", headers=HTML)
    assert first.status_code == 200
    listed = re.findall(r"测试通知(\d+)号", first.text)
    assert listed == [str(i) for i in range(23, 3, -1)] and "员工的通知" not in first.text
    assert first.text.count("标为已读") == 20 and 'href="/owner/surveys"' in first.text
    older = re.search(r'href="(/owner/inbox\?cursor=[^"]+)"', first.text)
    assert older, "a link to the older messages"
    second = (await api.get(older.group(1).replace("&amp;", "&"), headers=HTML)).text
    assert re.findall(r"测试通知(\d+)号", second) == ["3", "2", "1"]
    assert "更早的消息" not in second

    item_id = re.search(r'action="/owner/inbox/([^/"]+)/read"', first.text).group(1)
    marked = await api.post(f"/owner/inbox/{item_id}/read", data={"_csrf_token": csrf_of(first.text)}, headers=HTML)
    assert marked.status_code == 303 and marked.headers["location"] == f"/owner/inbox#m-{item_id}"
    assert await db.fetchval("SELECT read_at FROM inbox WHERE id = $1", item_id) == NOW
    after = (await api.get("/owner/inbox", headers=HTML)).text
    assert after.count("标为已读") == 19 and f'action="/owner/inbox/{item_id}/read"' not in after

    staff_item = await db.fetchval("SELECT id FROM inbox WHERE user_id = $1", org.ids["staff"])
    theirs = await api.post(f"/owner/inbox/{staff_item}/read", data={"_csrf_token": csrf_of(after)}, headers=HTML)
    assert (
        theirs.status_code == 404 and await db.fetchval("SELECT read_at FROM inbox WHERE id = $1", staff_item) is None
    )
    garbled = await api.get("/owner/inbox?cursor=nonsense", headers=HTML)
    assert garbled.status_code == 400

    english = (await api.get("/owner/inbox?lang=en", headers=HTML)).text
    assert "My messages" in english and "Test notice no. 23" in english and "Mark read" in english
