"""The monthly KPI totals of a trend: each month equal to property_kpis over that month; settled months kept and
read back until a write touches what they counted (a round, a result, an order of that month or before it, a
deletion), and a month whose rounds' windows are still open never kept."""

from __future__ import annotations

import msgspec

from core.access import Caller
from core.periods import resolve_period
from inspections.kpi_months import monthly_kpis
from inspections.kpis import property_kpis
from inspections.repository import kpis as kpis_sql
from tests.integration.test_kpis import NOW, arrange, local
from tests.world import build_org

LAST = NOW.date()  # 15 June 2025: the trend runs July 2024 - June 2025


async def trend(db, caller, org):
    async with db.transaction():
        return await monthly_kpis(db, caller, org.property_id, LAST, NOW)


async def matches_property_kpis(db, caller, org, months) -> None:
    for month in months:
        alone = await property_kpis(db, caller, org.property_id, month.period.from_, month.period.to, NOW)
        assert msgspec.structs.asdict(month.totals) == msgspec.structs.asdict(alone.totals), month.month


async def test_settled_months_are_kept_until_a_write_touches_them(db):
    org = await build_org(db, "km")
    await arrange(db, org)
    caller = Caller(org_id=org.org_id, user_id=org.ids["supervisor"], role="supervisor", session_id="t")

    first = await trend(db, caller, org)
    assert first[0].month.isoformat() == "2024-07-01" and len(first) == 12
    assert not any(m.kept for m in first)
    await matches_property_kpis(db, caller, org, first)
    assert first[-1].totals.rounds.completed == 1 and first[-2].totals.rounds.completed == 1  # June: r1; May: r0

    again = await trend(db, caller, org)
    assert [m.kept for m in again] == [True] * 11 + [False]  # June is in progress
    assert [m.totals for m in again] == [m.totals for m in first]

    # a result checked in May, pushed late: May and after are counted again, April and before read back
    await db.execute(
        """INSERT INTO check_results (org_id, id, property_id, round_id, checkpoint_id, item_key, outcome,
                                      checked_by, checked_at)
           VALUES ($1, 'late1', $2, 'r0', 'cpA', 'floor', 'fail', $3, $4)""",
        org.org_id,
        org.property_id,
        org.ids["staff"],
        local("2025-05-31 19:00"),
    )
    moved = await trend(db, caller, org)
    assert [m.kept for m in moved] == [True] * 10 + [False, False]
    assert moved[-2].totals.items.failed == first[-2].totals.items.failed + 1
    await matches_property_kpis(db, caller, org, moved)

    # an order made in January, changed now: every month from January is counted again
    await db.execute(
        """INSERT INTO rectification_orders (org_id, id, property_id, source, category, description, severity,
               responsible_id, reported_by, status, created_at, original_due_at, due_at)
           VALUES ($1, 'old', $2, 'manual', 'cleaning', 'old stain', 'low', $3, $3, 'open', $4, $5, $5)""",
        org.org_id,
        org.property_id,
        org.ids["staff"],
        local("2025-01-10 08:00"),
        local("2025-01-20 08:00"),
    )
    await trend(db, caller, org)
    await db.execute(
        "UPDATE rectification_orders SET status = 'submitted', submitted_at = $1 WHERE id = 'old'",
        local("2025-01-15 08:00"),
    )
    after = await trend(db, caller, org)
    assert [m.kept for m in after] == [True] * 6 + [False] * 6  # Jul-Dec 2024 kept; Jan-Jun counted
    await matches_property_kpis(db, caller, org, after)

    # a deletion moves them all
    await trend(db, caller, org)
    await db.execute("DELETE FROM rectification_orders WHERE id = 'old'")
    assert not any(m.kept for m in await trend(db, caller, org))


async def test_a_month_with_a_window_still_open_is_not_kept(db):
    org = await build_org(db, "kw")
    await arrange(db, org)
    caller = Caller(org_id=org.org_id, user_id=org.ids["supervisor"], role="supervisor", session_id="t")
    # a round of May whose window ends after NOW: its `due` turns with the clock
    await db.execute(
        """INSERT INTO rounds (org_id, id, property_id, template_version_id, assignee_id, status, window_start,
                               window_end)
           VALUES ($1, 'long', $2, 'tv1', $3, 'planned', $4, $5)""",
        org.org_id,
        org.property_id,
        org.ids["staff"],
        local("2025-05-30 09:00"),
        local("2025-06-20 09:00"),
    )
    await trend(db, caller, org)
    again = await trend(db, caller, org)
    assert [m.kept for m in again] == [True] * 10 + [False, False]
    await matches_property_kpis(db, caller, org, again)


async def test_a_result_whose_check_time_changed_moves_every_month(db):
    org = await build_org(db, "kc")
    await arrange(db, org)
    caller = Caller(org_id=org.org_id, user_id=org.ids["supervisor"], role="supervisor", session_id="t")
    await db.execute(
        """INSERT INTO check_results (org_id, id, property_id, round_id, checkpoint_id, item_key, outcome,
                                      checked_by, checked_at)
           VALUES ($1, 'march', $2, 'r0', 'cpA', 'floor', 'fail', $3, $4)""",
        org.org_id,
        org.property_id,
        org.ids["staff"],
        local("2025-03-10 09:00"),
    )
    before = await trend(db, caller, org)
    assert before[8].month.isoformat() == "2025-03-01" and before[8].totals.items.failed == 1
    assert all(m.kept for m in (await trend(db, caller, org))[:11])
    # a phone moves it to June: its row says June, March must be counted again too
    await db.execute("UPDATE check_results SET checked_at = $1 WHERE id = 'march'", local("2025-06-12 09:00"))
    after = await trend(db, caller, org)
    assert not any(m.kept for m in after)
    assert after[8].totals.items.failed == 0
    await matches_property_kpis(db, caller, org, after)


async def test_a_period_of_whole_months_sums_their_kept_result_counts(db):
    org = await build_org(db, "kr")
    await arrange(db, org)
    o, p, staff = org.org_id, org.property_id, org.ids["staff"]

    async def result(id_: str, at: str, outcome: str = "pass") -> None:
        await db.execute(
            """INSERT INTO check_results (org_id, id, property_id, round_id, checkpoint_id, item_key, outcome,
                                          checked_by, checked_at, template_version_id)
               VALUES ($1, $2, $3, 'r0', 'cpB', 'floor', $4, $5, $6, 'tv1')""",
            o,
            id_,
            p,
            outcome,
            staff,
            local(at),
        )

    await result("m1", "2025-03-03 10:00")
    await result("m2", "2025-04-30 23:59", "fail")
    caller = Caller(org_id=o, user_id=org.ids["supervisor"], role="supervisor", session_id="t")
    period = resolve_period("2025-02-15", "2025-06-10", "Asia/Shanghai", NOW)

    async def both():
        async with db.transaction():
            found = await property_kpis(db, caller, p, "2025-02-15", "2025-06-10", NOW)
        plain = await kpis_sql.item_figures(db, o, p, period.start_utc, period.end_utc)
        return found, plain

    def same(found, plain) -> None:
        totals = next(r for r in plain if r["kind"] == "total")
        assert found.totals.items.passed == totals["passed"] and found.totals.items.failed == totals["failed"]
        assert {(i.template_id, i.item_key, i.passed, i.failed, i.label_en) for i in found.by_item} == {
            (r["template_id"], r["item_key"], r["passed"], r["failed"], r["label_en"])
            for r in plain
            if r["kind"] == "item"
        }
        assert {(loc.checkpoint_id, loc.passed, loc.failed) for loc in found.by_location} == {
            (r["checkpoint_id"], r["passed"], r["failed"]) for r in plain if r["kind"] == "location"
        }
        assert {(s.user_id, s.items.passed, s.items.failed) for s in found.by_staff if s.items.judged} == {
            (r["user_id"], r["passed"], r["failed"]) for r in plain if r["kind"] == "staff"
        }

    first, plain = await both()
    same(first, plain)
    assert first.totals.items.failed == 3 and first.totals.items.passed == 5
    kept = await db.fetch(
        "SELECT start_at FROM kpi_kept_months WHERE what = 'results' AND property_id = $1 ORDER BY 1", p
    )
    assert len(kept) == 3  # March, April, May: the whole months of the period, ended
    counted_at = await db.fetchval(
        "SELECT max(counted_at) FROM kpi_kept_months WHERE what = 'results' AND property_id = $1", p
    )
    again, plain = await both()
    same(again, plain)
    assert (
        await db.fetchval("SELECT max(counted_at) FROM kpi_kept_months WHERE what = 'results' AND property_id = $1", p)
        == counted_at
    )
    # a result of April pushed late: counted
    await result("m3", "2025-04-02 08:00", "fail")
    later, plain = await both()
    same(later, plain)
    assert later.totals.items.failed == 4
