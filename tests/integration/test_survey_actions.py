"""Improvement actions: what a call may ask for, who may make them, an order's action following its order, and
an open action's deadline chased."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.clock import FixedClock
from tests.integration.test_deadlines import sent
from tests.integration.test_surveys import TEMPLATE, campaign, links
from tests.integration.test_worker import run_job
from tests.world import build_org, login

LOW = {"service": 5, "clean": 2, "recommend": 9, "repairs": "no"}


async def flagged_campaign(api, org, admin):
    template = (await api.post("/survey-templates", headers=admin, json=TEMPLATE)).json()
    made = await campaign(api, org, admin, template["template_id"])
    for household in await links(api, admin, made["id"]):
        assert (await api.post(f"/survey/{household['token']}", json={"answers": LOW})).status_code == 201
    return made


def action(**more):
    due = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    return {"kind": "action", "title_zh": "整改", "title_en": "Fix it", "due_at": due, **more}


async def test_actions_are_checked_and_admins_make_them(api, db):
    org = await build_org(db, "ac")
    admin = await login(api, org, "admin")
    made = await flagged_campaign(api, org, admin)
    url = f"/campaigns/{made['id']}/actions"
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    refused = await api.post(
        url,
        headers=admin,
        json={
            "dimension": "cleaning",
            "actions": [
                action(),  # a plain action without a person
                action(responsible_id=org.ids["elsewhere"]),  # works on another property
                action(kind="order", due_at=past),
                action(kind="order", id="twice"),
                action(kind="order", id="twice"),
            ],
        },
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == [
        "actions[0].responsible_id",
        "actions[1].responsible_id",
        "actions[2].due_at",
        "actions[3].id",
        "actions[4].id",
    ]
    unknown = await api.post(url, headers=admin, json={"dimension": "nope", "actions": [action()]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "dimension"
    supervisor = await login(api, org, "supervisor")
    body = {"dimension": "cleaning", "actions": [action(responsible_id=org.ids["staff"])]}
    assert (await api.post(url, headers=supervisor, json=body)).status_code == 403
    listed = await api.get(url, headers=supervisor)
    assert listed.status_code == 200 and listed.json() == []
    owner = await login(api, org, "owner")
    assert (await api.get(url, headers=owner)).status_code in (403, 404)

    # the staff member does their action; someone else on the staff may not mark it done
    made_actions = (await api.post(url, headers=admin, json=body)).json()
    told = await db.fetch("SELECT kind, title_en, body_zh FROM notifications WHERE kind = 'survey_action'")
    assert [r["title_en"] for r in told] == ["Improvement action (Cleaning): Fix it"] and "前完成" in told[0]["body_zh"]
    done_url = f"/survey-actions/{made_actions[0]['id']}/done"
    elsewhere = await login(api, org, "elsewhere")
    assert (await api.post(done_url, headers=elsewhere, json={})).status_code == 404
    done = await api.post(done_url, headers=await login(api, org, "staff"), json={"note": "done"})
    assert done.status_code == 200 and done.json()["done_note"] == "done"
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'survey_action.done'") == 1


async def test_an_orders_action_is_done_when_its_order_is_verified(api, db):
    org = await build_org(db, "ao")
    admin = await login(api, org, "admin")
    made = await flagged_campaign(api, org, admin)
    body = {"dimension": "cleaning", "actions": [action(kind="order", id="fix-bins")]}
    created = await api.post(f"/campaigns/{made['id']}/actions", headers=admin, json=body)
    assert created.status_code == 201, created.text
    assert await db.fetchval("SELECT status FROM rectification_orders WHERE id = 'fix-bins'") == "open"
    await db.execute("UPDATE rectification_orders SET status = 'in_progress' WHERE id = 'fix-bins'")
    assert await db.fetchval("SELECT status FROM survey_actions WHERE id = 'fix-bins'") == "open"
    await db.execute("UPDATE rectification_orders SET status = 'verified', verified_at = now() WHERE id = 'fix-bins'")
    row = await db.fetchrow("SELECT status, done_at FROM survey_actions WHERE id = 'fix-bins'")
    assert row["status"] == "done" and row["done_at"] is not None


async def test_an_action_id_that_is_another_orders_is_refused(api, db):
    org = await build_org(db, "at")
    admin = await login(api, org, "admin")
    made = await flagged_campaign(api, org, admin)
    by_hand = await api.post(
        f"/properties/{org.property_id}/orders",
        headers=admin,
        json={"description": "漏水 leak", "category": "engineering"},
    )
    assert by_hand.status_code == 201, by_hand.text
    body = {"dimension": "cleaning", "actions": [action(kind="order", id=by_hand.json()["id"])]}
    taken = await api.post(f"/campaigns/{made['id']}/actions", headers=admin, json=body)
    assert (taken.status_code, taken.json()["code"]) == (409, "id_taken")
    assert await db.fetchval("SELECT count(*) FROM survey_actions") == 0


async def test_an_open_action_is_reminded_flagged_and_escalated_once_each_and_a_done_one_is_not(api, db, settings):
    org = await build_org(db, "ad")
    admin = await login(api, org, "admin")
    made = await flagged_campaign(api, org, admin)
    due = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    given = [action(id=i, responsible_id=org.ids["staff"], due_at=due.isoformat()) for i in ("open-one", "done-one")]
    body = {"dimension": "cleaning", "actions": [*given, action(kind="order", id="an-order", due_at=due.isoformat())]}
    assert (await api.post(f"/campaigns/{made['id']}/actions", headers=admin, json=body)).status_code == 201
    staff_headers = await login(api, org, "staff")
    assert (await api.post("/survey-actions/done-one/done", headers=staff_headers, json={})).status_code == 200
    for hours in (-25, -23, -23, -1.5, -1, 0.01, 3, 5, 5, 25, 26):
        await run_job(settings, "chase_deadlines", FixedClock(due + timedelta(hours=hours)))
    staff, supervisor = org.ids["staff"], org.ids["supervisor"]
    assert await sent(db, "open-one") == [
        (None, [staff]),  # the action given to them
        ("remind-24h", [staff]),
        ("remind-2h", [staff]),
        ("overdue", [staff]),
        ("escalate-supervisors", [supervisor]),
        ("escalate-admins", [org.ids["admin"]]),
    ]
    kinds = await db.fetch("SELECT DISTINCT kind FROM notifications WHERE record_id = 'open-one' ORDER BY kind")
    assert [k["kind"] for k in kinds] == [
        "survey_action",  # when it was made
        "survey_action.escalate-admins",
        "survey_action.escalate-supervisors",
        "survey_action.overdue",
        "survey_action.remind",
    ]
    assert await sent(db, "done-one") == [(None, [staff])]
    # an action that is an order is chased as the order, not twice
    chased = await db.fetch("SELECT DISTINCT record_table FROM notifications WHERE record_id = 'an-order'")
    assert [r["record_table"] for r in chased] == ["rectification_orders"]
