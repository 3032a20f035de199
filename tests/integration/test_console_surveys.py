"""The console's survey campaigns over real HTTP, as a desk's browser uses them: a property's campaigns, a
campaign's report whose every figure is the API's report (read back from the page), the change since the previous
campaign, a household's answers taken by telephone entered through the page (stored with its channel and who
entered it, counted by channel in the page, the API's report and export), the rules around a household that
answered already, publishing, improvement actions, slips by cookie, another property's campaign, a forged form."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core.clock import FixedClock
from tests.console_world import post_form, signed_in_console
from tests.pages_world import HTML, QUESTIONS, csrf_of, seen_of
from tests.world import Org, add_households, build_org, login

NOW = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)
SPRING = ("2026上半年满意度调查", "H1 2026 satisfaction survey")
AUTUMN = ("2026下半年满意度调查", "H2 2026 satisfaction survey")


@pytest.fixture
def clock():
    return FixedClock(NOW)


async def ok(response: httpx.Response, status: int = 200):
    assert response.status_code == status, response.text
    return response.json()


async def new_campaign(
    api, org: Org, admin, template_id: str, names: tuple[str, str], now: datetime, *, hours: float, **more
):
    """A campaign of the property (or `property_id`'s), opened an hour before `now`, closing `hours` after it."""
    property_id = more.pop("property_id", org.property_id)
    body = {
        "template_id": template_id,
        "name_zh": names[0],
        "name_en": names[1],
        "opens_at": (now - timedelta(hours=1)).isoformat(),
        "closes_at": (now + timedelta(hours=hours)).isoformat(),
        **more,
    }
    return await ok(await api.post(f"/properties/{property_id}/campaigns", headers=admin, json=body), 201)


async def answer_by_link(api, admin, campaign_id: str, answers_of: dict[str, dict[str, object]]) -> None:
    for link in await ok(await api.get(f"/campaigns/{campaign_id}/links", headers=admin)):
        if link["unit_id"] in answers_of:
            await ok(await api.post(f"/survey/{link['token']}", json={"answers": answers_of[link["unit_id"]]}), 201)


async def two_campaigns(api, db, clock, tag: str):
    """An org whose property had a spring campaign (closed) and has an autumn one open now; households answered
    both through their links. Returns (org, admin headers, autumn campaign, the units of 2号楼)."""
    org = await build_org(db, tag)
    units = await add_households(db, org, 4)
    admin = await login(api, org, "admin")
    template = await ok(
        await api.post(
            "/survey-templates",
            headers=admin,
            json={"name_zh": "满意度调查", "name_en": "Satisfaction", "questions": QUESTIONS},
        ),
        201,
    )
    spring = await new_campaign(api, org, admin, template["template_id"], SPRING, clock.now(), hours=2)
    await answer_by_link(
        api,
        admin,
        spring["id"],
        {
            org.unit_id: {"service": 2, "cleaning": 4, "repairs": "no", "recommend": 5},
            units[0]: {"service": 3, "cleaning": 4, "repairs": "yes", "recommend": 7},
        },
    )
    clock.advance(hours=24 * 30)
    admin = await login(api, org, "admin")
    autumn = await new_campaign(
        api, org, admin, template["template_id"], AUTUMN, clock.now(), hours=24 * 14, flag_below=4.5
    )
    await answer_by_link(
        api,
        admin,
        autumn["id"],
        {
            org.unit_id: {"service": 5, "cleaning": 2, "dirty": ["stairs"], "repairs": "no", "recommend": 10},
            units[0]: {"service": 4, "cleaning": 5, "repairs": "yes", "recommend": 9, "comment": "很好"},
            units[1]: {"service": 4, "cleaning": 3, "repairs": "no", "recommend": 6},
        },
    )
    return org, admin, autumn, units


def figures_of(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="(\w+)">([^<]*)<', page))


def dimension_rows(page: str) -> dict[str, dict[str, str]]:
    rows = {}
    for key, body in re.findall(r'<tr data-dimension="(\w+)"[^>]*>(.*?)</tr>', page, re.S):
        rows[key] = dict(re.findall(r"<td class=\"num\" data-(\w+)>([^<]*)<", body))
    return rows


def channels_of(page: str) -> dict[str, int]:
    return {c: int(n) for c, n in re.findall(r'data-channel="(\w+)">(\d+)<', page)}


def score(x):
    return "–" if x is None else f"{x:.2f}"


def percent(x):
    return "–" if x is None else f"{x * 100:.1f}%"


def change(x):
    return "" if x is None else f"{x:+.2f}"


async def test_the_list_and_the_report_show_the_apis_figures_and_the_change_since_last_time(api, db, clock):
    org, _, autumn, _ = await two_campaigns(api, db, clock, "csa")
    await signed_in_console(api, org, "supervisor")

    listed = await api.get(f"/console/properties/{org.property_id}/surveys", headers=HTML)
    assert listed.status_code == 200
    text = listed.text
    assert text.index(AUTUMN[0]) < text.index(SPRING[0]), "newest first"
    assert f'href="/console/campaigns/{autumn["id"]}"' in text and "进行中" in text and "已结束" in text
    assert "3 / 6" in text and "50.0%" in text  # autumn: 3 of 6 households (1号楼 101, 102 and four in 2号楼)
    assert "2026年11月11日 09:00" in text  # autumn opened an hour before the clock, in Shanghai

    page = await api.get(f"/console/campaigns/{autumn['id']}", headers=HTML)
    assert page.status_code == 200
    report = await ok(await api.get(f"/campaigns/{autumn['id']}/report", headers=await login(api, org, "supervisor")))
    shown = figures_of(page.text)
    assert shown == {
        "responses": f"{report['responses']} / {report['invited']}",
        "response_rate": percent(report["response_rate"]),
        "overall_household_score": score(report["overall_household_score"]),
        "overall_satisfaction_rate": percent(report["overall_satisfaction_rate"]),
        "nps": str(report["nps"]),
        "overall_answer_weighted_score": score(report["overall_answer_weighted_score"]),
    }
    assert shown["responses"] == "3 / 6" and shown["nps"] == "33"  # 2 promoters, 1 detractor of 3
    rows = dimension_rows(page.text)
    for d in report["dimensions"]:
        assert rows[d["key"]] == {
            "score": score(d["household_score"]),
            "change": change(d["household_score_change"]),
            "satisfaction": percent(d["satisfaction_rate"]),
            "households": str(d["households"]),
        }
    # the change since the spring campaign: service 2.50 then, 4.33 now; cleaning 4.00 then, 3.33 now
    assert rows["service"]["score"] == "4.33" and rows["service"]["change"] == "+1.83"
    assert rows["cleaning"]["score"] == "3.33" and rows["cleaning"]["change"] == "-0.67"
    assert 'class="flagged"' in page.text  # cleaning is under the campaign's 4.5
    assert channels_of(page.text) == report["channels"] == {"link": 3, "app": 0, "phone": 0, "visit": 0}
    assert page.text.count("<svg") >= 8  # dimensions, NPS, channels, buildings, five questions' answers
    assert "净推荐值" in page.text and "2号楼" in page.text and "楼道清洁" in page.text

    english = await api.get(f"/console/campaigns/{autumn['id']}?lang=en", headers=HTML)
    assert "Household score by dimension" in english.text and "Responses by channel" in english.text


async def test_a_phone_answer_entered_at_the_console_is_the_households_with_its_channel(api, db, clock):
    org, _, autumn, units = await two_campaigns(api, db, clock, "csp")
    await signed_in_console(api, org, "supervisor")
    cid = autumn["id"]
    building = await db.fetchval("SELECT building_id FROM units WHERE org_id = $1 AND id = $2", org.org_id, units[2])
    households = await api.get(f"/console/campaigns/{cid}/households?building={building}", headers=HTML)
    assert households.status_code == 200 and "未作答" in households.text and "链接（业主自填）" in households.text
    form_url = f"/console/campaigns/{cid}/households/{units[2]}/answer"
    assert f'href="{form_url}"' in households.text

    shown = await api.get(form_url, headers=HTML)
    assert shown.status_code == 200 and "电话回访" in shown.text and "楼道清洁" in shown.text
    token, seen = csrf_of(shown.text), seen_of(shown.text)
    stored = "SELECT channel, entered_by, answers FROM survey_responses WHERE org_id = $1 AND unit_id = $2"
    # (units[2] answered neither campaign by link)

    # wrong answers and no channel: 422, every problem said, what was typed kept, nothing stored
    wrong = {"_csrf_token": token, "seen": seen, "a.service": "7", "a.cleaning": "1", "a.comment": "电话里说楼道很脏"}
    refused = await api.post(form_url, data=wrong, headers=HTML)
    assert refused.status_code == 422
    assert "请选择答卷方式" in refused.text and "此题必答" in refused.text and 'id="e-service"' in refused.text
    assert "电话里说楼道很脏</textarea>" in refused.text and 'value="1" checked' in refused.text
    assert await db.fetchrow(stored, org.org_id, units[2]) is None

    sent = {
        "_csrf_token": token,
        "seen": seen,
        "channel": "phone",
        "a.service": "3",
        "a.cleaning": "4",
        "a.dirty": "lift",  # hidden by cleaning 4: dropped, not refused
        "a.repairs": "yes",
        "a.recommend": "8",
    }
    taken = await api.post(form_url, data=sent, headers=HTML)
    assert taken.status_code == 303 and taken.headers["location"].endswith(f"&entered={units[2]}")
    row = await db.fetchrow(stored, org.org_id, units[2])
    assert row["channel"] == "phone" and row["entered_by"] == org.ids["supervisor"]
    assert row["answers"] == {"service": 3, "cleaning": 4, "repairs": "yes", "recommend": 8}
    audit = await db.fetchrow(
        "SELECT actor_id, after FROM audit_log WHERE org_id = $1 AND action = 'survey_response.enter'", org.org_id
    )
    assert audit["actor_id"] == org.ids["supervisor"] and audit["after"]["channel"] == "phone"
    after = (await api.get(taken.headers["location"], headers=HTML)).text
    assert "已保存" in after and "电话回访" in after and "录入人：Supervisor" in after

    # the same form again: the household's answers changed since it was drawn
    replayed = await api.post(form_url, data={**sent, "a.service": "1"}, headers=HTML)
    assert replayed.status_code == 409 and "本页已过期" in replayed.text
    assert (await db.fetchrow(stored, org.org_id, units[2]))["answers"]["service"] == 3

    # counted by channel in the page, the API's report and its export
    supervisor = await login(api, org, "supervisor")
    report = await ok(await api.get(f"/campaigns/{cid}/report", headers=supervisor))
    assert report["channels"] == {"link": 3, "app": 0, "phone": 1, "visit": 0} and report["responses"] == 4
    assert channels_of((await api.get(f"/console/campaigns/{cid}", headers=HTML)).text) == report["channels"]
    exported = await api.get(f"/console/campaigns/{cid}/export?format=csv", headers=HTML)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert sorted(r[4] for r in rows[1:]) == ["link", "link", "link", "phone"]
    api_export = await api.get(f"/campaigns/{cid}/export", params={"format": "csv"}, headers=supervisor)
    assert api_export.content == exported.content

    # staff-entered answers are corrected only with "replace"; then the channel is the new one
    again = await api.get(form_url, headers=HTML)
    assert "替换此前录入的答卷" in again.text and 'value="3" checked' in again.text
    fix = {**sent, "_csrf_token": csrf_of(again.text), "seen": seen_of(again.text), "channel": "visit"}
    unsaid = await api.post(form_url, data=fix, headers=HTML)
    assert unsaid.status_code == 409 and "请选择“替换”" in unsaid.text
    replaced = await api.post(form_url, data={**fix, "replace": "1", "a.service": "2"}, headers=HTML)
    assert replaced.status_code == 303
    row = await db.fetchrow(stored, org.org_id, units[2])
    assert row["channel"] == "visit" and row["answers"]["service"] == 2


async def test_a_households_own_answers_are_never_overwritten_by_staff(api, db, clock):
    org, admin, autumn, units = await two_campaigns(api, db, clock, "cso")
    await signed_in_console(api, org, "supervisor")
    form_url = f"/console/campaigns/{autumn['id']}/households/{units[0]}/answer"  # answered through its link
    shown = await api.get(form_url, headers=HTML)
    assert shown.status_code == 200 and "工作人员不能覆盖业主本人的答卷" in shown.text and "<fieldset" not in shown.text
    form = {"_csrf_token": csrf_of(shown.text), "seen": "", "channel": "phone", "replace": "1"}
    refused = await api.post(form_url, data={**form, "a.service": "1", "a.cleaning": "1"}, headers=HTML)
    assert refused.status_code == 409 and "不能覆盖" in refused.text
    supervisor = await login(api, org, "supervisor")
    by_api = await api.post(
        f"/campaigns/{autumn['id']}/households/{units[0]}/responses",
        headers=supervisor,
        json={"channel": "phone", "answers": {"service": 1, "cleaning": 1, "repairs": "no"}, "replace": True},
    )
    assert by_api.status_code == 409 and by_api.json()["code"] == "answered_by_household"
    answers = await db.fetchval(
        "SELECT answers FROM survey_responses WHERE org_id = $1 AND campaign_id = $2 AND unit_id = $3",
        org.org_id,
        autumn["id"],
        units[0],
    )
    assert answers["service"] == 4

    # the API route: a supervisor of the property enters a household's answers; staff may not
    entered = await api.post(
        f"/campaigns/{autumn['id']}/households/{units[3]}/responses",
        headers=supervisor,
        json={
            "channel": "visit",
            "answers": {"service": 5, "cleaning": 5, "repairs": "no", "recommend": 9},
            "seen": None,
        },
    )
    assert entered.status_code == 201, entered.text
    staff = await login(api, org, "staff")
    assert (
        await api.post(
            f"/campaigns/{autumn['id']}/households/{org.other_unit_id}/responses",
            headers=staff,
            json={"channel": "phone", "answers": {"service": 5, "cleaning": 5, "repairs": "no"}},
        )
    ).status_code == 403

    # an anonymous campaign takes no answers entered by staff
    template_id = await db.fetchval("SELECT id FROM survey_templates WHERE org_id = $1", org.org_id)
    admin = await login(api, org, "admin")
    hidden = await new_campaign(
        api, org, admin, template_id, ("匿名调查", "Anonymous"), clock.now(), hours=5, anonymous=True
    )
    refused = await api.post(
        f"/campaigns/{hidden['id']}/households/{units[3]}/responses",
        headers=supervisor,
        json={"channel": "phone", "answers": {"service": 5, "cleaning": 5, "repairs": "no"}},
    )
    assert refused.status_code == 409 and refused.json()["code"] == "survey_anonymous"
    page = await api.get(f"/console/campaigns/{hidden['id']}/households/{units[3]}/answer", headers=HTML)
    assert page.status_code == 200 and "本次调查为匿名调查" in page.text and "<fieldset" not in page.text
    # whether a household answered an anonymous survey shows, never when nor how
    await answer_by_link(
        api, admin, hidden["id"], {units[0]: {"service": 1, "cleaning": 4, "repairs": "no", "recommend": 0}}
    )
    building = await db.fetchval("SELECT building_id FROM units WHERE org_id = $1 AND id = $2", org.org_id, units[0])
    listed = (await api.get(f"/console/campaigns/{hidden['id']}/households?building={building}", headers=HTML)).text
    row = re.search(rf'<tr data-unit="{units[0]}".*?</tr>', listed, re.S).group(0)
    assert "已作答" in row and "年" not in row and "链接" not in row and 'data-channel=""' in row
    assert "/answer" not in listed  # no household's answers to enter in an anonymous survey


async def test_actions_publish_slips_scope_and_forged_forms(api, db, clock):
    org, admin, autumn, _ = await two_campaigns(api, db, clock, "csx")
    cid = autumn["id"]
    page = f"/console/campaigns/{cid}"

    # a supervisor: no publishing, no slips (admins'), and the domain refuses them with a 403 page
    await signed_in_console(api, org, "supervisor")
    shown = (await api.get(page, headers=HTML)).text
    assert f"/console/campaigns/{cid}/publish" not in shown and "/slips" not in shown and "导出 Excel" in shown
    forbidden = await post_form(api, page, f"{page}/publish")
    assert forbidden.status_code == 403 and "text/html" in forbidden.headers["content-type"]
    assert (await api.get(f"{page}/slips", headers=HTML)).status_code == 403

    # another property's campaign is a 404 page, as is its surveys list
    template_id = await db.fetchval("SELECT id FROM survey_templates WHERE org_id = $1", org.org_id)
    other = await new_campaign(
        api, org, admin, template_id, SPRING, clock.now(), hours=5, property_id=org.other_property_id
    )
    assert (await api.get(f"/console/campaigns/{other['id']}", headers=HTML)).status_code == 404
    assert (await api.get(f"/console/properties/{org.other_property_id}/surveys", headers=HTML)).status_code == 404
    assert (
        await api.get(f"/console/campaigns/{other['id']}/households/{org.unit_id}/answer", headers=HTML)
    ).status_code == 404

    # an admin adds an action for the flagged dimension, marks it done, prints slips and publishes once closed
    api.cookies.clear()
    await signed_in_console(api, org, "admin")
    shown = (await api.get(page, headers=HTML)).text
    assert "添加改进措施" in shown and f"{page}/publish" not in shown  # open: not yet
    due = (clock.now() + timedelta(days=20)).astimezone().strftime("%Y-%m-%dT%H:%M")
    form = {
        "id": re.search(r'name="id" value="([^"]+)"', shown).group(1),
        "dimension": "cleaning",
        "kind": "action",
        "title_zh": "楼道每日清扫两次",
        "title_en": "Sweep the stairwells twice a day",
        "responsible_id": org.ids["staff"],
        "due_at": due,
    }
    added = await post_form(api, page, f"{page}/actions", **form)
    assert added.status_code == 303, added.text
    listed = await ok(await api.get(f"/campaigns/{cid}/actions", headers=admin))
    assert [a["title_zh"] for a in listed] == ["楼道每日清扫两次"] and listed[0]["status"] == "open"
    late = await post_form(api, page, f"{page}/actions", **{**form, "id": "late-one", "due_at": "2020-01-01T10:00"})
    assert late.status_code == 422 and "楼道每日清扫两次" in late.text
    done = await post_form(api, page, f"/console/survey-actions/{listed[0]['id']}/done", note="已安排")
    assert done.status_code == 303
    assert (await ok(await api.get(f"/campaigns/{cid}/actions", headers=admin)))[0]["status"] == "done"

    workbook = await api.get(f"{page}/export", headers=HTML)  # xlsx unless asked otherwise, as the API's
    assert workbook.status_code == 200 and workbook.headers["content-type"].startswith("application/vnd.openxml")
    assert workbook.content.startswith(b"PK")
    slips = await api.get(f"{page}/slips?unanswered=true", headers=HTML)
    assert slips.status_code == 200 and slips.headers["content-type"] == "application/pdf"
    assert slips.content.startswith(b"%PDF")

    # a forged form changes nothing
    clock.advance(hours=24 * 15)
    admin = await login(api, org, "admin")
    forged = await api.post(f"{page}/publish", data={"_csrf_token": "forged"}, headers=HTML)
    assert forged.status_code == 403 and "页面已过期" in forged.text
    assert (await ok(await api.get(f"/campaigns/{cid}", headers=admin)))["published_at"] is None
    published = await post_form(api, page, f"{page}/publish")
    assert published.status_code == 303
    assert (await ok(await api.get(f"/campaigns/{cid}", headers=admin)))["published_at"] is not None
    assert "结果已公布" in (await api.get(published.headers["location"], headers=HTML)).text


async def test_a_household_changing_answers_staff_entered_makes_them_its_own(api, db, clock):
    org = await build_org(db, "cst")
    admin = await login(api, org, "admin")
    body = {"name_zh": "满意度调查", "name_en": "Satisfaction", "questions": QUESTIONS, "allow_edit": True}
    template = await ok(await api.post("/survey-templates", headers=admin, json=body), 201)
    made = await new_campaign(api, org, admin, template["template_id"], AUTUMN, clock.now(), hours=48)
    supervisor = await login(api, org, "supervisor")
    answers = {"service": 2, "cleaning": 4, "repairs": "no", "recommend": 6}
    entered = f"/campaigns/{made['id']}/households/{org.unit_id}/responses"
    await ok(await api.post(entered, headers=supervisor, json={"channel": "phone", "answers": answers}), 201)
    stored = "SELECT channel, entered_by, answers FROM survey_responses WHERE org_id = $1 AND campaign_id = $2"
    assert (await db.fetchrow(stored, org.org_id, made["id"]))["entered_by"] == org.ids["supervisor"]

    clock.advance(minutes=5)
    token = next(
        link["token"]
        for link in await ok(await api.get(f"/campaigns/{made['id']}/links", headers=admin))
        if link["unit_id"] == org.unit_id
    )
    own = {**answers, "service": 5}
    await ok(await api.post(f"/survey/{token}", json={"answers": own}), 201)
    row = await db.fetchrow(stored, org.org_id, made["id"])
    assert (row["channel"], row["entered_by"], row["answers"]["service"]) == ("link", None, 5)
    # and from then on staff cannot overwrite them
    again = await api.post(entered, headers=supervisor, json={"channel": "phone", "answers": answers, "replace": True})
    assert again.status_code == 409 and again.json()["code"] == "answered_by_household"
