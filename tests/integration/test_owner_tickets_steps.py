"""An owner follows a complaint from the browser while staff work it through the API: the promised times in the
property's zone (and the first promise beside an extension), lateness, the public timeline without internal
notes, and the owner's steps as forms: a dispute needs its reason, a confirmation sent twice is taken once, a
step the status no longer allows is a clear 409 on the page, and the API sees what the page did."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from core.clock import FixedClock
from tests.integration.test_owner_tickets import browser, hidden, new_form, send_form, step_form
from tests.world import build_org, login

NOW = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def clock():
    return FixedClock(NOW)


async def staff_step(api, headers, ticket_id, action, **body):
    answer = await api.post(f"/tickets/{ticket_id}/steps", headers=headers, json={"action": action, **body})
    assert answer.status_code == 200, answer.text
    return answer.json()


def banner(page: str) -> str:
    found = re.search(r'<p class="banner (?:warn|ok)" role="(?:alert|status)"[^>]*>([^<]+)</p>', page)
    assert found, "the page says nothing of the step"
    return found.group(1)


async def test_an_owner_follows_a_complaint_and_confirms_it_from_the_page(api, db, clock):
    org = await build_org(db, "os1")
    staff, supervisor = await login(api, org, "staff"), await login(api, org, "supervisor")
    owner_api = await login(api, org, "owner")
    async with browser(api, org, "owner") as owner:
        form = {**await new_form(owner), "household": org.unit_id, "kind": "complaint", "category": "safety"}
        sent = await send_form(owner, {**form, "description": "楼下装修噪音每天早上七点开始"})
        assert sent.status_code == 303, sent.text
        ticket_id = form["id"]
        page = (await owner.get(f"/owner/tickets/{ticket_id}")).text
        assert "受理后显示承诺的响应和处理时间" in page and 'value="confirm"' not in page
        early = await owner.post(
            f"/owner/tickets/{ticket_id}/steps", data={**step_form(page, "note"), "action": "confirm", "id": "early1"}
        )
        assert early.status_code == 409 and "此操作现在不可用" in banner(early.text) and "待受理" in banner(early.text)

        await staff_step(api, staff, ticket_id, "accept")
        await staff_step(api, staff, ticket_id, "assign", assignee_id=org.ids["staff"])
        await staff_step(api, staff, ticket_id, "note", note="内部备注：需协调楼下住户", public=False)
        await staff_step(api, staff, ticket_id, "note", note="已联系楼下住户，明天上午上门")
        page = (await owner.get(f"/owner/tickets/{ticket_id}")).text
        assert "2026年5月7日 10:00" in page and "2026年5月9日 10:00" in page, "24 h and 72 h, in Shanghai"
        assert "已联系楼下住户" in page and "内部备注" not in page, "the public timeline only"
        assert "已派单" in page and "超时" not in page

        clock.advance(hours=25)
        staff, supervisor = await login(api, org, "staff"), await login(api, org, "supervisor")  # fresh tokens
        owner_api = await login(api, org, "owner")
        listed = (await owner.get("/owner/tickets")).text
        assert "响应超时" in listed and "处理超时" not in listed
        later = (NOW + timedelta(days=5)).isoformat()
        await staff_step(api, supervisor, ticket_id, "extend", which="resolve", due_at=later, note="需等物业协调")
        page = (await owner.get(f"/owner/tickets/{ticket_id}")).text
        assert "2026年5月11日 10:00" in page and "原承诺 2026年5月9日 10:00" in page and "需等物业协调" in page

        await staff_step(api, staff, ticket_id, "resolve", note="已与楼下住户约定九点后施工")
        page = (await owner.get(f"/owner/tickets/{ticket_id}")).text
        assert "已与楼下住户约定九点后施工" in page
        for action in ("confirm", "dispute", "visit", "note"):
            assert f'name="action" value="{action}"' in page
        no_reason = await owner.post(f"/owner/tickets/{ticket_id}/steps", data=step_form(page, "dispute"))
        assert no_reason.status_code == 422 and "请写明原因" in banner(no_reason.text)
        disputed = await owner.post(
            f"/owner/tickets/{ticket_id}/steps", data={**step_form(page, "dispute"), "note": "早上七点仍有噪音"}
        )
        assert disputed.status_code == 303 and disputed.headers["location"].endswith("?done=dispute")
        seen = (await api.get(f"/tickets/{ticket_id}", headers=owner_api)).json()
        assert (seen["status"], seen["reopens"]) == ("assigned", 1)

        await staff_step(api, staff, ticket_id, "resolve", note="已再次协调，施工改到九点后")
        page = (await owner.get(f"/owner/tickets/{ticket_id}")).text
        confirm = step_form(page, "confirm")
        for _ in range(2):  # the button pressed twice
            confirmed = await owner.post(f"/owner/tickets/{ticket_id}/steps", data=confirm)
            assert confirmed.status_code == 303, confirmed.text
        seen = (await api.get(f"/tickets/{ticket_id}", headers=owner_api)).json()
        assert (seen["status"], seen["confirmed_via"]) == ("confirmed", "owner")
        assert [e["action"] for e in seen["timeline"]].count("confirm") == 1
        assert "已确认完成，谢谢" in banner((await owner.get(confirmed.headers["location"])).text)

        stale = await owner.post(f"/owner/tickets/{ticket_id}/steps", data={**confirm, "id": "another-press"})
        assert stale.status_code == 409 and "此操作现在不可用" in banner(stale.text) and "已确认" in banner(stale.text)
        page = stale.text
        rated = await owner.post(
            f"/owner/tickets/{ticket_id}/steps", data={**step_form(page, "visit"), "rating": "4", "note": "满意"}
        )
        assert rated.status_code == 303
        seen = (await api.get(f"/tickets/{ticket_id}", headers=owner_api)).json()
        assert (seen["status"], seen["visit_rating"], seen["visit_channel"]) == ("closed", 4, "web")
        english = (await owner.get(f"/owner/tickets/{ticket_id}?lang=en")).text
        assert "Closed" in english and "Your rating: 4 of 5" in english and "Progress" in english
        assert 'name="action" value="confirm"' not in english


async def test_a_step_on_another_households_ticket_is_not_found(api, db, clock):
    org = await build_org(db, "os2")
    staff = await login(api, org, "staff")
    filed = await api.post(
        f"/properties/{org.property_id}/tickets",
        headers=staff,
        json={"kind": "repair", "category": "engineering", "description": "水管", "unit_id": org.other_unit_id},
    )
    assert filed.status_code == 201, filed.text
    async with browser(api, org, "owner") as owner:
        page = (await owner.get("/owner/tickets/new")).text
        shown = await owner.get(f"/owner/tickets/{filed.json()['id']}")
        assert shown.status_code == 404 and "水管" not in shown.text
        form = {"_csrf_token": hidden(page, "_csrf_token"), "action": "note", "id": "n1", "note": "hello"}
        stepped = await owner.post(f"/owner/tickets/{filed.json()['id']}/steps", data=form)
        assert stepped.status_code == 404
    assert await db.fetchval("SELECT count(*) FROM ticket_events") == 0
