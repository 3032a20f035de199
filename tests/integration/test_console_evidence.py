"""The console's evidence flags over real HTTP, as a desk's browser uses them (plain forms, no JavaScript): the
flags of an order on its page, in words, each dismissed with a reason (who, when and why then shown; without a
reason a 422 page keeping nothing); the review queue's count of an order's open flags; the property's evidence
section, newest first, filtered by status and kind, a page at a time, each flag linking to its order and
dismissable there too. Flags are arranged with SQL (tests/integration/test_evidence_kpis.py insert_flag); orders
through the public API (tests/integration/test_console_review.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core.clock import FixedClock
from tests.console_world import signed_in_console
from tests.integration.test_console_review import NOW, queue_of, submitted_order
from tests.integration.test_evidence_kpis import insert_flag
from tests.integration.test_kpis import local
from tests.pages_world import HTML, csrf_of
from tests.world import Org, build_org

# fmt: off
REUSED = {"photo_id": "p-old", "record_table": "check_results", "record_id": "c-old",
          "received_at": (NOW - timedelta(days=3, hours=2)).isoformat(), "bits": 6, "residual": 0.08}
# fmt: on


@pytest.fixture
def clock():
    return FixedClock(NOW)


def flags_of(html: str) -> dict[str, str]:
    """The flags a page shows: id -> open or dismissed."""
    return dict(re.findall(r'<li class="flag[^"]*" id="flag-([^"]+)" data-kind="[^"]+" data-status="(\w+)"', html))


async def status_of(db, flag_id: str) -> tuple:
    row = await db.fetchrow("SELECT status, dismissed_by, dismiss_reason FROM evidence_flags WHERE id = $1", flag_id)
    return tuple(row)


async def flagged_order(api, db, org: Org, *, other_photo: str | None = None) -> str:
    """A submitted order with two flags and a note (its after-photo said to be `other_photo` again)."""
    order = await submitted_order(api, db, org, "大堂地面有污渍 lobby floor stained", before_photo=True)
    staff = org.ids["staff"]
    at = NOW - timedelta(minutes=5)
    reused = {**REUSED, "photo_id": other_photo or REUSED["photo_id"]}
    await insert_flag(db, org, "f-reused", "reused_photo", staff=staff, at=at, order_id=order, evidence=reused)
    off = {"captured_at": "x", "taken_at": "y", "minutes_off": 95.4, "tolerance_minutes": 30}
    await insert_flag(db, org, "f-time", "time_off", staff=staff, at=at, order_id=order, evidence=off, score=95.4)
    device = {"device": "Pixel 7", "taken_at": None}
    await insert_flag(db, org, "f-note", "no_capture_time", staff=staff, at=at, order_id=order, evidence=device,
                      level="note")  # fmt: skip
    return order


async def test_an_orders_flags_are_shown_in_words_and_dismissed_with_a_reason(api, db):
    org = await build_org(db, "fe1")
    order = await flagged_order(api, db, org)
    await signed_in_console(api, org)

    queue = (await api.get(queue_of(org), headers=HTML)).text
    assert 'data-flags="2"' in queue and "2 个证据标记" in queue, "open flags, not the note"

    url = f"/console/orders/{order}"
    page = await api.get(url, headers=HTML)
    assert page.status_code == 200, page.text
    shown = page.text
    assert flags_of(shown) == {"f-reused": "open", "f-time": "open", "f-note": "open"}
    assert "照片与之前另一条记录的照片相同" in shown and "the photo is an earlier photo of another record" in shown
    assert "与 3 天前的照片相同 / same as a photo of 3 days ago" in shown
    assert 'src="/console/photos/p-old/thumbnail"' in shown and 'href="/console/photos/p-old"' in shown
    assert "拍摄时间比检查早 95 分钟（允许 30 分钟） / taken 95 min before the check (30 min allowed)" in shown
    assert "照片没有拍摄时间 / no capture time in the photo · Pixel 7" in shown and "提示，不计入考核" in shown

    # a reason of blanks is no reason: the page again, with the message beside the form, nothing changed
    action = f"/console/orders/{order}/flags/f-reused/dismiss"
    refused = await api.post(action, data={"_csrf_token": csrf_of(shown), "reason": "   "}, headers=HTML)
    assert refused.status_code == 422, refused.text
    assert 'id="reason-error-f-reused"' in refused.text and "请写明忽略的理由" in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert await status_of(db, "f-reused") == ("open", None, None)

    reason = "同一位置不同时间的照片 the same spot on another day"
    dismissed = await api.post(action, data={"_csrf_token": csrf_of(shown), "reason": reason}, headers=HTML)
    assert dismissed.status_code == 303, dismissed.text
    assert dismissed.headers["location"] == f"{url}?flag_done=f-reused#flag-f-reused"
    landed = (await api.get(dismissed.headers["location"].split("#")[0], headers=HTML)).text
    assert flags_of(landed) == {"f-reused": "dismissed", "f-time": "open", "f-note": "open"}
    assert f"已由 Supervisor 于 2026年10月12日 10:00 忽略：{reason}" in landed
    assert 'id="flag-done"' in landed
    assert await status_of(db, "f-reused") == ("dismissed", org.ids["supervisor"], reason)
    audit = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity = 'evidence_flag' AND entity_id = 'f-reused'"
    )
    assert audit == 1
    # the dismissed flag has no form any more; the queue counts one open flag
    assert f'action="/console/orders/{order}/flags/f-reused/dismiss"' not in landed
    assert 'data-flags="1"' in (await api.get(queue_of(org), headers=HTML)).text

    # a flag of another order is not dismissed through this one's address
    await insert_flag(db, org, "f-other", "too_fast", staff=org.ids["staff"], at=NOW, subject="visit")
    other = await api.post(
        f"/console/orders/{order}/flags/f-other/dismiss", data={"_csrf_token": csrf_of(landed), "reason": "ok"},
        headers=HTML,
    )  # fmt: skip
    assert other.status_code == 404
    assert await status_of(db, "f-other") == ("open", None, None)
    # nor without the page's CSRF token
    forged = await api.post(action.replace("f-reused", "f-time"), data={"reason": "ok"}, headers=HTML)
    assert forged.status_code == 403
    assert await status_of(db, "f-time") == ("open", None, None)


async def test_the_evidence_section_lists_filters_and_pages_the_propertys_flags(api, db):
    org = await build_org(db, "fe2")
    order = await flagged_order(api, db, org)
    staff = org.ids["staff"]
    for i in range(32):  # newest last: f-31 is the newest of them
        kind, subject = ("too_fast", "visit") if i % 2 else ("round_too_short", "round")
        evidence = {"from_visit": "v", "metres": 400, "seconds": 60, "kmh": 24.0} if i % 2 else {
            "minutes": 12.0, "expected_minutes": 40, "share": 0.3}  # fmt: skip
        at = NOW - timedelta(days=2) + timedelta(minutes=i)
        await insert_flag(db, org, f"f-{i:02d}", kind, staff=staff, at=at, evidence=evidence, subject=subject)
    await insert_flag(db, org, "f-gone", "outside_fence", staff=staff, at=NOW - timedelta(days=9), status="dismissed",
                      evidence={"source": "device"}, score=180.0, subject="visit")  # fmt: skip
    await insert_flag(db, org, "f-away", "too_fast", staff=staff, at=NOW, property_id=org.other_property_id)
    await signed_in_console(api, org)
    section = f"/console/properties/{org.property_id}/evidence"

    board = (await api.get(f"/console/properties/{org.property_id}", headers=HTML)).text
    assert f'href="{section}"' in board and ">证据<" in board, "a tab of the property"

    first = await api.get(section, headers=HTML)
    assert first.status_code == 200, first.text
    shown = list(flags_of(first.text))
    # open flags newest first (then by id): the order's three, then f-31 … f-05 (30 a page)
    assert shown[:5] == ["f-time", "f-reused", "f-note", "f-31", "f-30"]
    assert len(shown) == 30 and "f-gone" not in shown and "f-away" not in shown
    assert f'href="/console/orders/{order}" class="flag-order"' in first.text
    assert "24 公里/小时（400 米用时 60 秒） / 24 km/h between two checkpoints (400 m in 60 s)" in first.text
    assert "巡查用时 12 分钟，路线预计 40 分钟 / the round took 12 min, its route 40 min expected" in first.text
    more = re.search(r'href="([^"]+cursor=[^"]+)" rel="next"', first.text)
    assert more, "a next page"
    second = (await api.get(more.group(1).replace("&amp;", "&"), headers=HTML)).text
    assert set(flags_of(second)) == {"f-00", "f-01", "f-02", "f-03", "f-04"}

    dismissed = (await api.get(section, params={"status": "dismissed"}, headers=HTML)).text
    assert list(flags_of(dismissed)) == ["f-gone"]
    assert (
        "在项目范围外 180 米 / 180 m outside the property&#39;s fence (手机定位 / the phone&#39;s position)"
        in dismissed
    )
    assert "已由 Supervisor" in dismissed and "checked on site" in dismissed
    of_kind = (await api.get(section, params={"status": "all", "kind": "reused_photo"}, headers=HTML)).text
    assert list(flags_of(of_kind)) == ["f-reused"]
    assert '<option value="reused_photo" selected>' in of_kind

    # dismissed from the section: back to the same filter, the notice says who, when and why
    form = {"_csrf_token": csrf_of(of_kind), "status": "all", "kind": "reused_photo", "reason": "  "}
    action = f"{section}/f-reused/dismiss"
    refused = await api.post(action, data=form, headers=HTML)
    assert refused.status_code == 422 and "请写明忽略的理由" in refused.text
    assert list(flags_of(refused.text)) == ["f-reused"], "the same list, as it was filtered"
    done = await api.post(action, data={**form, "reason": "现场核实 checked"}, headers=HTML)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"{section}?status=all&kind=reused_photo&done=f-reused"
    landed = (await api.get(done.headers["location"], headers=HTML)).text
    assert 'id="done"' in landed and "现场核实 checked" in landed
    assert flags_of(landed) == {"f-reused": "dismissed"}

    # another property's flag, through this property's address or its own (not supervised): not found
    away = await api.post(f"{section}/f-away/dismiss", data={**form, "reason": "x"}, headers=HTML)
    assert away.status_code == 404
    elsewhere = f"/console/properties/{org.other_property_id}/evidence"
    assert (await api.get(elsewhere, headers=HTML)).status_code == 404
    assert await status_of(db, "f-away") == ("open", None, None)


async def test_an_admin_sees_and_dismisses_too_and_an_unknown_filter_is_ignored(api, db):
    org = await build_org(db, "fe3")
    await insert_flag(db, org, "f-1", "scan_out_of_order", staff=org.ids["staff"], at=NOW, subject="visit",
                      evidence={"scanned_at": "a", "after": "b", "minutes_back": 7.0}, score=7.0)  # fmt: skip
    await signed_in_console(api, org, "admin")
    section = f"/console/properties/{org.property_id}/evidence"
    page = await api.get(section, params={"status": "nonsense", "kind": "'; DROP"}, headers=HTML)
    assert page.status_code == 200
    assert flags_of(page.text) == {"f-1": "open"}
    assert "扫码时间比上一个点早 7 分钟 / scanned 7 min before the previous checkpoint" in page.text
    english = (await api.get(section, params={"lang": "en"}, headers=HTML)).text  # English from here on
    assert "Evidence flags" in english and "Dismiss this flag" in english and ">Evidence<" in english
    assert "扫码时间早于上一个点" in english, "the kind in Chinese first, on an English page too"
    done = await api.post(
        f"{section}/f-1/dismiss", data={"_csrf_token": csrf_of(page.text), "reason": "时钟调整 clock change"},
        headers=HTML,
    )  # fmt: skip
    assert done.status_code == 303
    assert await status_of(db, "f-1") == ("dismissed", org.ids["admin"], "时钟调整 clock change")
    empty = (await api.get(done.headers["location"], headers=HTML)).text
    assert 'id="empty"' in empty and "Dismissed by Admin" in empty, "open flags: none left; the notice says who"


async def test_the_rounds_list_counts_each_rounds_open_flags(api, db):
    org = await build_org(db, "fe4")
    await db.executemany(
        """INSERT INTO rounds (org_id, id, property_id, template_version_id, assignee_id, status, window_start,
                               window_end)
           VALUES ($1, $2, $3, 'tv1', $4, 'completed', $5, $6)""",
        [
            (
                org.org_id,
                r,
                org.property_id,
                org.ids["staff"],
                local(f"2025-06-0{i} 09:00"),
                local(f"2025-06-0{i} 11:00"),
            )
            for i, r in ((2, "r1"), (3, "r2"))
        ],
    )
    staff = org.ids["staff"]
    short = {"minutes": 9.0, "expected_minutes": 45, "share": 0.2}
    await insert_flag(db, org, "f-r1", "round_too_short", staff=staff, at=NOW, round_id="r1", subject="round",
                      evidence=short)  # fmt: skip
    await insert_flag(db, org, "f-r1-note", "no_capture_time", staff=staff, at=NOW, round_id="r1", level="note")
    await insert_flag(db, org, "f-r2", "too_fast", staff=staff, at=NOW, round_id="r2", status="dismissed")
    await signed_in_console(api, org)
    listed = await api.get(
        f"/console/properties/{org.property_id}/rounds",
        params={"status": "all", "from": "2025-06-01", "to": "2025-06-10"},
        headers=HTML,
    )
    assert listed.status_code == 200, listed.text
    rows = dict(re.findall(r'<tr data-round="(\w+)">(.*?)</tr>', listed.text, re.S))
    assert 'data-flags="1"' in rows["r1"] and "1 个证据标记" in rows["r1"]
    assert "data-flags" not in rows["r2"], "a dismissed flag is not counted"
