"""Inspection KPIs through the API: rows arranged with plain INSERTs, exact figures asserted.

The app runs on a FixedClock (12:00 in Shanghai on 15 June 2025), so "due" and "overdue" and the default period
do not depend on the day the tests run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.clock import FixedClock
from core.db import connect
from core.errors import Invalid
from core.migrate import load_migrations, migrate
from inspections.kpis import resolve_period
from inspections.repository import work
from tests.conftest import scratch_database
from tests.world import Org, build_org, login

NOW = datetime(2025, 6, 15, 4, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIOD = {"from": "2025-06-01", "to": "2025-06-10"}


def local(text: str) -> datetime:
    """A wall-clock time in Shanghai (the properties' zone in tests/world.py), as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def clock() -> FixedClock:
    """The app's clock (tests/conftest.py serves the app with it), fixed at NOW."""
    return FixedClock(NOW)


def items(*entries: tuple[str, str, str]) -> list[dict[str, object]]:
    return [{"type": "pass_fail", "key": k, "label_zh": zh, "label_en": en} for k, zh, en in entries]


async def arrange(db, org: Org) -> None:
    """Two template versions (v2 relabels `floor` and drops `bins`), two checkpoints, and rounds, visits,
    results and orders in and around the period 1-10 June 2025 (local)."""
    o, p, staff, sup = org.org_id, org.property_id, org.ids["staff"], org.ids["supervisor"]
    await db.execute("INSERT INTO checklist_templates (org_id, id, current_version) VALUES ($1, 't1', 2)", o)
    await db.executemany(
        """INSERT INTO template_versions (org_id, id, template_id, version, name_zh, name_en, category, items)
           VALUES ($1, $2, 't1', $3, '公共区域', 'Common areas', 'cleaning', $4)""",
        [
            (o, "tv1", 1, items(("floor", "地面", "Floor"), ("lights", "灯光", "Lights"), ("bins", "垃圾桶", "Bins"))),
            (o, "tv2", 2, items(("floor", "地面清洁", "Floor clean"), ("lights", "灯光", "Lights"))),
        ],
    )
    await db.executemany(
        "INSERT INTO checkpoints (org_id, id, property_id, name, tag_code) VALUES ($1, $2, $3, $4, $2)",
        [(o, "cpA", p, "大堂 Lobby"), (o, "cpB", p, "车库 Garage")],
    )
    # fmt: off
    await db.executemany(
        """INSERT INTO rounds (org_id, id, property_id, template_version_id, assignee_id, status, window_start,
                               window_end, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, now()))""",
        [
            (o, "r1", p, "tv1", staff, "completed", local("2025-06-02 09:00"), local("2025-06-02 11:00"), None),
            (o, "r2", p, "tv2", staff, "missed", local("2025-06-03 09:00"), local("2025-06-03 11:00"), None),
            (o, "r3", p, "tv1", sup, "in_progress", local("2025-06-05 09:00"), local("2025-06-05 11:00"), None),
            # 23:30 on the last local day: in; 00:30 the next local day: out
            (o, "r4", p, "tv1", sup, "planned", local("2025-06-10 23:30"), local("2025-06-16 00:00"), None),
            (o, "r5", p, "tv1", staff, "planned", local("2025-06-11 00:30"), local("2025-06-11 02:00"), None),
            # no window: in the period by when it was made
            (o, "r6", p, "tv2", staff, "planned", None, None, local("2025-06-04 10:00")),
            # before the period (its results may still be checked inside it)
            (o, "r0", p, "tv1", staff, "completed", local("2025-05-31 18:00"), local("2025-05-31 23:50"), None),
            (o, "rx", org.other_property_id, "tv1", org.ids["elsewhere"], "completed", local("2025-06-02 09:00"),
             local("2025-06-02 10:00"), None),
        ],
    )
    # fmt: on
    await db.executemany(
        """INSERT INTO checkpoint_visits (org_id, id, property_id, round_id, checkpoint_id, timing)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        [
            (o, "v1", p, "r1", "cpA", "on_time"),
            (o, "v2", p, "r1", "cpB", "late"),
            (o, "v3", p, "r1", "cpA", "early"),
            (o, "v4", p, "r2", "cpB", "missed"),
            (o, "v5", p, "r2", "cpA", None),  # no timing: not in the on-time rate
            (o, "v6", p, "r3", "cpA", "on_time"),
            (o, "v7", p, "r5", "cpA", "on_time"),  # round outside the period
            (o, "v8", p, "r0", "cpA", "late"),  # round outside the period
        ],
    )
    await db.executemany(
        """INSERT INTO check_results (org_id, id, property_id, round_id, checkpoint_id, item_key, outcome,
                                      checked_by, checked_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        [
            (o, "c1", p, "r1", "cpA", "floor", "pass", staff, local("2025-06-02 09:10")),
            (o, "c2", p, "r1", "cpB", "floor", "fail", staff, local("2025-06-02 09:20")),
            (o, "c3", p, "r1", "cpA", "lights", "na", staff, local("2025-06-02 09:30")),
            (o, "c4", p, "r2", None, "floor", "pass", staff, local("2025-06-03 09:10")),
            (o, "c5", p, "r3", "cpA", "bins", "pass", sup, local("2025-06-05 09:10")),
            (o, "c6", p, "r3", "cpA", "lights", "fail", sup, local("2025-06-05 09:20")),
            (o, "c7", p, "r3", "cpA", "lights", None, sup, local("2025-06-05 09:30")),  # not judged
            (o, "c8", p, "r1", "cpA", "floor", "pass", staff, local("2025-06-11 00:30")),  # after the period
            (o, "c9", p, "r0", "cpB", "floor", "pass", staff, local("2025-06-01 00:30")),  # in, its round is not
        ],
    )
    # what the server keeps on each round when a phone pushes visits
    await work.count_visits(db, o, [r["id"] for r in await db.fetch("SELECT id FROM rounds")])
    # what the server copies from the round when a phone pushes a result
    await db.execute(
        "UPDATE check_results c SET template_version_id = r.template_version_id FROM rounds r "
        "WHERE r.org_id = c.org_id AND r.id = c.round_id"
    )
    # The period ends 11 June 00:00 (local), before NOW: figures "as of" the period are as of then.
    # fmt: off
    await db.executemany(
        """INSERT INTO rectification_orders (org_id, id, property_id, source, category, description, severity,
               responsible_id, reported_by, status, created_at, original_due_at, due_at, submitted_at, verified_at,
               rejections)
           VALUES ($1, $2, $3, 'check', 'cleaning', 'wet floor', 'medium', $4, $5, $6, $7, $8,
                   coalesce($9::timestamptz, $8), $10, $11, $12)""",
        [
            # handed in by its deadline (24 h to fix), verified a day later
            (o, "o1", p, staff, sup, "verified", local("2025-06-02 08:00"), local("2025-06-05 08:00"), None,
             local("2025-06-03 08:00"), local("2025-06-04 08:00"), 0),
            # due 4 June; sent back with a new deadline (7 June), handed in again on 5 June: late (48 h to fix)
            (o, "o2", p, staff, sup, "verified", local("2025-06-03 08:00"), local("2025-06-04 08:00"),
             local("2025-06-07 08:00"), local("2025-06-05 08:00"), local("2025-06-06 08:00"), 1),
            # open past its deadline (160 h old when the period ends)
            (o, "o3", p, sup, staff, "open", local("2025-06-04 08:00"), local("2025-06-10 08:00"), None, None, None,
             0),
            # handed in (24 h), nobody named, deadline after the period, still waiting for a verdict
            (o, "o4", p, None, sup, "submitted", local("2025-06-05 08:00"), local("2025-06-30 08:00"), None,
             local("2025-06-06 08:00"), None, 0),
            # sent back, being redone, deadline after the period: open (112 h old)
            (o, "o5", p, staff, sup, "in_progress", local("2025-06-06 08:00"), local("2025-06-20 08:00"), None,
             local("2025-06-07 08:00"), None, 1),
            # opened after the period
            (o, "o6", p, staff, sup, "open", local("2025-06-11 00:30"), local("2025-06-12 08:00"), None, None, None,
             0),
            # opened before the period, due in it, never touched: open and overdue (400 h old)
            (o, "o7", p, staff, sup, "open", local("2025-05-25 08:00"), local("2025-06-01 08:00"), None, None, None,
             0),
            # opened before the period, handed in before its deadline (96 h to fix), verified only after the
            # period: the fixer was on time, the verdict waited (232 h when the period ends)
            (o, "o8", p, staff, sup, "verified", local("2025-05-28 08:00"), local("2025-06-02 08:00"), None,
             local("2025-06-01 08:00"), local("2025-06-12 08:00"), 0),
        ],
    )
    await db.executemany(
        """INSERT INTO rectification_reviews (org_id, order_id, review, property_id, verdict, submitted_at,
               reviewed_at, reviewed_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        [
            (o, "o1", 1, p, "verified", local("2025-06-03 08:00"), local("2025-06-04 08:00"), sup),  # 24 h
            (o, "o2", 1, p, "rejected", local("2025-06-03 20:00"), local("2025-06-04 02:00"), sup),  # 6 h
            (o, "o2", 2, p, "verified", local("2025-06-05 08:00"), local("2025-06-06 08:00"), sup),  # 24 h
            (o, "o5", 1, p, "rejected", local("2025-06-07 08:00"), local("2025-06-08 08:00"), sup),  # 24 h
            (o, "o8", 1, p, "verified", local("2025-06-01 08:00"), local("2025-06-12 08:00"), sup),  # after
        ],
    )
    # fmt: on


ROUNDS = {"planned": 2, "in_progress": 1, "completed": 1, "missed": 1, "due": 3, "completion_rate": 1 / 3}
VISITS = {"early": 1, "on_time": 2, "late": 1, "missed": 1, "timed": 5, "on_time_rate": 0.4}
RESULTS = {"passed": 4, "failed": 2, "na": 1, "judged": 6, "pass_rate": 4 / 6}
ORDERS = {
    "opened": 5,  # o1-o5
    "due": 5,  # o1, o2, o3, o7, o8
    "due_on_time": 2,  # o1, o8
    "due_handed_in_late": 1,  # o2, late against its first deadline
    "due_not_handed_in": 2,  # o3, o7
    "due_extended": 1,  # o2
    "on_time_rate": 0.4,
    "fixed": 4,  # o1, o2, o4, o8 (o5 was sent back)
    "mean_hours_to_fix": 48.0,  # (24 + 48 + 24 + 96) / 4
    "open": 3,  # o3, o5, o7
    "mean_open_age_hours": 224.0,  # (160 + 112 + 400) / 3
    "max_open_age_hours": 400.0,
    "submitted": 4,
    "reopened": 2,
    "reopen_rate": 0.5,
}
REVIEWS = {
    "reviews": 4,
    "rejected": 2,
    "verified": 2,  # o1, o2 (o8 after the period)
    "awaiting_review": 2,  # o4 and o8 when the period ends
    "mean_review_hours": 19.5,  # (24 + 6 + 24 + 24) / 4
    "max_review_hours": 24.0,
    "mean_hours_to_verify": 24.0,
    "mean_hours_awaiting": 172.0,  # (112 + 232) / 2
    "max_hours_awaiting": 232.0,
}
NO_EVIDENCE = {
    "items": 0,
    "flags": 0,
    "flag_rate": None,
}  # no photo nor scan here: tests/integration/test_evidence_kpis.py
TOTALS = {
    "rounds": ROUNDS,
    "visits": VISITS,
    "items": RESULTS,
    "rectification": ORDERS,
    "reviews": REVIEWS,
    "evidence": NO_EVIDENCE,
}
EMPTY = {
    "rounds": {"planned": 0, "in_progress": 0, "completed": 0, "missed": 0, "due": 0, "completion_rate": None},
    "visits": {"early": 0, "on_time": 0, "late": 0, "missed": 0, "timed": 0, "on_time_rate": None},
    "items": {"passed": 0, "failed": 0, "na": 0, "judged": 0, "pass_rate": None},
    "rectification": {
        **dict.fromkeys(ORDERS, 0),
        **dict.fromkeys(
            (
                "on_time_rate",
                "mean_hours_to_fix",
                "mean_open_age_hours",
                "max_open_age_hours",
                "reopen_rate",
            )
        ),
    },
    "reviews": {**dict.fromkeys(REVIEWS, 0), **{k: None for k in REVIEWS if "hours" in k}},
    "evidence": NO_EVIDENCE,
}


async def test_property_kpis_count_exactly_what_the_period_holds(api, db):
    org = await build_org(db, "kp")
    await arrange(db, org)
    supervisor = await login(api, org, "supervisor")
    response = await api.get(f"/properties/{org.property_id}/kpis", headers=supervisor, params=PERIOD)
    assert response.status_code == 200, response.text
    kpis = response.json()
    assert kpis["period"] == {
        "from": "2025-06-01",
        "to": "2025-06-10",
        "timezone": "Asia/Shanghai",
        "start_utc": "2025-05-31T16:00:00Z",
        "end_utc": "2025-06-10T16:00:00Z",
    }
    assert kpis["totals"] == TOTALS
    assert kpis["by_staff"] == [
        {
            "user_id": org.ids["staff"],
            "name": "Staff",
            "rounds": {"planned": 1, "in_progress": 0, "completed": 1, "missed": 1, "due": 2, "completion_rate": 0.5},
            "visits": {"early": 1, "on_time": 1, "late": 1, "missed": 1, "timed": 4, "on_time_rate": 0.25},
            "items": {"passed": 3, "failed": 1, "na": 1, "judged": 4, "pass_rate": 0.75},
            "rectification": {
                "opened": 3,
                "due": 4,
                "due_on_time": 2,
                "due_handed_in_late": 1,
                "due_not_handed_in": 1,
                "due_extended": 1,
                "on_time_rate": 0.5,
                "fixed": 3,
                "mean_hours_to_fix": 56.0,
                "open": 2,
                "mean_open_age_hours": 256.0,
                "max_open_age_hours": 400.0,
                "submitted": 3,
                "reopened": 2,
                "reopen_rate": 2 / 3,
            },
            "reviews": EMPTY["reviews"],
            "evidence": NO_EVIDENCE,
        },
        {
            "user_id": org.ids["supervisor"],
            "name": "Supervisor",
            "rounds": {"planned": 1, "in_progress": 1, "completed": 0, "missed": 0, "due": 1, "completion_rate": 0.0},
            "visits": {"early": 0, "on_time": 1, "late": 0, "missed": 0, "timed": 1, "on_time_rate": 1.0},
            "items": {"passed": 1, "failed": 1, "na": 0, "judged": 2, "pass_rate": 0.5},
            "rectification": {
                **EMPTY["rectification"],
                "opened": 1,
                "due": 1,
                "due_not_handed_in": 1,
                "on_time_rate": 0.0,
                "open": 1,
                "mean_open_age_hours": 160.0,
                "max_open_age_hours": 160.0,
            },
            # the verdicts they gave; what awaits a verdict names nobody
            "reviews": {**REVIEWS, "awaiting_review": 0, "mean_hours_awaiting": None, "max_hours_awaiting": None},
            "evidence": NO_EVIDENCE,
        },
    ]
    # labels from the newest version holding the item: floor was relabelled in v2, bins exists only in v1
    assert kpis["by_item"] == [
        {"template_id": "t1", "item_key": "bins", "label_zh": "垃圾桶", "label_en": "Bins",
         "passed": 1, "failed": 0, "na": 0, "judged": 1, "pass_rate": 1.0},
        {"template_id": "t1", "item_key": "floor", "label_zh": "地面清洁", "label_en": "Floor clean",
         "passed": 3, "failed": 1, "na": 0, "judged": 4, "pass_rate": 0.75},
        {"template_id": "t1", "item_key": "lights", "label_zh": "灯光", "label_en": "Lights",
         "passed": 0, "failed": 1, "na": 1, "judged": 1, "pass_rate": 0.0},
    ]  # fmt: skip
    assert kpis["by_location"] == [
        {"checkpoint_id": "cpA", "name": "大堂 Lobby", "passed": 2, "failed": 1, "na": 1, "judged": 3,
         "pass_rate": 2 / 3},
        {"checkpoint_id": "cpB", "name": "车库 Garage", "passed": 1, "failed": 1, "na": 0, "judged": 2,
         "pass_rate": 0.5},
        {"checkpoint_id": None, "name": None, "passed": 1, "failed": 0, "na": 0, "judged": 1, "pass_rate": 1.0},
    ]  # fmt: skip


async def test_a_period_with_nothing_in_it_has_null_rates(api, db):
    org = await build_org(db, "ke")
    await arrange(db, org)
    admin = await login(api, org, "admin")
    params = {"from": "2024-01-01", "to": "2024-01-31"}
    kpis = (await api.get(f"/properties/{org.property_id}/kpis", headers=admin, params=params)).json()
    assert kpis["totals"] == EMPTY
    assert (kpis["by_staff"], kpis["by_item"], kpis["by_location"]) == ([], [], [])


async def test_the_period_is_local_days_and_defaults_to_the_last_30(api, db):
    org = await build_org(db, "kz")
    await arrange(db, org)
    admin = await login(api, org, "admin")
    url = f"/properties/{org.property_id}/kpis"
    default = (await api.get(url, headers=admin)).json()["period"]
    # NOW is 12:00 on 15 June in Shanghai
    assert default == {
        "from": "2025-05-17",
        "to": "2025-06-15",
        "timezone": "Asia/Shanghai",
        "start_utc": "2025-05-16T16:00:00Z",
        "end_utc": "2025-06-15T16:00:00Z",
    }
    # one more local day takes in r5 (00:30 on 11 June), its visit, c8 and o6
    longer = (await api.get(url, headers=admin, params={**PERIOD, "to": "2025-06-11"})).json()["totals"]
    assert longer["rounds"]["planned"] == ROUNDS["planned"] + 1
    assert longer["visits"]["on_time"] == VISITS["on_time"] + 1
    assert longer["items"]["passed"] == RESULTS["passed"] + 1
    assert longer["rectification"]["opened"] == ORDERS["opened"] + 1
    # starting a local day later drops c9 (00:30 on 1 June)
    later = (await api.get(url, headers=admin, params={**PERIOD, "from": "2025-06-02"})).json()["totals"]
    assert later["items"]["passed"] == RESULTS["passed"] - 1


async def test_org_kpis_give_each_visible_property_its_totals(api, db):
    org = await build_org(db, "ko")
    await arrange(db, org)
    admin = await login(api, org, "admin")
    answer = await api.get("/kpis", headers=admin, params=PERIOD)
    assert answer.status_code == 200, answer.text
    garden, tower = answer.json()["properties"]
    assert (garden["property_id"], garden["name"], garden["totals"]) == (org.property_id, "Garden ko", TOTALS)
    assert garden["period"]["start_utc"] == "2025-05-31T16:00:00Z"
    assert (tower["property_id"], tower["name"]) == (org.other_property_id, "Tower ko")
    assert tower["totals"] == {
        **EMPTY,
        "rounds": {**EMPTY["rounds"], "completed": 1, "due": 1, "completion_rate": 1.0},
    }
    supervisor = await login(api, org, "supervisor")
    mine = (await api.get("/kpis", headers=supervisor, params=PERIOD)).json()["properties"]
    assert [p["property_id"] for p in mine] == [org.property_id]
    for who in ("staff", "owner"):
        refused = await api.get("/kpis", headers=await login(api, org, who))
        assert refused.status_code == 403, who


async def test_only_the_propertys_supervisors_and_admins_see_its_kpis(api, db):
    org, other = await build_org(db, "ka"), await build_org(db, "kb")
    url = f"/properties/{org.property_id}/kpis"
    for who in ("staff", "owner"):
        refused = await api.get(url, headers=await login(api, org, who))
        assert refused.status_code == 403, who
    for who in ("admin", "supervisor"):
        hidden = await api.get(url, headers=await login(api, other, who))
        assert hidden.status_code == 404, who
    # a supervisor of the org, not of the property
    elsewhere = await api.get(f"/properties/{org.other_property_id}/kpis", headers=await login(api, org, "supervisor"))
    assert elsewhere.status_code == 404


async def test_a_bad_period_is_refused_naming_the_parameter(api, db):
    org = await build_org(db, "kx")
    admin = await login(api, org, "admin")
    for url in (f"/properties/{org.property_id}/kpis", "/kpis"):
        backwards = await api.get(url, headers=admin, params={"from": "2025-06-10", "to": "2025-06-01"})
        assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "from"
        too_long = await api.get(url, headers=admin, params={"from": "2020-01-01", "to": "2023-01-01"})
        assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "to"
        three_years = await api.get(url, headers=admin, params={"from": "2020-01-01", "to": "2022-12-31"})
        assert three_years.status_code == 200, three_years.text
        for field, value in (
            ("from", "2025-13-01"),
            ("to", "yesterday"),
            ("to", "20250601"),
            ("to", "2025-6-1"),
            ("from", "0001-01-01"),
        ):
            malformed = await api.get(url, headers=admin, params={field: value})
            assert malformed.status_code == 422 and malformed.json()["errors"][0]["field"] == field, value


def test_a_period_covers_whole_local_days_across_a_clock_change():
    # New York springs forward on 9 March 2025: that local day is 23 hours long
    period = resolve_period(date(2025, 3, 9), date(2025, 3, 9), "America/New_York", NOW)
    assert (period.start_utc, period.end_utc) == (
        datetime(2025, 3, 9, 5, tzinfo=UTC),
        datetime(2025, 3, 10, 4, tzinfo=UTC),
    )
    # only `from` given: up to today (so a `from` in the future is after `to`)
    assert resolve_period(date(2025, 6, 1), None, "Asia/Shanghai", NOW).to == date(2025, 6, 15)
    with pytest.raises(Invalid):
        resolve_period(date(2025, 6, 16), None, "Asia/Shanghai", NOW)
    with pytest.raises(Invalid):
        resolve_period(date(2024, 2, 29), date(2027, 2, 28), "UTC", NOW)


# --- the rectification figures, made through the API on the app's clock ------------------------------------


async def open_order(api, org: Org, supervisor: dict[str, str], due_at: datetime) -> str:
    body = {"description": "积水 standing water", "category": "cleaning", "responsible_id": org.ids["staff"]}
    made = await api.post(
        f"/properties/{org.property_id}/orders", headers=supervisor, json={**body, "due_at": due_at.isoformat()}
    )
    assert made.status_code == 201, made.text
    order_id: str = made.json()["id"]
    return order_id


async def hand_in(api, db, org: Org, order_id: str, photo: str) -> None:
    """An after-photo (its row; the bytes do not matter here), then the submission."""
    await db.execute(
        """INSERT INTO photos (org_id, id, property_id, record_table, record_id, uploaded_by, purpose)
           VALUES ($1, $2, $3, 'rectification_orders', $4, $5, 'after')""",
        org.org_id,
        photo,
        org.property_id,
        order_id,
        org.ids["staff"],
    )
    submitted = await api.post(f"/orders/{order_id}/submit", headers=await login(api, org, "staff"))
    assert submitted.status_code == 200, submitted.text


async def rectification(api, org: Org, headers: dict[str, str], day: str) -> dict[str, object]:
    answer = await api.get(f"/properties/{org.property_id}/kpis", headers=headers, params={"from": day, "to": day})
    assert answer.status_code == 200, answer.text
    totals: dict[str, object] = answer.json()["totals"]
    return totals


async def test_an_open_overdue_order_pulls_the_on_time_rate_down(api, db, clock):
    org = await build_org(db, "kl")
    # signed in again after the clock moves (access tokens expire)
    supervisor, staff = await login(api, org, "supervisor"), await login(api, org, "staff")
    done = await open_order(api, org, supervisor, NOW + timedelta(hours=6))
    await open_order(api, org, supervisor, NOW + timedelta(hours=6))  # never touched
    assert (await api.post(f"/orders/{done}/start", headers=staff)).status_code == 200
    clock.advance(hours=2)
    await hand_in(api, db, org, done, "ph-done")
    supervisor = await login(api, org, "supervisor")
    assert (await api.post(f"/orders/{done}/verify", headers=supervisor)).status_code == 200
    clock.advance(hours=6)  # 20:00 in Shanghai: both deadlines (18:00) have passed
    totals = await rectification(api, org, await login(api, org, "supervisor"), "2025-06-15")
    # verified on time / verified would read 100 %: the open overdue order counts too
    assert {k: totals["rectification"][k] for k in ("due", "due_on_time", "due_not_handed_in", "on_time_rate")} == {
        "due": 2,
        "due_on_time": 1,
        "due_not_handed_in": 1,
        "on_time_rate": 0.5,
    }
    assert (totals["rectification"]["open"], totals["rectification"]["max_open_age_hours"]) == (1, 8.0)


async def test_a_deadline_moved_on_a_send_back_is_judged_against_the_first(api, db, clock):
    org = await build_org(db, "kr")
    # signed in again after the clock moves (access tokens expire)
    supervisor, staff = await login(api, org, "supervisor"), await login(api, org, "staff")
    first, moved = NOW + timedelta(days=1), NOW + timedelta(days=3)
    order_id = await open_order(api, org, supervisor, first)
    assert (await api.post(f"/orders/{order_id}/start", headers=staff)).status_code == 200
    clock.advance(hours=2)
    await hand_in(api, db, org, order_id, "ph-1")
    clock.advance(hours=3)
    supervisor = await login(api, org, "supervisor")
    sent_back = await api.post(
        f"/orders/{order_id}/reject", headers=supervisor, json={"reason": "still wet", "due_at": moved.isoformat()}
    )
    assert sent_back.status_code == 200, sent_back.text
    order = sent_back.json()
    assert (order["due_at"], order["original_due_at"]) == (
        moved.isoformat().replace("+00:00", "Z"),
        first.isoformat().replace("+00:00", "Z"),
    )
    clock.advance(days=2)  # past the first deadline, well before the moved one
    await hand_in(api, db, org, order_id, "ph-2")
    clock.advance(hours=4)
    supervisor = await login(api, org, "supervisor")
    assert (await api.post(f"/orders/{order_id}/verify", headers=supervisor)).status_code == 200
    totals = await rectification(api, org, supervisor, "2025-06-16")  # the first deadline's day
    # by the moved deadline this order was verified on time; by its first, it was handed in a day late
    assert {k: totals["rectification"][k] for k in ("due", "due_handed_in_late", "due_extended", "on_time_rate")} == {
        "due": 1,
        "due_handed_in_late": 1,
        "due_extended": 1,
        "on_time_rate": 0.0,
    }
    week = await api.get(
        f"/properties/{org.property_id}/kpis", headers=supervisor, params={"from": "2025-06-15", "to": "2025-06-21"}
    )
    figures = week.json()["totals"]
    # fixing: opened to the submission that stood (2 days 5 hours); verifying: that submission to the verdict
    assert (figures["rectification"]["mean_hours_to_fix"], figures["reviews"]["mean_hours_to_verify"]) == (53.0, 4.0)
    # the supervisor's delay, send-back included: 3 h, then 4 h
    assert {k: figures["reviews"][k] for k in ("reviews", "rejected", "mean_review_hours", "max_review_hours")} == {
        "reviews": 2,
        "rejected": 1,
        "mean_review_hours": 3.5,
        "max_review_hours": 4.0,
    }


async def test_the_figures_migration_finds_first_deadlines_and_past_verdicts_in_the_audit_trail(servers):
    """Orders made before migration 0010: the first deadline and every verdict come from the audit trail."""
    async with scratch_database(servers[0]) as url:
        conn = await connect(url)
        try:
            before, figures = [m for m in load_migrations() if m.version < 10], load_migrations()
            await migrate(conn, before)
            org = await build_org(conn, "km")
            o, p, sup = org.org_id, org.property_id, org.ids["supervisor"]
            first, moved = local("2025-06-05 08:00"), local("2025-06-09 08:00")
            await conn.executemany(
                """INSERT INTO rectification_orders (org_id, id, property_id, source, category, description,
                       severity, reported_by, status, due_at, submitted_at, verified_at, verified_by, rejections)
                   VALUES ($1, $2, $3, 'manual', 'cleaning', 'wet floor', 'medium', $4, $5, $6, $7, $8, $9, $10)""",
                [
                    (o, "sent-back", p, sup, "verified", moved, local("2025-06-08 08:00"), local("2025-06-08 10:00"),
                     sup, 1),
                    (o, "untouched", p, sup, "open", first, None, None, None, 0),
                ],
            )  # fmt: skip
            entries = [
                ("rectification_order.open", None, {"due_at": first.isoformat()}, "2025-06-01 08:00"),
                ("rectification_order.start", {"status": "open", "due_at": first.isoformat()}, {}, "2025-06-02 08:00"),
                ("rectification_order.submit", {"status": "in_progress", "due_at": first.isoformat()},
                 {"submitted_at": local("2025-06-03 08:00").isoformat()}, "2025-06-03 08:00"),
                ("rectification_order.reject", {"status": "submitted", "due_at": first.isoformat()},
                 {"rejections": 1, "due_at": moved.isoformat()}, "2025-06-03 14:00"),
                ("rectification_order.submit", {"status": "in_progress", "due_at": moved.isoformat()},
                 {"submitted_at": local("2025-06-08 08:00").isoformat()}, "2025-06-08 08:00"),
                ("rectification_order.verify", {"status": "submitted", "due_at": moved.isoformat()}, {},
                 "2025-06-08 10:00"),
            ]  # fmt: skip
            await conn.executemany(
                """INSERT INTO audit_log (org_id, at, actor_id, action, entity, entity_id, before, after)
                   VALUES ($1, $2, $3, $4, 'rectification_order', 'sent-back', $5, $6)""",
                [(o, local(at), sup, action, was, now) for action, was, now, at in entries],
            )
            await migrate(conn, figures)
            deadlines = await conn.fetch("SELECT id, due_at, original_due_at FROM rectification_orders ORDER BY id")
            assert [tuple(r) for r in deadlines] == [("sent-back", moved, first), ("untouched", first, first)]
            reviews = await conn.fetch(
                "SELECT review, verdict, submitted_at, reviewed_at, reviewed_by FROM rectification_reviews "
                "WHERE org_id = $1 AND order_id = 'sent-back' ORDER BY review",
                o,
            )
            assert [tuple(r) for r in reviews] == [
                (1, "rejected", local("2025-06-03 08:00"), local("2025-06-03 14:00"), sup),
                (2, "verified", local("2025-06-08 08:00"), local("2025-06-08 10:00"), sup),
            ]
        finally:
            await conn.close()
