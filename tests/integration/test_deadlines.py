"""Deadlines chased by the worker with an injected clock: reminders before, a flag at, escalation after; each
once, whatever the ticks; caught up after downtime; re-armed by a new deadline; rounds missed."""

from datetime import UTC, datetime, timedelta

from core.clock import FixedClock
from tests.integration.test_worker import run_job
from tests.world import build_org, login


async def open_order(api, db, org, due_at):
    supervisor = await login(api, org, "supervisor")
    response = await api.post(
        f"/properties/{org.property_id}/orders",
        headers=supervisor,
        json={
            "description": "配电房门锁损坏 switch room lock broken",
            "category": "engineering",
            "responsible_id": org.ids["staff"],
            "due_at": due_at.isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def sent(db, order_id):
    """(step, recipients) of every notice about the order, in the order they were made."""
    rows = await db.fetch(
        """SELECT n.data ->> 'step' AS step,
                  array_agg(substr(d.channel, 7) ORDER BY d.channel) AS recipients
           FROM notifications n JOIN notification_deliveries d ON d.org_id = n.org_id AND d.notification_id = n.id
           WHERE n.record_id = $1 AND d.channel LIKE 'inbox:%'
           GROUP BY n.org_id, n.id ORDER BY min(n.created_at), n.id""",
        order_id,
    )
    return [(r["step"], sorted(r["recipients"])) for r in rows]


async def test_an_order_is_reminded_flagged_and_escalated_once_each(api, db, settings):
    org = await build_org(db, "dl")
    due = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    order_id = await open_order(api, db, org, due)
    staff, supervisor, admin = org.ids["staff"], org.ids["supervisor"], org.ids["admin"]
    for hours in (-25, -23, -23, -1.5, -1, 0.01, 3, 5, 5, 25, 26):
        await run_job(settings, "chase_deadlines", FixedClock(due + timedelta(hours=hours)))
    assert await sent(db, order_id) == [
        ("remind-24h", [staff]),
        ("remind-2h", [staff]),
        ("overdue", [staff]),
        ("escalate-supervisors", [supervisor]),
        ("escalate-admins", [admin]),
    ]


async def test_after_downtime_what_came_due_is_sent_once_and_stale_reminders_are_not(api, db, settings):
    org = await build_org(db, "dd")
    due = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    order_id = await open_order(api, db, org, due)
    await run_job(settings, "chase_deadlines", FixedClock(due - timedelta(hours=30)))
    await run_job(settings, "chase_deadlines", FixedClock(due + timedelta(days=3)))  # three days down
    await run_job(settings, "chase_deadlines", FixedClock(due + timedelta(days=3, minutes=1)))
    # one tick sends all three (one transaction, so no order among them)
    assert sorted(step for step, _ in await sent(db, order_id)) == [
        "escalate-admins",
        "escalate-supervisors",
        "overdue",
    ]


async def test_a_new_deadline_arms_the_reminders_again(api, db, settings):
    org = await build_org(db, "dn")
    due = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    order_id = await open_order(api, db, org, due)
    await run_job(settings, "chase_deadlines", FixedClock(due - timedelta(hours=1)))
    later = due + timedelta(days=5)
    await db.execute("UPDATE rectification_orders SET due_at = $2 WHERE id = $1", order_id, later)
    await run_job(settings, "chase_deadlines", FixedClock(later - timedelta(hours=1)))
    assert [step for step, _ in await sent(db, order_id)] == ["remind-2h", "remind-2h"]


async def test_rounds_not_started_in_their_window_become_missed(api, db, settings):
    org = await build_org(db, "rm")
    now = datetime.now(UTC).replace(microsecond=0)
    for round_id, status, end in (
        ("late", "planned", now - timedelta(minutes=1)),
        ("busy", "in_progress", now - timedelta(hours=1)),
        ("soon", "planned", now + timedelta(hours=1)),
    ):
        await db.execute(
            """INSERT INTO rounds (org_id, id, property_id, template_version_id, assignee_id, status, window_start,
                   window_end) VALUES ($1, $2, $3, 'tv', $4, $5, $6, $7)""",
            org.org_id, round_id, org.property_id, org.ids["staff"], status, end - timedelta(hours=2), end,
        )  # fmt: skip
    await run_job(settings, "mark_missed_rounds", FixedClock(now))
    await run_job(settings, "mark_missed_rounds", FixedClock(now + timedelta(minutes=1)))
    statuses = dict(await db.fetch("SELECT id, status FROM rounds ORDER BY id"))
    assert statuses == {"busy": "in_progress", "late": "missed", "soon": "planned"}
    notices = await db.fetch("SELECT record_id, kind FROM notifications WHERE kind = 'round.missed'")
    assert [(n["record_id"], n["kind"]) for n in notices] == [("late", "round.missed")]
