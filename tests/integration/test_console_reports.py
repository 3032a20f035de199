"""The console's reports page over real HTTP, as a desk's browser uses it: the periods and their states, a report
asked for by a form and made by the worker, its PDF and state by cookie; another property a 404 page, bad and
future periods a 422 page saying what a period is, a forged form and staff refused — never a 500, nothing made."""

from __future__ import annotations

import pytest

from core.clock import FixedClock
from tests.console_world import console_sign_in, post_form, signed_in_console
from tests.pages_world import HTML
from tests.report_world import REPORT_TIME, build_month, run_queued_jobs
from tests.world import build_org


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(REPORT_TIME)


async def test_a_report_asked_for_on_the_page_is_made_and_downloaded(api, db, settings, clock):
    org, _ = await build_month(api, db, clock, "cq")
    await signed_in_console(api, org, "supervisor")
    page = f"/console/properties/{org.property_id}/reports"
    listed = await api.get(page, headers=HTML)
    assert listed.status_code == 200
    # this month so far, the two before, this quarter so far and the one before, in the property's zone
    for period in ("2025-07", "2025-06", "2025-05", "2025-Q3", "2025-Q2"):
        assert f'id="r-{period}"' in listed.text
    assert listed.text.count("未生成") == 5

    asked = await post_form(api, page, page, period="2025-06")
    assert asked.status_code == 303 and asked.headers["location"] == f"{page}#r-2025-06"
    queued = await api.get(page, headers=HTML)
    assert "排队中" in queued.text and "第 0 / 19 步" in queued.text and "刷新" in queued.text
    state = (await api.get(f"{page}/2025-06.json")).json()
    assert (state["status"], state["progress"], state["total"]) == ("queued", 0, 19)
    assert (await api.get(f"{page}/2025-06.pdf", headers=HTML)).status_code == 404  # not made yet

    assert await run_queued_jobs(settings, clock) == 1
    made = await api.get(page, headers=HTML)
    assert "已生成" in made.text and f'href="{page}/2025-06.pdf"' in made.text and "刷新" not in made.text
    pdf = await api.get(f"{page}/2025-06.pdf", headers=HTML)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and "2025-06-report.pdf" in pdf.headers["content-disposition"]

    again = await post_form(api, page, page, period="2025-06", again="1")
    assert again.status_code == 303
    assert await db.fetchval("SELECT array_agg(version ORDER BY version) FROM reports") == [1, 2]
    # the page shows the newest version: queued again (the first's PDF is not offered meanwhile)
    assert "排队中" in (await api.get(page, headers=HTML)).text


@pytest.mark.parametrize(
    ("period", "says"),
    [
        ("2025-13", "01-12"),
        ("garbage", "YYYY-MM"),
        ("", "YYYY-MM"),
        ("2025-08", "has not begun"),
        ("2099-Q1", "has not begun"),
    ],
)
async def test_a_bad_or_future_period_is_a_clear_page(api, db, clock, period, says):
    org = await build_org(db, "cb")
    await signed_in_console(api, org, "supervisor")
    page = f"/console/properties/{org.property_id}/reports"
    refused = await post_form(api, page, page, period=period)
    assert refused.status_code == 422 and says in refused.text and "<html" in refused.text
    if period:
        assert (await api.get(f"{page}/{period}.pdf", headers=HTML)).status_code == 422
    assert await db.fetchval("SELECT count(*) FROM reports") == 0


async def test_another_property_a_forged_form_and_staff_are_refused(api, db, clock):
    org = await build_org(db, "cz")
    await signed_in_console(api, org, "supervisor")
    page = f"/console/properties/{org.property_id}/reports"
    other = f"/console/properties/{org.other_property_id}/reports"
    assert (await api.get(other, headers=HTML)).status_code == 404
    assert (await api.get(f"{other}/2025-06.pdf", headers=HTML)).status_code == 404
    assert (await post_form(api, page, other, period="2025-06")).status_code == 404
    assert (await api.get(f"{page}/2025-06.txt", headers=HTML)).status_code == 404
    assert (await api.get(f"{page}/nothing", headers=HTML)).status_code == 404
    forged = await api.post(page, data={"_csrf_token": "forged", "period": "2025-06"}, headers=HTML)
    assert forged.status_code == 403
    assert await db.fetchval("SELECT count(*) FROM reports") == 0

    api.cookies.clear()
    staff = await console_sign_in(api, org.email("staff"))
    assert staff.status_code == 403
    assert (await api.get(page, headers=HTML)).status_code == 303  # no session: to the sign-in
