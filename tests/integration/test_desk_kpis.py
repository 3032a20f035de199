"""Service desk KPIs through the API: tickets and events arranged with plain INSERTs, exact figures asserted.

The app runs on a FixedClock (12:00 in Shanghai on 15 June 2025); the period 1-10 June (local) has ended, so
its figures are as of 11 June 00:00 local."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.clock import FixedClock
from tests.desk_world import insert_events, insert_ticket
from tests.world import Org, build_org, login

NOW = datetime(2025, 6, 15, 4, 0, tzinfo=UTC)
PERIOD = {"from": "2025-06-01", "to": "2025-06-10"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


async def arrange(db, org: Org) -> None:
    """Ten tickets of the property in and around 1-10 June, one of the other property, and their events.
    Staff answer for T1, T2, T4, T9; the supervisor for T3, T10."""
    o, p, staff, sup = org.org_id, org.property_id, org.ids["staff"], org.ids["supervisor"]
    u1, u2 = org.unit_id, org.other_unit_id
    await db.execute(
        "INSERT INTO units (org_id, id, property_id, building_id, number) VALUES ($1, 'u3', $2, $3, '103'), "
        "($1, 'u4', $2, $3, '104')",
        o,
        p,
        org.building_id,
    )
    owner = org.ids["owner"]

    async def ticket(id: str, **given: object) -> None:
        await insert_ticket(db, o, p, id, reported_by=owner, **given)

    # T1: answered on time (1 h), resolved on time (2 h), confirmed by the owner 28 h later, visited (5), closed
    await ticket("T1", unit_id=u1, responsible_id=staff, status="closed", received_at="2025-06-02 09:00",
                 respond_due_original="2025-06-02 11:00", respond_due_at="2025-06-02 11:00",
                 resolve_due_original="2025-06-03 09:00", resolve_due_at="2025-06-03 09:00",
                 responded_at="2025-06-02 10:00", resolved_at="2025-06-02 11:00", confirmed_at="2025-06-03 15:00",
                 confirmed_via="owner", visited_at="2025-06-04 10:00", visit_rating=5,
                 closed_at="2025-06-04 10:00")  # fmt: skip
    # T2: answered late (4 h); first resolved after its first deadline (48 h) though within the extended one;
    # disputed, resolved again, auto-confirmed 72 h after that
    await ticket("T2", unit_id=u2, channel="hotline", responsible_id=staff, status="confirmed",
                 received_at="2025-06-03 08:00", respond_due_original="2025-06-03 10:00",
                 respond_due_at="2025-06-03 10:00", resolve_due_original="2025-06-04 08:00",
                 resolve_due_at="2025-06-06 08:00", responded_at="2025-06-03 12:00", resolved_at="2025-06-06 08:00",
                 confirmed_at="2025-06-09 08:00", confirmed_via="auto", reopens=1)  # fmt: skip
    # T3: a complaint never answered nor resolved: open and overdue on both counts (response promise extended)
    await ticket("T3", kind="complaint", category="cleaning", channel="front_desk", unit_id=u1,
                 responsible_id=sup, status="assigned", received_at="2025-06-04 09:00",
                 respond_due_original="2025-06-04 10:00", respond_due_at="2025-06-04 18:00",
                 resolve_due_original="2025-06-05 09:00", resolve_due_at="2025-06-05 09:00")  # fmt: skip
    # T4: a repeat of T1 (same unit and category, 4 days later); no contact recorded, resolved in 1 h (the
    # response too), then a return visit rated 2 sent it back
    await ticket("T4", unit_id=u1, responsible_id=staff, status="assigned", received_at="2025-06-06 09:00",
                 respond_due_original="2025-06-06 11:00", respond_due_at="2025-06-06 11:00",
                 resolve_due_original="2025-06-12 09:00", resolve_due_at="2025-06-12 09:00",
                 resolved_at="2025-06-06 10:00", visited_at="2025-06-08 10:00", visit_rating=2,
                 reopens=1)  # fmt: skip
    # T5: a complaint declined (no promise); T6: same unit and category after it: no repeat of a declined one
    # (a decline closes the ticket on the spot: not a closure the return visits answer for)
    await ticket("T5", kind="complaint", category="patrol", channel="web", unit_id=u2, status="declined",
                 received_at="2025-06-07 09:00", closed_at="2025-06-07 10:00")  # fmt: skip
    await ticket("T6", kind="suggestion", category="patrol", unit_id=u2, status="accepted",
                 received_at="2025-06-08 09:00", respond_due_original="2025-06-20 09:00",
                 respond_due_at="2025-06-20 09:00", resolve_due_original="2025-06-30 09:00",
                 resolve_due_at="2025-06-30 09:00")  # fmt: skip
    # T7: 23:30 on the last local day: in; T8: 00:30 the next day: out
    await ticket("T7", kind="enquiry", category="other", channel="round", location="东门",
                 received_at="2025-06-10 23:30")  # fmt: skip
    await ticket("T8", unit_id=u1, received_at="2025-06-11 00:30")
    # T9: received before the period, its resolution due in it and made only after it (12 June)
    await ticket("T9", category="greening", channel="hotline", location="花园", responsible_id=staff,
                 status="resolved", received_at="2025-05-28 09:00", respond_due_original="2025-05-28 11:00",
                 respond_due_at="2025-05-28 11:00", resolve_due_original="2025-06-01 09:00",
                 resolve_due_at="2025-06-01 09:00", responded_at="2025-05-28 10:00",
                 resolved_at="2025-06-12 09:00")  # fmt: skip
    # T10: resolved before the period, closed in it by a supervisor without a return visit
    await ticket("T10", kind="complaint", category="cleaning", unit_id=u2, responsible_id=sup, status="closed",
                 received_at="2025-05-30 09:00", respond_due_original="2025-05-30 11:00",
                 respond_due_at="2025-05-30 11:00", resolve_due_original="2025-05-31 12:00",
                 resolve_due_at="2025-05-31 12:00", responded_at="2025-05-30 10:00",
                 resolved_at="2025-05-31 10:00", closed_at="2025-06-02 10:00")  # fmt: skip
    await insert_ticket(db, o, org.other_property_id, "T12", kind="complaint", reported_by=owner,
                        received_at="2025-06-05 09:00")  # fmt: skip
    applied = "applied"
    await insert_events(db, o, p, [
        ("T1", "accept", "2025-06-02 09:05", "accepted", None, applied),
        ("T1", "respond", "2025-06-02 10:00", "responded", None, applied),
        ("T1", "resolve", "2025-06-02 11:00", "resolved", None, applied),
        ("T1", "confirm", "2025-06-03 15:00", "confirmed", None, applied),
        ("T1", "visit", "2025-06-04 10:00", "closed", 5, applied),
        ("T1", "visit", "2025-06-04 11:00", None, 1, "pending"),  # never applied: not a visit, not a reopen
        ("T2", "respond", "2025-06-03 12:00", "responded", None, applied),
        ("T2", "extend", "2025-06-04 07:00", None, None, applied),
        ("T2", "resolve", "2025-06-05 08:00", "resolved", None, applied),
        ("T2", "dispute", "2025-06-05 20:00", "assigned", None, applied),
        ("T2", "resolve", "2025-06-06 08:00", "resolved", None, applied),
        ("T2", "confirm", "2025-06-09 08:00", "confirmed", None, applied),
        ("T3", "resolve", "2025-06-04 12:00", None, None, "refused"),  # a phone's request the rules refused
        ("T4", "resolve", "2025-06-06 10:00", "resolved", None, applied),
        ("T4", "visit", "2025-06-08 10:00", "assigned", 2, applied),
        ("T9", "accept", "2025-05-28 09:05", "accepted", None, applied),
        ("T9", "respond", "2025-05-28 10:00", "responded", None, applied),
        ("T9", "resolve", "2025-06-12 09:00", "resolved", None, applied),
        ("T10", "resolve", "2025-05-31 10:00", "resolved", None, applied),
        ("T10", "close", "2025-06-02 10:00", "closed", None, applied),
    ])  # fmt: skip


CONFIRMATION = {"confirmed": 2, "by_owner": 1, "by_staff": 0, "auto_confirmed": 1, "mean_hours_to_confirm": 50.0}
TOTALS = {
    "intake": {"received": 7, "declined": 1, "complaints": 2, "repeats": 1, "repeat_rate": 1 / 7},  # T1-T7
    "response": {
        "due": 4,  # T1, T2, T3, T4
        "on_time": 2,  # T1; T4 by its resolution
        "late": 1,  # T2
        "not_responded": 1,  # T3, open and overdue
        "extended": 1,  # T3
        "on_time_rate": 0.5,
        "responded": 3,  # T1, T2, T4
        "mean_hours_to_respond": 2.0,  # (1 + 4 + 1) / 3
    },
    "resolution": {
        "due": 4,  # T1, T2, T3, T9
        "on_time": 1,  # T1
        "late": 1,  # T2: after its first deadline, though before the extended one
        "not_resolved": 2,  # T3, and T9 (resolved only after the period)
        "extended": 1,  # T2
        "on_time_rate": 0.25,
        "resolved": 3,  # T1, T2, T4 (first resolutions in the period)
        "mean_hours_to_resolve": 17.0,  # (2 + 48 + 1) / 3
        "first_time_fixed": 1,  # T1
        "reopened": 2,  # T2 (disputed), T4 (visit rated 2)
        "first_time_fix_rate": 1 / 3,
    },
    "confirmation": CONFIRMATION,  # T1 (28 h), T2 (72 h from its latest resolution)
    "visits": {
        "closed": 2,  # T1, T10
        "closed_after_visit": 1,  # T1
        "visit_coverage": 0.5,
        "rated_visits": 2,  # T1's 5, T4's 2
        "mean_rating": 3.5,
        "low_ratings": 1,
    },
}
REPAIRS = {  # T1, T2, T4 received; T9's resolution due
    "intake": {"received": 3, "declined": 0, "complaints": 0, "repeats": 1, "repeat_rate": 1 / 3},
    "response": {**TOTALS["response"], "due": 3, "not_responded": 0, "extended": 0, "on_time_rate": 2 / 3},
    "resolution": {**TOTALS["resolution"], "due": 3, "not_resolved": 1, "on_time_rate": 1 / 3},
    "confirmation": CONFIRMATION,
    "visits": {**TOTALS["visits"], "closed": 1, "visit_coverage": 1.0},
}
NOTHING_DONE = {
    "response": {"responded": 0, "mean_hours_to_respond": None},
    "confirmation": {**dict.fromkeys(CONFIRMATION, 0), "mean_hours_to_confirm": None},
}
COMPLAINTS = {  # T3, T5 received; T10 closed without a visit
    "intake": {"received": 2, "declined": 1, "complaints": 2, "repeats": 0, "repeat_rate": 0.0},
    "response": {
        **NOTHING_DONE["response"],
        "due": 1,
        "on_time": 0,
        "late": 0,
        "not_responded": 1,
        "extended": 1,
        "on_time_rate": 0.0,
    },
    "resolution": {
        "due": 1,
        "on_time": 0,
        "late": 0,
        "not_resolved": 1,
        "extended": 0,
        "on_time_rate": 0.0,
        "resolved": 0,
        "mean_hours_to_resolve": None,
        "first_time_fixed": 0,
        "reopened": 0,
        "first_time_fix_rate": None,
    },
    "confirmation": NOTHING_DONE["confirmation"],
    "visits": {
        "closed": 1,
        "closed_after_visit": 0,
        "visit_coverage": 0.0,
        "rated_visits": 0,
        "mean_rating": None,
        "low_ratings": 0,
    },
}


def figures(row: dict) -> dict:
    return {k: row[k] for k in TOTALS}


async def test_desk_kpis_count_exactly_what_the_period_holds(api, db):
    org = await build_org(db, "dk")
    await arrange(db, org)
    supervisor = await login(api, org, "supervisor")
    url = f"/properties/{org.property_id}/service-desk/kpis"
    answer = await api.get(url, headers=supervisor, params=PERIOD)
    assert answer.status_code == 200, answer.text
    kpis = answer.json()
    assert kpis["period"]["start_utc"] == "2025-05-31T16:00:00Z"
    assert kpis["totals"] == TOTALS
    assert (kpis["households"], kpis["complaints_per_100_households"]) == (4, 50.0)
    by_kind = {k["kind"]: k for k in kpis["by_kind"]}
    assert list(by_kind) == ["complaint", "enquiry", "repair", "suggestion"]
    assert figures(by_kind["repair"]) == REPAIRS
    assert figures(by_kind["complaint"]) == COMPLAINTS
    # by person: the staff answer for the repairs; tickets nobody answers for are in the totals only
    staff, sup = org.ids["staff"], org.ids["supervisor"]
    assert [(s["user_id"], s["name"]) for s in kpis["by_staff"]] == [(staff, "Staff"), (sup, "Supervisor")]
    assert figures(kpis["by_staff"][0]) == REPAIRS
    assert kpis["by_staff"][1]["intake"] == {**COMPLAINTS["intake"], "received": 1, "declined": 0, "complaints": 1}
    by_category = {c["category"]: c for c in kpis["by_category"]}
    assert list(by_category) == ["cleaning", "engineering", "greening", "other", "patrol"]
    assert by_category["engineering"]["resolution"] == {
        **REPAIRS["resolution"],
        "due": 2,
        "not_resolved": 0,
        "on_time_rate": 0.5,
    }
    assert by_category["patrol"]["intake"]["repeats"] == 0  # T6 follows T5, declined
    by_channel = {c["channel"]: c["intake"]["received"] for c in kpis["by_channel"]}
    assert by_channel == {"app": 3, "front_desk": 1, "hotline": 1, "round": 1, "web": 1}
    assert kpis["monthly"] == [
        {
            "month": "2025-06",
            "received": 7,
            "by_kind": {"repair": 3, "complaint": 2, "suggestion": 1, "enquiry": 1},
            "by_category": {"engineering": 3, "cleaning": 1, "patrol": 2, "other": 1},
            "by_outcome": {"closed": 1, "resolved": 1, "open": 3, "declined": 1, "pending": 1},
        }
    ]


async def test_the_period_is_local_days_and_figures_are_as_of_its_end(api, db):
    org = await build_org(db, "dz")
    await arrange(db, org)
    admin = await login(api, org, "admin")
    url = f"/properties/{org.property_id}/service-desk/kpis"
    # one more local day takes in T8 (00:30 on 11 June)
    longer = (await api.get(url, headers=admin, params={**PERIOD, "to": "2025-06-11"})).json()
    assert longer["totals"]["intake"]["received"] == 8
    # starting a local day later drops nothing received, but T9's deadline (09:00 on 1 June)
    later = (await api.get(url, headers=admin, params={**PERIOD, "from": "2025-06-02"})).json()
    assert later["totals"]["resolution"]["due"] == 3
    # from late May: two local months; T9 was still open when the period ended (resolved on 12 June)
    months = (await api.get(url, headers=admin, params={**PERIOD, "from": "2025-05-25"})).json()["monthly"]
    assert months[0] == {
        "month": "2025-05",
        "received": 2,
        "by_kind": {"repair": 1, "complaint": 1},
        "by_category": {"greening": 1, "cleaning": 1},
        "by_outcome": {"open": 1, "closed": 1},
    }
    # up to now, T9's resolution counts (late: after its first deadline)
    now = (await api.get(url, headers=admin, params={"from": "2025-06-01", "to": "2025-06-15"})).json()
    assert now["totals"]["resolution"]["late"] == 2
    assert now["totals"]["resolution"]["resolved"] == 4
    empty = (await api.get(url, headers=admin, params={"from": "2024-01-01", "to": "2024-01-31"})).json()
    assert empty["totals"]["response"] == {**dict.fromkeys(TOTALS["response"], 0)} | {
        "on_time_rate": None,
        "mean_hours_to_respond": None,
    }
    assert (empty["by_kind"], empty["by_staff"], empty["monthly"]) == ([], [], [])


async def test_the_org_and_property_kpis_carry_the_service_desk_beside_inspections(api, db):
    org = await build_org(db, "do")
    await arrange(db, org)
    admin = await login(api, org, "admin")
    answer = await api.get("/kpis", headers=admin, params=PERIOD)
    assert answer.status_code == 200, answer.text
    garden, tower = answer.json()["properties"]
    assert set(garden) == {"property_id", "name", "period", "totals", "service_desk"}
    assert garden["totals"]["rounds"]["due"] == 0  # the inspections' figures, where they were
    assert garden["service_desk"] == {"households": 4, "complaints_per_100_households": 50.0, "totals": TOTALS}
    assert tower["service_desk"]["households"] == 0
    assert tower["service_desk"]["complaints_per_100_households"] is None
    assert tower["service_desk"]["totals"]["intake"]["complaints"] == 1
    one = await api.get(f"/properties/{org.property_id}/kpis", headers=admin, params=PERIOD)
    assert one.status_code == 200, one.text
    assert one.json()["service_desk"]["totals"] == TOTALS
    assert "by_staff" in one.json() and "by_kind" not in one.json()["service_desk"]


async def test_only_the_propertys_supervisors_and_admins_see_its_desk_figures(api, db):
    org, other = await build_org(db, "da"), await build_org(db, "db")
    for path in ("kpis", "ledger"):
        url = f"/properties/{org.property_id}/service-desk/{path}"
        for who in ("staff", "owner"):
            refused = await api.get(url, headers=await login(api, org, who))
            assert refused.status_code == 403, (path, who)
        for who in ("admin", "supervisor"):
            hidden = await api.get(url, headers=await login(api, other, who))
            assert hidden.status_code == 404, (path, who)
        elsewhere = await api.get(
            f"/properties/{org.other_property_id}/service-desk/{path}",
            headers=await login(api, org, "supervisor"),
        )
        assert elsewhere.status_code == 404, path
        backwards = await api.get(
            url, headers=await login(api, org, "admin"), params={"from": "2025-06-10", "to": "2025-06-01"}
        )
        assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "from"
