"""The owner's ticket pages over real HTTP, as a phone's browser without JavaScript uses them: signed in by the
session cookie, forms with their CSRF token, multipart photos. Filing goes through the REST use case (one ticket
per form however often it is sent), photos through the uploads' checks and storage, and every refusal is a page
with the API's status and nothing stored."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import msgspec
import pytest

from core.clock import FixedClock
from core.db import create_pool
from core.settings import Settings
from sync.photos import derivatives
from sync.photos.storage import BlobStore
from tests.desk_world import insert_ticket
from tests.pages_world import HTML, csrf_of
from tests.photo_world import heic, jpeg
from tests.world import PASSWORD, Org, add_households, build_org, login

NOW = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
MAX_PHOTO = 2 * 1024 * 1024


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # small photos, so a form too large for its route is quick to send
    return msgspec.structs.replace(settings, max_photo_bytes=MAX_PHOTO)


@contextlib.asynccontextmanager
async def browser(api: httpx.AsyncClient, org: Org, who: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own (its own cookies) signed in as `who`: the session cookie holds the credential
    `POST /auth/login` answers as its refresh token."""
    signed = await api.post("/auth/login", json={"login": org.email(who), "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    async with httpx.AsyncClient(base_url=str(api.base_url), headers=HTML, timeout=30) as client:
        client.cookies.set("fw_session", signed.json()["refresh_token"])
        yield client


def hidden(page: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]+)"', page)
    assert found, f"the form has no {name}"
    return found.group(1)


async def new_form(client: httpx.AsyncClient) -> dict[str, str]:
    """The filing form's hidden fields, as the browser got them."""
    page = await client.get("/owner/tickets/new")
    assert page.status_code == 200, page.text
    return {"_csrf_token": csrf_of(page.text), "id": hidden(page.text, "id")}


async def send_form(client: httpx.AsyncClient, fields: dict[str, str], photos: list[bytes] | None = None):
    """multipart/form-data as a browser sends it (a file input left empty sends an empty part)."""
    files = [("photos", (f"IMG_{n}.jpg", data, "image/jpeg")) for n, data in enumerate(photos or [], start=1)]
    return await client.post(
        "/owner/tickets", data=fields, files=files or [("photos", ("", b"", "application/octet-stream"))]
    )


def step_form(page: str, action: str) -> dict[str, str]:
    """The hidden fields of one step's form on a ticket's page."""
    found = re.search(rf'name="action" value="{action}">\s*<input type="hidden" name="id" value="([^"]+)"', page)
    assert found, f"the page offers no {action} form"
    return {"_csrf_token": csrf_of(page), "action": action, "id": found.group(1)}


async def make_derivatives(settings: Settings, db, org: Org) -> None:
    """What the worker does for new photos: their display and thumbnail JPEGs."""
    store = BlobStore.from_url(settings.photo_store_url)
    pool = await create_pool(settings.database_url or "", size=2)
    try:
        rows = await db.fetch(
            "SELECT DISTINCT sha256 FROM photos WHERE org_id = $1 AND status = 'uploaded'", org.org_id
        )
        for row in rows:
            assert await derivatives.make(pool, store, org.org_id, row["sha256"]) == "ready"
    finally:
        await pool.close()


async def stored(db, org: Org) -> tuple[int, int]:
    tickets = await db.fetchval("SELECT count(*) FROM tickets WHERE org_id = $1", org.org_id)
    photos = await db.fetchval("SELECT count(*) FROM photos WHERE org_id = $1", org.org_id)
    return tickets, photos


REPAIR = {
    "kind": "repair",
    "category": "engineering",
    "description": "厨房水管漏水，地面有积水",
    "request": "请尽快上门维修",
}


async def test_an_owner_files_a_repair_with_two_photos_once_and_only_they_see_them(api, db, settings):
    org = await build_org(db, "ot1")
    await add_households(db, org, 1)
    async with browser(api, org, "owner") as owner, browser(api, org, "owner0") as neighbour:
        blank = await owner.get("/owner/tickets/new")
        assert blank.status_code == 200 and "我要报事" in blank.text
        assert 'type="file"' in blank.text and 'accept="image/*"' in blank.text and "multiple" in blank.text
        assert f'value="{org.unit_id}" selected' not in blank.text and "1号楼 101" in blank.text
        form = {**await new_form(owner), **REPAIR, "household": org.unit_id, "occurred_at": "2026-05-06T08:15"}
        sent = await send_form(owner, form, [jpeg(800, 600, seed=1), jpeg(640, 480, seed=2)])
        assert sent.status_code == 303, sent.text
        ticket_id = form["id"]
        assert sent.headers["location"] == f"/owner/tickets/{ticket_id}?done=filed"
        again = await send_form(owner, form, [jpeg(800, 600, seed=1), jpeg(640, 480, seed=2)])
        assert again.status_code == 303 and again.headers["location"] == sent.headers["location"]
        assert await stored(db, org) == (1, 2), "a form sent twice files one ticket with its photos once"
        row = await db.fetchrow(
            "SELECT channel, unit_id, reported_by, occurred_at FROM tickets WHERE id = $1", ticket_id
        )
        assert (row["channel"], row["unit_id"], row["reported_by"]) == ("web", org.unit_id, org.ids["owner"])
        assert row["occurred_at"] == datetime(2026, 5, 6, 0, 15, tzinfo=UTC), "08:15 in the property's zone"
        photos = await db.fetch(
            "SELECT id, status, purpose, owner_unit_id, record_table, record_id, content_type, width FROM photos "
            "WHERE org_id = $1 ORDER BY width DESC",
            org.org_id,
        )
        assert [(p["status"], p["purpose"], p["owner_unit_id"], p["record_id"]) for p in photos] == [
            ("uploaded", "before", org.unit_id, ticket_id)
        ] * 2
        assert [(p["content_type"], p["width"]) for p in photos] == [("image/jpeg", 800), ("image/jpeg", 640)]

        shown = await owner.get(sent.headers["location"])
        assert shown.status_code == 200
        assert "厨房水管漏水" in shown.text and "已提交" in shown.text and "待受理" in shown.text
        assert "2026年5月6日 08:15" in shown.text and "照片处理中" in shown.text
        await make_derivatives(settings, db, org)
        shown = (await owner.get(f"/owner/tickets/{ticket_id}")).text
        for photo in photos:
            assert f'<a href="/owner/photos/{photo["id"]}"><img src="/owner/photos/{photo["id"]}/thumbnail"' in shown
        thumb = await owner.get(f"/owner/photos/{photos[0]['id']}/thumbnail")
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
        display = await owner.get(f"/owner/photos/{photos[0]['id']}")
        assert display.status_code == 200 and display.content[:2] == b"\xff\xd8" and display.content != thumb.content

        listed = await owner.get("/owner/tickets")
        assert listed.status_code == 200 and f"/owner/tickets/{ticket_id}" in listed.text and "报修" in listed.text

        theirs = await neighbour.get(f"/owner/tickets/{ticket_id}")
        assert theirs.status_code == 404 and "未找到" in theirs.text and "厨房水管" not in theirs.text
        assert (await neighbour.get(f"/owner/photos/{photos[0]['id']}")).status_code == 404
        assert (await neighbour.get(f"/owner/photos/{photos[0]['id']}/original")).status_code == 404
        assert f"/owner/tickets/{ticket_id}" not in (await neighbour.get("/owner/tickets")).text
        english = await neighbour.get(f"/owner/tickets/{ticket_id}?lang=en")
        assert english.status_code == 404 and "not found" in english.text


async def test_a_form_that_needs_fixing_comes_back_and_nothing_is_stored(api, db):
    org = await build_org(db, "ot2")
    async with browser(api, org, "owner") as owner:
        form = {**await new_form(owner), **REPAIR, "household": org.unit_id, "description": "  "}
        missing = await send_form(owner, form, [jpeg(400, 300)])
        assert missing.status_code == 422
        assert "请描述问题" in missing.text and "请尽快上门维修" in missing.text, (
            "the problem beside the field, text kept"
        )
        assert f'value="{form["id"]}"' in missing.text and f'value="{org.unit_id}" selected' in missing.text
        again = await send_form(owner, form | {"_csrf_token": csrf_of(missing.text)})
        assert again.status_code == 422, "the form that came back sends like the first"
        late = await send_form(owner, {**form, "description": "门禁坏了", "occurred_at": "2026-05-07T09:00"})
        assert late.status_code == 422 and "发生时间不能晚于现在" in late.text and "门禁坏了" in late.text
        not_a_photo = await send_form(owner, {**form, "description": "门禁坏了"}, [b"%PDF-1.4 not a photo"])
        assert not_a_photo.status_code == 422 and "第 1 张照片" in not_a_photo.text and "门禁坏了" in not_a_photo.text
        no_token = await send_form(owner, {k: v for k, v in form.items() if k != "_csrf_token"} | {"description": "x"})
        assert no_token.status_code == 403 and "页面已过期" in no_token.text
        too_large = await send_form(owner, {**form, "description": "门禁坏了"}, [b"\xff\xd8" + b"0" * MAX_PHOTO] * 5)
        assert too_large.status_code == 413 and "内容过大" in too_large.text
        assert await stored(db, org) == (0, 0)
        assert 'lang="en"' in (await owner.get("/owner/tickets/new?lang=en")).text
        english = await send_form(owner, form)
        assert english.status_code == 422 and "Please say what happened" in english.text
        iphone = await send_form(owner, {**form, "description": "门禁坏了"}, [heic(640, 480)])
        assert iphone.status_code == 303, "an iPhone's HEIC photo is taken as the app's uploads take it"
    assert await db.fetchval("SELECT content_type FROM photos WHERE org_id = $1", org.org_id) == "image/heic"


async def test_a_stranger_is_sent_to_sign_in(api, db):
    org = await build_org(db, "ot3")
    async with httpx.AsyncClient(base_url=str(api.base_url), headers=HTML) as stranger:
        for path in ("/owner/tickets", "/owner/tickets/new", "/owner/tickets/nope", "/owner/photos/nope"):
            answer = await stranger.get(path)
            assert answer.status_code == 303 and answer.headers["location"] == f"/owner/sign-in?next={path}"
    async with browser(api, org, "staff") as staff:
        assert (await staff.get("/owner/tickets")).status_code == 403


async def test_the_list_is_newest_first_a_page_at_a_time(api, db):
    org = await build_org(db, "ot4")
    for n in range(25):
        await insert_ticket(
            db,
            org.org_id,
            org.property_id,
            f"t{n:02}",
            unit_id=org.unit_id,
            received_at=f"2026-04-01 {n % 24:02}:00",
            description=f"第{n}张工单",
            reported_by=org.ids["admin"],
            kind="suggestion" if n == 24 else "repair",
        )
    await insert_ticket(
        db,
        org.org_id,
        org.property_id,
        "theirs",
        unit_id=org.other_unit_id,
        received_at="2026-04-02 09:00",
        reported_by=org.ids["admin"],
    )
    async with browser(api, org, "owner") as owner:
        first = await owner.get("/owner/tickets")
        shown = re.findall(r'href="/owner/tickets/(t\d\d)"', first.text)
        assert len(shown) == 20 and shown[0] == "t23" and "theirs" not in first.text
        assert "2026年4月1日 23:00" in first.text and "建议" not in first.text
        older = re.search(r'href="(/owner/tickets\?cursor=[^"]+)"', first.text)
        assert older, "a link to the older tickets"
        second = await owner.get(older.group(1).replace("&amp;", "&"))
        assert second.status_code == 200
        rest = re.findall(r'href="/owner/tickets/(t\d\d)"', second.text)
        assert len(rest) == 5 and not set(rest) & set(shown) and "回到最新" in second.text
        assert rest[-2:] == ["t24", "t00"] and "建议" in second.text  # the same moment: the larger id first
        english = (await owner.get("/owner/tickets?lang=en")).text
        assert "My requests" in english and "Repair" in english and "Received" in english
    # the same pages over REST (the use case both call)
    bearer = await login(api, org, "owner")
    page = (await api.get("/tickets", params={"limit": 20}, headers=bearer)).json()
    more = await api.get("/tickets", params={"limit": 20, "cursor": page["next_cursor"]}, headers=bearer)
    assert more.status_code == 200 and [t["id"] for t in more.json()["items"]] == rest
