"""The console's review queue over real HTTP, as a desk's browser uses it: submitted orders built through the
public API (a supervisor opens them, the staff member starts, photographs and submits), listed longest waiting
first; verdicts given with the page's forms open the next order; the API then shows them. A stale verdict (the
order changed after the page was drawn) is a 409 page, a forged form a 403 page, another property's order a 404
page, a send-back without a reason a 422 page keeping what was typed — each changing nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core.clock import FixedClock
from core.settings import Settings
from tests.console_world import signed_in_console
from tests.integration.test_owner_tickets import make_derivatives
from tests.integration.test_sync_protocol import changes, pull, push
from tests.pages_world import HTML, csrf_of, seen_of
from tests.photo_world import TUS, jpeg, metadata
from tests.world import PASSWORD, Org, build_org, login

NOW = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def clock():
    return FixedClock(NOW)


async def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


async def attach_photo(
    api: httpx.AsyncClient,
    db,
    org: Org,
    headers: dict[str, str],
    who: str,
    order_id: str,
    purpose: str,
    seed: int,
    property_id: str,
) -> str:
    """A phone's photo of the order: its row through a sync push, then its bytes through tus."""
    photo_id = f"{purpose}-{order_id[-8:]}-{seed}"
    row = {
        "id": photo_id,
        "property_id": property_id,
        "record_table": "rectification_orders",
        "record_id": order_id,
        "uploaded_by": org.ids[who],
        "purpose": purpose,
    }
    since = (await pull(api, db, headers))["timestamp"]
    pushed = await push(api, headers, since, changes("photos", created=[row]))
    assert pushed.status_code == 200, pushed.text
    data = jpeg(800, 600, seed=seed)
    created = await api.post(
        "/uploads",
        headers={**headers, **TUS, "Upload-Length": str(len(data)), "Upload-Metadata": metadata(photo_id)},
    )
    assert created.status_code == 201, created.text
    sent = await api.patch(
        created.headers["Location"],
        content=data,
        headers={**headers, **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
    )
    assert sent.status_code == 204, sent.text
    return photo_id


async def submitted_order(
    api: httpx.AsyncClient,
    db,
    org: Org,
    description: str,
    *,
    location: str = "2号楼大堂",
    severity: str = "medium",
    due_in_hours: float | None = None,
    now: datetime = NOW,
    before_photo: bool = False,
    property_id: str | None = None,
    opener: str = "supervisor",
    fixer: str = "staff",
) -> str:
    """An order opened by hand (the opener), started, photographed after the fix and submitted by the fixer,
    through the public API; its id. Photos' bytes wait for `make_derivatives`."""
    opening = await login(api, org, opener)
    body = {
        "description": description,
        "category": "cleaning",
        "severity": severity,
        "location": location,
        "responsible_id": org.ids[fixer],
    }
    if due_in_hours is not None:
        body["due_at"] = (now + timedelta(hours=due_in_hours)).isoformat()
    property_id = property_id or org.property_id
    path = f"/properties/{property_id}/orders"
    order = await ok(await api.post(path, headers=opening, json=body), 201)
    working = await login(api, org, fixer)
    await ok(await api.post(f"/orders/{order['id']}/start", headers=working))
    if before_photo:
        await attach_photo(api, db, org, opening, opener, order["id"], "before", 1, property_id)
    await attach_photo(api, db, org, working, fixer, order["id"], "after", 2, property_id)
    await ok(await api.post(f"/orders/{order['id']}/submit", headers=working, json={"note": "已清理完毕 cleared"}))
    return order["id"]


async def second_supervisor(api: httpx.AsyncClient, org: Org) -> dict[str, str]:
    """Another supervisor of the property (bearer headers): someone else who may give verdicts."""
    admin = await login(api, org, "admin")
    body = {"name": "Second 主管", "role": "supervisor", "email": org.email("second"), "password": PASSWORD}
    second = await ok(await api.post("/users", headers=admin, json=body), 201)
    await ok(await api.put(f"/properties/{org.property_id}/staff/{second['id']}", headers=admin))
    return await login(api, org, "second")


def queue_of(org: Org) -> str:
    return f"/console/properties/{org.property_id}/review"


async def state(db, order_id: str) -> tuple:
    row = await db.fetchrow(
        "SELECT status, rejections, reject_reason, verified_by, submitted_at FROM rectification_orders WHERE id = $1",
        order_id,
    )
    return tuple(row)


async def test_the_queue_lists_the_longest_waiting_first_and_each_verdict_opens_the_next(api, db, clock, settings):
    org = await build_org(db, "rq1")
    first = await submitted_order(api, db, org, "大堂地面有污渍 lobby floor stained", due_in_hours=2, before_photo=True)
    clock.advance(hours=1)
    second = await submitted_order(api, db, org, "电梯厅垃圾未清 bins by the lift", location="", severity="high")
    clock.advance(hours=2)
    third = await submitted_order(api, db, org, "楼梯扶手积灰 dusty handrail", location="3号楼楼梯")
    clock.advance(minutes=30)
    await make_derivatives(settings, db, org)
    supervisor = await login(api, org, "supervisor")
    await signed_in_console(api, org)

    queue = await api.get(queue_of(org), headers=HTML)
    assert queue.status_code == 200, queue.text
    text = queue.text
    assert text.index(first) < text.index(second) < text.index(third), "the longest waiting first"
    assert "3 小时 30 分钟" not in text and "3 小时" in text and "30 分钟" in text  # waiting: 3.5 h, 2.5 h, 30 min
    assert "已逾期" in text, "the first order's deadline (2 h after it was opened) has passed"
    assert "2号楼大堂" in text and "3号楼楼梯" in text and "未注明位置" in text
    assert "Staff" in text and "严重" in text  # who submitted; the second's severity
    thumbs = re.findall(r'src="/console/photos/([^"/]+)/thumbnail"', text)
    assert len(thumbs) == 4, "the first order's before and after photo, one after-photo of each other"
    assert f'href="/console/orders/{first}" data-key="next"' in text, "start with the longest waiting"
    assert "<details" in text and "<kbd>j</kbd>" in text

    page = await api.get(f"/console/orders/{first}", headers=HTML)
    assert page.status_code == 200, page.text
    shown = page.text
    assert 'id="verify-form"' in shown and 'id="reject-form"' in shown
    assert seen_of(shown) == (NOW).isoformat(), "the form carries the submission it was drawn from"
    before, after = f"before-{first[-8:]}-1", f"after-{first[-8:]}-2"
    assert shown.index(f'src="/console/photos/{before}"') < shown.index(f'src="/console/photos/{after}"')
    assert f'href="/console/photos/{after}/original"' in shown
    for step in ("开单", "开始整改", "提交审核", "说明：已清理完毕 cleared", "2026年10月12日 10:00"):
        assert step in shown
    assert f'href="/console/orders/{second}" rel="next"' in shown and 'rel="prev"' not in shown
    photo = await api.get(f"/console/photos/{after}", headers=HTML)
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"

    verified = await api.post(
        f"/console/orders/{first}/verify", data={"_csrf_token": csrf_of(shown), "seen": seen_of(shown)}, headers=HTML
    )
    assert verified.status_code == 303, verified.text
    assert verified.headers["location"] == f"/console/orders/{second}?done=verified&order={first}"
    landed = await api.get(verified.headers["location"], headers=HTML)
    assert "已通过：大堂地面有污渍 lobby floor stained" in landed.text
    assert f'href="/console/orders/{third}" rel="next"' in landed.text
    assert f'href="/console/orders/{first}"' not in landed.text, "a verified order has left the queue"

    rejected = await api.post(
        f"/console/orders/{second}/reject",
        data={
            "_csrf_token": csrf_of(landed.text),
            "seen": seen_of(landed.text),
            "reason": "垃圾桶周围仍有污水 still dirty around the bins",
            "due_at": "2026-10-14T18:00",
        },
        headers=HTML,
    )
    assert rejected.status_code == 303, rejected.text
    assert rejected.headers["location"] == f"/console/orders/{third}?done=rejected&order={second}"
    landed = await api.get(rejected.headers["location"], headers=HTML)
    assert "已退回整改：电梯厅垃圾未清 bins by the lift" in landed.text

    done = await ok(await api.get(f"/orders/{first}", headers=supervisor))
    assert (done["status"], done["verified_by"]) == ("verified", org.ids["supervisor"])
    back = await ok(await api.get(f"/orders/{second}", headers=supervisor))
    assert back["status"] == "in_progress" and back["reject_reason"] == "垃圾桶周围仍有污水 still dirty around the bins"
    assert back["due_at"] == "2026-10-14T10:00:00Z", "18:00 in Shanghai"
    assert back["rejections"] == 1

    history = await api.get(f"/console/orders/{second}", headers=HTML)
    assert "退回原因：垃圾桶周围仍有污水 still dirty around the bins" in history.text
    assert "新期限：2026年10月14日 18:00" in history.text
    assert "这张整改单当前不在待审核状态" in history.text and 'id="verify-form"' not in history.text

    last = await api.post(
        f"/console/orders/{third}/verify",
        data={"_csrf_token": csrf_of(landed.text), "seen": seen_of(landed.text)},
        headers=HTML,
    )
    assert last.status_code == 303 and last.headers["location"] == f"{queue_of(org)}?done=verified&order={third}"
    emptied = await api.get(last.headers["location"], headers=HTML)
    assert "已通过：楼梯扶手积灰 dusty handrail" in emptied.text and "队列已清空" in emptied.text
    english = await api.get(queue_of(org) + "?lang=en", headers=HTML)
    assert "Nothing is waiting for your review" in english.text


async def test_a_stale_verdict_is_a_409_page_and_changes_nothing(api, db, clock):
    org = await build_org(db, "rq2")
    order_id = await submitted_order(api, db, org, "消防通道堆物 fire lane blocked", severity="critical")
    second = await second_supervisor(api, org)
    await signed_in_console(api, org)
    drawn = (await api.get(f"/console/orders/{order_id}", headers=HTML)).text
    form = {"_csrf_token": csrf_of(drawn), "seen": seen_of(drawn)}

    # someone else sends it back and the staff member submits it again: the page's submission is no more
    await ok(await api.post(f"/orders/{order_id}/reject", headers=second, json={"reason": "未清理干净"}))
    clock.advance(minutes=5)
    staff = await login(api, org, "staff")
    await ok(await api.post(f"/orders/{order_id}/submit", headers=staff))
    before = await state(db, order_id)
    assert before[:2] == ("submitted", 1)
    stale = await api.post(f"/console/orders/{order_id}/verify", data=form, headers=HTML)
    assert stale.status_code == 409, stale.text
    assert "这张整改单在您查看后已被他人处理或重新提交" in stale.text
    assert f'<a href="/console/orders/{order_id}">重新载入这张整改单</a>' in stale.text
    assert await state(db, order_id) == before, "nothing changed"
    # the page drawn again carries the new submission: the verdict is taken
    assert seen_of(stale.text) != form["seen"]

    # someone else verifies it while the page is open
    drawn = (await api.get(f"/console/orders/{order_id}", headers=HTML)).text
    refreshed = {"_csrf_token": csrf_of(drawn), "seen": seen_of(drawn)}
    await ok(await api.post(f"/orders/{order_id}/verify", headers=second, json={"seen": refreshed["seen"]}))
    verified = await state(db, order_id)
    late = await api.post(f"/console/orders/{order_id}/reject", data={**refreshed, "reason": "再看看"}, headers=HTML)
    assert late.status_code == 409 and "这张整改单在您查看后已被他人处理或重新提交" in late.text
    assert 'id="reject-form"' not in late.text and "已通过" in late.text
    assert await state(db, order_id) == verified and verified[3] == (
        await db.fetchval("SELECT id FROM users WHERE email = $1", org.email("second"))
    )

    # the REST API takes `seen` too: a verdict on a submission that is no more is refused the same way
    again = await submitted_order(api, db, org, "路灯不亮 lamp out")
    old = (await ok(await api.get(f"/orders/{again}", headers=second)))["submitted_at"]
    await ok(await api.post(f"/orders/{again}/reject", headers=second, json={"reason": "灯罩未装", "seen": old}))
    clock.advance(minutes=1)
    await ok(await api.post(f"/orders/{again}/submit", headers=staff))
    refused = await api.post(f"/orders/{again}/verify", headers=second, json={"seen": old})
    assert refused.status_code == 409 and refused.json()["code"] == "stale_order"
    assert (await state(db, again))[0] == "submitted"


async def test_a_forged_form_is_a_403_page_and_changes_nothing(api, db):
    org = await build_org(db, "rq3")
    order_id = await submitted_order(api, db, org, "草坪积水 standing water")
    await signed_in_console(api, org)
    drawn = (await api.get(f"/console/orders/{order_id}", headers=HTML)).text
    before = await state(db, order_id)
    forged = await api.post(
        f"/console/orders/{order_id}/verify", data={"_csrf_token": "forged", "seen": seen_of(drawn)}, headers=HTML
    )
    assert forged.status_code == 403 and "页面已过期" in forged.text
    missing = await api.post(
        f"/console/orders/{order_id}/reject", data={"seen": seen_of(drawn), "reason": "x"}, headers=HTML
    )
    assert missing.status_code == 403
    assert await state(db, order_id) == before


async def test_another_propertys_order_is_a_404_page(api, db):
    org = await build_org(db, "rq4")
    elsewhere = await submitted_order(
        api, db, org, "塔楼外墙脱落 tower facade", property_id=org.other_property_id, opener="admin", fixer="elsewhere"
    )
    await signed_in_console(api, org)
    for path in (f"/console/orders/{elsewhere}", "/console/orders/no-such-order", f"{queue_of(org)[:-7]}x/review"):
        answer = await api.get(path, headers=HTML)
        assert answer.status_code == 404 and "<!doctype html>" in answer.text.lower(), path
    kind = await api.get(f"/console/orders/{elsewhere}", headers=HTML)
    assert "没有找到这张整改单" in kind.text and "not found" not in kind.text, "said kindly, in the page's language"
    other_queue = await api.get(f"/console/properties/{org.other_property_id}/review", headers=HTML)
    assert other_queue.status_code == 404
    page = (await api.get(queue_of(org), headers=HTML)).text
    assert "目前没有等待审核的整改单" in page and elsewhere not in page
    tried = await api.post(
        f"/console/orders/{elsewhere}/verify",
        data={"_csrf_token": csrf_of(page), "seen": NOW.isoformat()},
        headers=HTML,
    )
    assert tried.status_code == 404
    assert (await state(db, elsewhere))[0] == "submitted"


async def test_a_send_back_without_a_reason_keeps_what_was_typed(api, db, clock):
    org = await build_org(db, "rq5")
    order_id = await submitted_order(api, db, org, "水池漏水 pond leaking")
    await signed_in_console(api, org)
    drawn = (await api.get(f"/console/orders/{order_id}", headers=HTML)).text
    form = {"_csrf_token": csrf_of(drawn), "seen": seen_of(drawn)}
    before = await state(db, order_id)

    blank = await api.post(
        f"/console/orders/{order_id}/reject", data={**form, "reason": "   ", "due_at": "2026-10-15T09:30"}, headers=HTML
    )
    assert blank.status_code == 422, blank.text
    assert "请填写退回原因" in blank.text and 'aria-invalid="true"' in blank.text
    assert 'value="2026-10-15T09:30"' in blank.text, "the typed deadline is kept"
    assert 'id="reject-form"' in blank.text

    past = await api.post(
        f"/console/orders/{order_id}/reject",
        data={**form, "reason": "还有 <b>污渍</b>", "due_at": "2026-10-12T09:00"},
        headers=HTML,
    )
    assert past.status_code == 422 and "新的期限必须晚于现在" in past.text
    assert "还有 &lt;b&gt;污渍&lt;/b&gt;</textarea>" in past.text, "the reason kept, escaped"
    garbled = await api.post(
        f"/console/orders/{order_id}/reject", data={**form, "reason": "x", "due_at": "next week"}, headers=HTML
    )
    assert garbled.status_code == 422 and "请填写有效的日期和时间" in garbled.text
    assert await state(db, order_id) == before


async def test_an_api_client_on_the_review_pages_gets_problem_json(api, db, settings: Settings):
    org = await build_org(db, "rq6")
    order_id = await submitted_order(api, db, org, "门禁失灵 gate fails")
    stranger = await api.get(queue_of(org))
    assert stranger.status_code == 401 and stranger.headers["content-type"].startswith("application/problem+json")
    await signed_in_console(api, org)
    drawn = (await api.get(f"/console/orders/{order_id}", headers=HTML)).text
    unknown = await api.get("/console/orders/no-such-order", headers={"Accept": "application/json"})
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("application/problem+json")
    blank = await api.post(
        f"/console/orders/{order_id}/reject",
        data={"_csrf_token": csrf_of(drawn), "seen": seen_of(drawn), "reason": ""},
        headers={"Accept": "application/json"},
    )
    assert blank.status_code == 422 and blank.headers["content-type"].startswith("application/problem+json")
    assert blank.json()["errors"][0]["field"] == "reason"


async def test_the_queue_pages_and_an_admin_looks_without_deciding(api, db, clock, monkeypatch):
    monkeypatch.setattr("api.pages.console_review.PAGE_SIZE", 2)
    org = await build_org(db, "rq7")
    ids = []
    for n in range(3):
        ids.append(await submitted_order(api, db, org, f"第{n + 1}处积水 puddle {n + 1}"))
        clock.advance(minutes=10)
    await signed_in_console(api, org)
    first = await api.get(queue_of(org), headers=HTML)
    assert ids[0] in first.text and ids[1] in first.text and ids[2] not in first.text
    more = re.search(r'href="([^"]+)" rel="next">下一页</a>', first.text)
    assert more, "a link to the next page"
    second = await api.get(more.group(1).replace("&amp;", "&"), headers=HTML)
    assert second.status_code == 200 and ids[2] in second.text and ids[0] not in second.text
    assert "回到第一页" in second.text and 'rel="next">下一页' not in second.text

    admin = httpx.AsyncClient(base_url=api.base_url)
    async with admin:
        await signed_in_console(admin, org, "admin")
        looked = await admin.get(queue_of(org), headers=HTML)
        assert looked.status_code == 200 and ids[0] in looked.text and "管理员可以查看，但不能审核" in looked.text
        order = await admin.get(f"/console/orders/{ids[0]}", headers=HTML)
        assert order.status_code == 200 and 'id="verify-form"' not in order.text
        assert "管理员可以查看，但不能审核" in order.text
        # a form made by hand is refused by the domain, not by the page: 403, nothing changed
        before = await state(db, ids[0])
        tried = await admin.post(
            f"/console/orders/{ids[0]}/verify",
            data={"_csrf_token": csrf_of(order.text), "seen": NOW.isoformat()},
            headers=HTML,
        )
        assert tried.status_code == 403 and "您不能审核这张整改单" in tried.text
        assert await state(db, ids[0]) == before
