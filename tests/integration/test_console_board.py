"""The console's board over real HTTP: a property's day as it stands (rounds by standing, orders by deadline with
the overdue first, tickets waiting), the fragment board.js swaps in, the lists behind the figures, and the scope
(another property is a 404 page; an API client gets problem+json)."""

from __future__ import annotations

import re

import pytest

from core.clock import FixedClock
from inspections.repository import work
from tests.console_world import signed_in_console
from tests.desk_world import insert_ticket
from tests.integration.test_kpis import NOW, arrange, local
from tests.pages_world import HTML
from tests.world import Org, build_org


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)  # 12:00 in Shanghai, 15 June 2025


async def arrange_today(db, org: Org) -> None:
    """test_kpis' rounds and orders (1-12 June), and the rounds of 15 June as they stand at 12:00."""
    await arrange(db, org)
    o, p, staff, sup = org.org_id, org.property_id, org.ids["staff"], org.ids["supervisor"]
    await db.execute(
        """INSERT INTO routes (org_id, id, property_id, name, stops) VALUES ($1, 'rt1', $2, '夜间巡逻 Night', '[]')""",
        o,
        p,
    )
    # fmt: off
    await db.executemany(
        """INSERT INTO rounds (org_id, id, property_id, template_version_id, route_id, assignee_id, status,
                               window_start, window_end)
           VALUES ($1, $2, $3, 'tv1', $4, $5, $6, $7, $8)""",
        [
            (o, "b1", p, "rt1", staff, "planned", local("2025-06-15 14:00"), local("2025-06-15 16:00")),
            (o, "b2", p, "rt1", staff, "planned", local("2025-06-15 08:00"), local("2025-06-15 10:00")),  # late
            (o, "b3", p, None, sup, "in_progress", local("2025-06-15 11:00"), local("2025-06-15 13:00")),
            (o, "b4", p, None, staff, "in_progress", local("2025-06-15 09:00"), local("2025-06-15 11:00")),  # late
            (o, "b5", p, None, staff, "completed", local("2025-06-15 07:00"), local("2025-06-15 09:00")),
            (o, "b6", p, None, staff, "missed", local("2025-06-15 06:00"), local("2025-06-15 07:00")),
            (o, "b7", p, None, staff, "planned", local("2025-06-16 09:00"), local("2025-06-16 10:00")),  # tomorrow
            (o, "b8", org.other_property_id, None, org.ids["elsewhere"], "planned", local("2025-06-15 08:00"),
             local("2025-06-15 10:00")),
        ],
    )
    # fmt: on
    await work.count_visits(db, o, ["b1", "b2", "b3", "b4", "b5", "b6"])


def figures(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="([a-z_.]+)">([0-9+]+)<', html))


async def test_the_board_shows_the_day_as_it_stands(api, db):
    org = await build_org(db, "bd")
    await arrange_today(db, org)
    await insert_ticket(
        db, org.org_id, org.property_id, "k1", received_at="2025-06-15 10:00", reported_by=org.ids["owner"]
    )
    await insert_ticket(
        db,
        org.org_id,
        org.property_id,
        "k2",
        received_at="2025-06-15 09:00",
        status="accepted",
        reported_by=org.ids["owner"],
    )
    await signed_in_console(api, org)
    home = f"/console/properties/{org.property_id}"

    board = await api.get(home, headers=HTML)
    assert board.status_code == 200, board.text
    assert figures(board.text) == {
        "rounds.planned": "1",  # b1
        "rounds.in_progress": "1",  # b3
        "rounds.late": "2",  # b2 (planned, window closed), b4 (walking, window closed)
        "rounds.missed": "1",
        "rounds.completed": "1",
        "orders.overdue": "3",  # o7, o3, o6 (past their deadlines in force, not verified)
        "orders.total": "5",  # and o5, o4
        "orders.submitted": "1",  # o4
        "tickets.waiting": "1",  # k1 (k2 is accepted)
    }
    # orders by deadline, the overdue first, each linking to its page
    assert re.findall(r'data-order="(o\d)"', board.text) == ["o7", "o3", "o6", "o5", "o4"]
    assert 'href="/console/orders/o7"' in board.text
    assert "2025年6月15日 12:00" in board.text  # when the figures were read, in the property's zone
    assert f'<a href="{home}" class="refresh-link">刷新</a>' in board.text  # with JavaScript off
    assert f'href="{home}/rounds?status=late&amp;from=2025-06-15&amp;to=2025-06-15"' in board.text
    assert 'src="/static/board.js' in board.text and 'data-refresh="45"' in board.text

    # the properties list says each property's orders at a glance (the other property is not listed)
    listed = await api.get("/console", headers=HTML)
    assert re.findall(r'data-summary="(\w+)">([^<]+)<', listed.text) == [
        ("overdue", "逾期整改单 3"),
        ("submitted", "待审核 1"),
    ]

    # the fragment board.js fetches: the figures alone, no frame
    part = await api.get(home, params={"part": "figures", "lang": "en"}, headers=HTML)
    assert part.status_code == 200 and "<html" not in part.text and "<nav" not in part.text
    assert figures(part.text) == figures(board.text)
    assert "15 Jun 2025, 12:00" in part.text
    assert 'data-refresh="2"' in (await api.get(home, params={"refresh": "2"}, headers=HTML)).text


async def test_a_figure_opens_the_rounds_behind_it(api, db):
    org = await build_org(db, "bl")
    await arrange_today(db, org)
    await signed_in_console(api, org)
    rounds = f"/console/properties/{org.property_id}/rounds"
    late = await api.get(rounds, params={"status": "late", "from": "2025-06-15", "to": "2025-06-15"}, headers=HTML)
    assert late.status_code == 200
    assert re.findall(r'data-round="(\w+)"', late.text) == ["b2", "b4"]  # by window
    assert "夜间巡逻 Night" in late.text and "已超时" in late.text
    today = await api.get(rounds, headers=HTML)  # default: today, all
    assert re.findall(r'data-round="(\w+)"', today.text) == ["b6", "b5", "b2", "b4", "b3", "b1"]
    missed = await api.get(rounds, params={"status": "missed", "from": "2025-06-01", "to": "2025-06-10"}, headers=HTML)
    assert re.findall(r'data-round="(\w+)"', missed.text) == ["r2"]
    # test_kpis' r6 is planned without a window: planned, not late, not left without a standing (it was a 500)
    june = await api.get(rounds, params={"status": "all", "from": "2025-06-01", "to": "2025-06-10"}, headers=HTML)
    assert june.status_code == 200 and "r6" in re.findall(r'data-round="(\w+)"', june.text)
    planned = await api.get(
        rounds, params={"status": "planned", "from": "2025-06-01", "to": "2025-06-10"}, headers=HTML
    )
    assert "r6" in re.findall(r'data-round="(\w+)"', planned.text)
    bad = await api.get(rounds, params={"status": "sideways"}, headers=HTML)
    assert bad.status_code == 422 and "status" in bad.text
    worse = await api.get(rounds, params={"from": "2025-13-01"}, headers=HTML)
    assert worse.status_code == 422 and "from" in worse.text


async def test_another_property_is_a_404_page_and_an_api_client_gets_json(api, db):
    org = await build_org(db, "bo")
    await signed_in_console(api, org)
    for path in ("", "/rounds", "/kpis", "/kpis/orders"):
        other = await api.get(f"/console/properties/{org.other_property_id}{path}", headers=HTML)
        assert other.status_code == 404 and "<html" in other.text, path
        missing = await api.get(f"/console/properties/nowhere{path}", headers=HTML)
        assert missing.status_code == 404, path
    as_api = await api.get(f"/console/properties/{org.other_property_id}")
    assert as_api.status_code == 404 and as_api.headers["content-type"].startswith("application/problem+json")
