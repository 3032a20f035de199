"""The flag rate among the inspection KPIs: photos received and checkpoints scanned (the evidence items) against
the open flags the checks left on them, per person and per property, through GET /properties/{id}/kpis and
GET /kpis; a dismissed flag and a note do not count. Rows arranged with plain INSERTs (the checks themselves are
tested with the worker's job)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.access import Caller
from core.clock import FixedClock
from inspections.evidence import flags
from inspections.evidence.models import Dismissal
from inspections.kpi_months import monthly_kpis
from tests.console_world import signed_in_console
from tests.integration.test_kpis import local
from tests.pages_world import HTML
from tests.world import Org, build_org, login

NOW = datetime(2025, 6, 15, 4, 0, tzinfo=UTC)
PERIOD = {"from": "2025-06-01", "to": "2025-06-10"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


async def insert_flag(
    db,
    org: Org,
    flag_id: str,
    kind: str,
    *,
    staff: str | None,
    at: datetime,
    level: str = "flag",
    status: str = "open",
    order_id: str | None = None,
    round_id: str | None = None,
    evidence: dict | None = None,
    score: float = 1.0,
    subject: str = "photo",
    property_id: str | None = None,
) -> None:
    """A flag as the checks leave it (a dismissed one as a supervisor left it)."""
    dismissed = (org.ids["supervisor"], at, "checked on site") if status == "dismissed" else (None, None, None)
    await db.execute(
        """INSERT INTO evidence_flags (org_id, id, property_id, kind, level, subject, subject_id, round_id, order_id,
               staff_id, score, evidence, status, dismissed_by, dismissed_at, dismiss_reason, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $2, $7, $8, $9, $10, $11::jsonb, $12, $13, $14, $15, $16)""",
        org.org_id,
        flag_id,
        property_id or org.property_id,
        kind,
        level,
        subject,
        round_id,
        order_id,
        staff,
        score,
        evidence or {},
        status,
        *dismissed,
        at,
    )


async def arrange(db, org: Org) -> None:
    """In 1-10 June (local): the staff member's 3 photos and 5 scans, the supervisor's 2 photos; flags on the staff
    member's evidence: 2 open, a note, a dismissed one, and one made after the period."""
    o, p, staff, sup = org.org_id, org.property_id, org.ids["staff"], org.ids["supervisor"]
    await db.execute(
        "INSERT INTO checkpoints (org_id, id, property_id, name, tag_code) VALUES ($1, 'cpA', $2, '大堂', 'cpA')", o, p
    )
    photos = [(f"ph{i}", staff, local(f"2025-06-0{i + 2} 09:00")) for i in range(3)]
    photos += [("phs1", sup, local("2025-06-05 10:00")), ("phs2", sup, local("2025-06-06 10:00"))]
    photos += [("ph-late", staff, local("2025-06-11 00:30"))]  # after the period
    await db.executemany(
        """INSERT INTO photos (org_id, id, property_id, record_table, record_id, uploaded_by, received_at, status)
           VALUES ($1, $2, $3, 'check_results', $2, $4, $5, 'ready')""",
        [(o, *photo[:1], p, *photo[1:]) for photo in photos],
    )
    await db.execute(  # a photo on a service-desk ticket is not judged, and is not evidence here
        """INSERT INTO photos (org_id, id, property_id, record_table, record_id, uploaded_by, received_at, status)
           VALUES ($1, 'ph-ticket', $2, 'tickets', 't1', $3, $4, 'ready')""",
        o,
        p,
        staff,
        local("2025-06-04 09:00"),
    )
    scans = [(f"v{i}", staff, local(f"2025-06-0{i + 2} 09:05")) for i in range(5)]
    scans += [("v-before", staff, local("2025-05-31 23:50"))]  # before the period
    await db.executemany(
        """INSERT INTO checkpoint_visits (org_id, id, property_id, round_id, checkpoint_id, checked_by, scanned_at)
           VALUES ($1, $2, $3, 'r1', 'cpA', $4, $5)""",
        [(o, scan[0], p, *scan[1:]) for scan in scans],
    )
    await insert_flag(db, org, "f1", "time_off", staff=staff, at=local("2025-06-02 10:00"))
    await insert_flag(db, org, "f2", "too_fast", staff=staff, at=local("2025-06-03 10:00"), subject="visit")
    await insert_flag(db, org, "f3", "no_capture_time", staff=staff, at=local("2025-06-03 11:00"), level="note")
    await insert_flag(db, org, "f4", "reused_photo", staff=staff, at=local("2025-06-04 10:00"), status="dismissed")
    await insert_flag(db, org, "f5", "outside_fence", staff=staff, at=local("2025-06-11 01:00"))


async def test_the_flag_rate_is_open_flags_over_evidence_items(api, db):
    org = await build_org(db, "ev")
    await arrange(db, org)
    supervisor = await login(api, org, "supervisor")
    url = f"/properties/{org.property_id}/kpis"
    kpis = (await api.get(url, headers=supervisor, params=PERIOD)).json()
    assert kpis["totals"]["evidence"] == {"items": 10, "flags": 2, "flag_rate": 0.2}
    by_person = {s["name"]: s["evidence"] for s in kpis["by_staff"]}
    assert by_person == {
        "Staff": {"items": 8, "flags": 2, "flag_rate": 0.25},
        "Supervisor": {"items": 2, "flags": 0, "flag_rate": 0.0},
    }
    # the org's totals say the same of the property; the other property had nothing: no rate
    admin = await login(api, org, "admin")
    garden, tower = (await api.get("/kpis", headers=admin, params=PERIOD)).json()["properties"]
    assert garden["totals"]["evidence"] == {"items": 10, "flags": 2, "flag_rate": 0.2}
    assert tower["totals"]["evidence"] == {"items": 0, "flags": 0, "flag_rate": None}

    # a supervisor finds f1 fine: it stops counting, for the person and the property
    dismissed = await api.post("/evidence-flags/f1/dismiss", headers=supervisor, json={"reason": "clock was wrong"})
    assert dismissed.status_code in (200, 201), dismissed.text
    kpis = (await api.get(url, headers=supervisor, params=PERIOD)).json()
    assert kpis["totals"]["evidence"] == {"items": 10, "flags": 1, "flag_rate": 0.1}
    assert {s["name"]: s["evidence"]["flags"] for s in kpis["by_staff"]} == {"Staff": 1, "Supervisor": 0}


async def test_a_kept_months_flag_rate_is_counted_again(db):
    """A settled month's totals are kept (inspections/kpi_months.py); its evidence is counted each time, so a flag
    dismissed after the month was kept leaves its rate."""
    org = await build_org(db, "et")
    await arrange(db, org)
    admin = Caller(org_id=org.org_id, user_id=org.ids["admin"], role="admin", session_id="test")
    july = datetime(2025, 7, 15, 4, 0, tzinfo=UTC)
    first = await monthly_kpis(db, admin, org.property_id, date(2025, 6, 30), july, months=1)
    # June: 6 photos and 5 scans; f1, f2 and f5 (the 11th, still June) open
    assert (first[0].kept, first[0].totals.evidence.flags, first[0].totals.evidence.items) == (False, 3, 11)
    await flags.dismiss(db, admin, "f2", Dismissal(reason="GPS jump"), july)
    again = await monthly_kpis(db, admin, org.property_id, date(2025, 6, 30), july, months=1)
    assert (again[0].kept, again[0].totals.evidence.flags, again[0].totals.evidence.flag_rate) == (True, 2, 2 / 11)


async def test_the_console_shows_the_flag_rate_and_each_persons(api, db):
    org = await build_org(db, "ec")
    await arrange(db, org)
    console = await signed_in_console(api, org)
    page = await console.get(f"/console/properties/{org.property_id}/kpis", params=PERIOD, headers=HTML)
    assert page.status_code == 200, page.text
    assert 'data-kpi="evidence.flag_rate" data-raw="0.2"' in page.text
    assert 'data-col="flag_rate" data-raw="0.25"' in page.text
    assert 'data-col="evidence_items" data-raw="8"' in page.text
