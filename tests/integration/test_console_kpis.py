"""The console's KPI page over real HTTP: exactly the numbers of GET /properties/{id}/kpis for the same period,
each headline's 12-month trend equal to the KPIs of each month, the per-staff table sorted on the server, the
records behind a figure, bad dates as a clear page, and the scope."""

from __future__ import annotations

import re

import pytest

from core.clock import FixedClock
from inspections.kpi_months import months_to
from tests.console_world import signed_in_console
from tests.desk_world import insert_ticket
from tests.integration.test_kpis import NOW, PERIOD, arrange
from tests.pages_world import HTML
from tests.world import build_org, login

HEADLINES = re.compile(r'class="value" data-(kpi|desk)="([a-z_.]+)" data-raw="([^"]*)"')
CELL = re.compile(r'<td class="num" data-kpi="([a-z_.]+)" data-raw="([^"]*)"')


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)  # 12:00 in Shanghai, 15 June 2025


def value(raw: str) -> float | int | None:
    return None if raw == "" else float(raw)


def dig(found: dict, where: str):
    for name in where.split("."):
        found = found[name]
    return found


async def test_the_page_shows_exactly_the_apis_numbers(api, db):
    org = await build_org(db, "kp")
    await arrange(db, org)
    await insert_ticket(
        db, org.org_id, org.property_id, "k1", received_at="2025-06-02 10:00", reported_by=org.ids["owner"]
    )
    bearer = await login(api, org, "supervisor")
    await signed_in_console(api, org)
    page = await api.get(f"/console/properties/{org.property_id}/kpis", params=PERIOD, headers=HTML)
    assert page.status_code == 200, page.text
    told = (await api.get(f"/properties/{org.property_id}/kpis", params=PERIOD, headers=bearer)).json()

    shown = HEADLINES.findall(page.text)
    assert [w for kind, w, _ in shown if kind == "kpi"] == [
        "rounds.completion_rate",
        "visits.on_time_rate",
        "items.pass_rate",
        "rectification.on_time_rate",
        "rectification.reopen_rate",
        "reviews.mean_review_hours",
        "evidence.flag_rate",
    ]
    for kind, where, raw in shown:
        expected = dig(told["totals"] if kind == "kpi" else told["service_desk"]["totals"], where)
        assert value(raw) == expected, where
    assert value(dict((w, r) for _, w, r in shown)["intake.received"]) == 1
    # and as a person reads them
    assert ">33.3%<" in page.text and ">40.0%<" in page.text and ">19.5 小时<" in page.text
    assert 'name="from" value="2025-06-01"' in page.text


async def test_each_months_trend_is_the_kpis_of_that_month(api, db):
    org = await build_org(db, "kt")
    await arrange(db, org)
    bearer = await login(api, org, "supervisor")
    await signed_in_console(api, org)
    page = await api.get(f"/console/properties/{org.property_id}/kpis", params=PERIOD, headers=HTML)
    rows = re.findall(r'<tr data-month="(\d{4}-\d{2})">(.*?)</tr>', page.text, re.S)
    months = months_to(NOW.date().replace(day=10), 12)
    assert [m for m, _ in rows] == [first.strftime("%Y-%m") for first, _ in months]
    assert rows[0][0] == "2024-07" and rows[-1][0] == "2025-06"
    assert page.text.count("<svg") == 7
    for (first, last), (_, cells) in zip(months, rows, strict=True):
        month = {"from": first.isoformat(), "to": last.isoformat()}
        told = (await api.get(f"/properties/{org.property_id}/kpis", params=month, headers=bearer)).json()
        found = CELL.findall(cells)
        assert len(found) == 7
        for where, raw in found:
            assert value(raw) == dig(told["totals"], where), (first, where)
    # the months with work in them are not all empty
    assert any(raw for _, raw in CELL.findall(rows[-2][1] + rows[-1][1]))


async def test_the_staff_table_sorts_by_any_column(api, db):
    org = await build_org(db, "ks")
    await arrange(db, org)
    await signed_in_console(api, org)
    page = f"/console/properties/{org.property_id}/kpis"
    staff, sup = org.ids["staff"], org.ids["supervisor"]

    def people(html: str) -> list[str]:
        return re.findall(r'<tr data-user="(\w+)">', html)

    # completion: staff 1/2 (r1 completed, r2 missed), supervisor 0/1 (r3 past its window)
    down = await api.get(page, params={**PERIOD, "sort": "completion", "dir": "desc"}, headers=HTML)
    assert people(down.text) == [staff, sup] and 'aria-sort="descending"' in down.text
    up = await api.get(page, params={**PERIOD, "sort": "completion", "dir": "asc"}, headers=HTML)
    assert people(up.text) == [sup, staff] and 'aria-sort="ascending"' in up.text
    # the header links keep the period and turn the order round
    assert "sort=completion&amp;dir=asc" in down.text and "sort=completion&amp;dir=desc" in up.text
    by_name = await api.get(page, params={**PERIOD, "sort": "name"}, headers=HTML)
    assert people(by_name.text) == [staff, sup]  # Staff, Supervisor
    odd = await api.get(page, params={**PERIOD, "sort": "nonsense"}, headers=HTML)
    assert odd.status_code == 200 and people(odd.text) == [staff, sup]


async def test_a_figure_drills_down_to_the_orders_behind_it(api, db):
    org = await build_org(db, "kd")
    await arrange(db, org)
    await signed_in_console(api, org)
    base = f"/console/properties/{org.property_id}"
    page = await api.get(f"{base}/kpis", params=PERIOD, headers=HTML)
    link = f"{base}/kpis/orders?figure=due_not_handed_in&amp;from=2025-06-01&amp;to=2025-06-10"
    assert link in page.text
    behind = await api.get(link.replace("&amp;", "&"), headers=HTML)
    assert behind.status_code == 200
    assert re.findall(r'data-order="(o\d)"', behind.text) == ["o7", "o3"]  # by first deadline
    assert 'href="/console/orders/o7"' in behind.text
    reopened = await api.get(f"{base}/kpis/orders", params={**PERIOD, "figure": "reopened"}, headers=HTML)
    assert re.findall(r'data-order="(o\d)"', reopened.text) == ["o2", "o5"]
    missed = f"{base}/rounds?status=missed&amp;from=2025-06-01&amp;to=2025-06-10"
    assert missed in page.text
    rounds = await api.get(missed.replace("&amp;", "&"), headers=HTML)
    assert re.findall(r'data-round="(\w+)"', rounds.text) == ["r2"]
    unknown = await api.get(f"{base}/kpis/orders", params={**PERIOD, "figure": "nonsense"}, headers=HTML)
    assert unknown.status_code == 422


@pytest.mark.parametrize(
    ("tag", "period", "field"),
    [
        ("kb1", {"from": "2025-02-30"}, "from"),
        ("kb2", {"from": "2025-06-10", "to": "2025-06-01"}, "from"),
        ("kb3", {"to": "yesterday"}, "to"),
        ("kb4", {"from": "2020-01-01", "to": "2025-01-01"}, "to"),
    ],
)
async def test_bad_dates_are_a_clear_page(api, db, tag, period, field):
    org = await build_org(db, tag)
    await signed_in_console(api, org)
    page = f"/console/properties/{org.property_id}/kpis"
    shown = await api.get(page, params=period, headers=HTML)
    assert shown.status_code == 422 and 'role="alert"' in shown.text
    words = {"from": "开始日期", "to": "结束日期"}[field]
    assert f'<li data-field="console.kpis.{field}">{words}：' in shown.text
    assert 'name="from"' in shown.text  # the form stays, to put it right
    as_api = await api.get(page, params=period)
    assert as_api.status_code == 422 and as_api.headers["content-type"].startswith("application/problem+json")
