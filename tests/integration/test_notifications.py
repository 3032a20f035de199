"""The notification outbox: written with its cause, once per dedupe key; delivered by the worker to the inbox,
which phones pull (only their own) and mark read by push; webhooks managed by admins."""

import msgspec
import pytest

from core.notifications.service import inbox_id, notify
from tests.integration.test_sync_protocol import changes, pull, push
from tests.integration.test_worker import run_job
from tests.names import PUBLIC, Hosts
from tests.world import build_org, login


@pytest.fixture
def resolver() -> Hosts:
    """The webhooks here name receivers on the internet: a hosts file says they are public (no DNS in CI)."""
    return Hosts({"ops.example.com": [PUBLIC]})


async def notice(db, org, key, recipients, kind="rectification.overdue", **extra):
    async with db.transaction():
        return await notify(
            db,
            org_id=org.org_id,
            dedupe_key=key,
            kind=kind,
            recipients=recipients,
            title_zh="整改单已逾期：配电房门锁损坏",
            title_en="Rectification overdue: switch room lock broken",
            property_id=org.property_id,
            record_table="rectification_orders",
            record_id="order-1",
            data={"step": "overdue"},
            **extra,
        )


async def test_the_same_dedupe_key_notifies_once_and_its_inbox_row_reaches_only_its_recipient(api, db, settings):
    org = await build_org(db, "nt1")
    staff = org.ids["staff"]
    assert await notice(db, org, "order:order-1:overdue", [staff, staff]) is True
    assert await notice(db, org, "order:order-1:overdue", [staff, org.ids["supervisor"]]) is False
    assert await db.fetchval("SELECT count(*) FROM notifications") == 1
    deliveries = await db.fetch("SELECT channel, status FROM notification_deliveries")
    assert [tuple(r) for r in deliveries] == [(f"inbox:{staff}", "pending")]

    await run_job(settings, "deliver_notifications")
    await run_job(settings, "deliver_notifications")  # nothing left: nothing written twice
    row = await db.fetchrow("SELECT status, attempts, delivered_at FROM notification_deliveries")
    assert (row["status"], row["attempts"]) == ("delivered", 1) and row["delivered_at"] is not None
    inbox = await db.fetch("SELECT id, user_id, kind, title_en, read_at FROM inbox")
    notification_id = await db.fetchval("SELECT id FROM notifications")
    assert [(r["id"], r["user_id"], r["read_at"]) for r in inbox] == [(inbox_id(notification_id, staff), staff, None)]

    # the staff member's phone gets it; nobody else's does
    phone = await login(api, org, "staff")
    first = await pull(api, db, phone)
    [item] = first["changes"]["inbox"]["created"]
    assert item["id"] == inbox[0]["id"] and item["user_id"] == staff and item["read_at"] is None
    assert item["kind"] == "rectification.overdue" and item["record_id"] == "order-1"
    assert isinstance(item["created_at"], int)
    for who in ("supervisor", "admin", "owner", "elsewhere"):
        other = await pull(api, db, await login(api, org, who))
        assert other["changes"]["inbox"] == {"created": [], "updated": [], "deleted": []}, who

    # the phone marks it read
    read_at = item["created_at"] + 60_000
    marked = {**item, "read_at": read_at, "title_en": "ignored: not writable", "_status": "updated", "_changed": ""}
    response = await push(api, phone, first["timestamp"], changes("inbox", updated=[marked]))
    assert response.status_code == 200, response.text
    assert response.json()["applied"]["inbox"]["updated"] == 1
    stored = await db.fetchrow("SELECT read_at, title_en FROM inbox")
    assert int(stored["read_at"].timestamp() * 1000) == read_at and stored["title_en"] == inbox[0]["title_en"]
    listed = (await api.get("/inbox", headers=phone)).json()["items"]
    assert listed[0]["read_at"] is not None

    # no one else may touch it, nor may its owner delete or create inbox rows
    supervisor = await login(api, org, "supervisor")
    since = (await pull(api, db, supervisor))["timestamp"]
    stolen = await push(api, supervisor, since, changes("inbox", updated=[{**marked, "read_at": None}]))
    assert stolen.status_code == 403, stolen.text
    since = (await pull(api, db, phone, first["timestamp"]))["timestamp"]
    assert (await push(api, phone, since, changes("inbox", deleted=[item["id"]]))).status_code == 403
    forged = {**item, "id": "forged0000000000", "_status": "created"}
    assert (await push(api, phone, since, changes("inbox", created=[forged]))).status_code == 403


async def test_a_notice_whose_cause_rolls_back_leaves_nothing(db):
    org = await build_org(db, "nt2")
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await notify(
                db,
                org_id=org.org_id,
                dedupe_key="k",
                kind="round.missed",
                recipients=[org.ids["staff"]],
                title_zh="漏检",
                title_en="Missed",
            )
            raise RuntimeError("the change that caused it failed")
    assert await db.fetchval("SELECT count(*) FROM notifications") == 0
    assert await db.fetchval("SELECT count(*) FROM notification_deliveries") == 0


async def test_the_inbox_over_rest_pages_newest_first_and_marks_read_once(api, db, settings):
    org = await build_org(db, "nt3")
    staff = org.ids["staff"]
    for n in range(5):
        await notice(db, org, f"k{n}", [staff], kind=f"test.n{n}")
    await notice(db, org, "other", [org.ids["supervisor"]])
    await run_job(settings, "deliver_notifications")
    phone = await login(api, org, "staff")
    first = (await api.get("/inbox", headers=phone, params={"limit": 3})).json()
    rest = (await api.get("/inbox", headers=phone, params={"limit": 3, "cursor": first["next_cursor"]})).json()
    assert rest["next_cursor"] is None
    kinds = [i["kind"] for i in first["items"] + rest["items"]]
    assert kinds == [f"test.n{n}" for n in (4, 3, 2, 1, 0)]

    target = first["items"][0]["id"]
    once = await api.post(f"/inbox/{target}/read", headers=phone)
    assert once.status_code == 200 and once.json()["read_at"] is not None
    again = await api.post(f"/inbox/{target}/read", headers=phone)
    assert again.json()["read_at"] == once.json()["read_at"]
    unread = (await api.get("/inbox", headers=phone, params={"unread": "true"})).json()["items"]
    assert target not in [i["id"] for i in unread] and len(unread) == 4

    # someone else's notification is not there for you
    theirs = await db.fetchval("SELECT id FROM inbox WHERE user_id = $1", org.ids["supervisor"])
    assert (await api.post(f"/inbox/{theirs}/read", headers=phone)).status_code == 404
    assert await db.fetchval("SELECT read_at FROM inbox WHERE id = $1", theirs) is None


async def test_admins_manage_webhooks_and_only_they_do(api, db):
    org = await build_org(db, "nt4")
    admin = await login(api, org, "admin")
    created = await api.post(
        "/webhooks", headers=admin, json={"url": "https://ops.example.com/hooks", "kinds": ["round.missed"]}
    )
    assert created.status_code == 201, created.text
    hook = created.json()
    assert len(hook["secret"]) >= 32 and hook["active"] is True and hook["kinds"] == ["round.missed"]
    listed = (await api.get("/webhooks", headers=admin)).json()
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    audit = await db.fetch("SELECT after::text FROM audit_log WHERE entity = 'webhook'")
    assert audit and all(hook["secret"] not in r["after"] for r in audit)

    for who in ("supervisor", "staff", "owner"):
        headers = await login(api, org, who)
        assert (await api.get("/webhooks", headers=headers)).status_code == 403
        assert (await api.post("/webhooks", headers=headers, json={"url": "https://x.example"})).status_code == 403
        assert (await api.delete(f"/webhooks/{hook['id']}", headers=headers)).status_code == 403
    bad = await api.post("/webhooks", headers=admin, json={"url": "ftp://ops.example.com"})
    assert bad.status_code in (400, 422), bad.text
    elsewhere = await build_org(db, "nt4b")
    assert (
        await api.delete(f"/webhooks/{hook['id']}", headers=await login(api, elsewhere, "admin"))
    ).status_code == 404

    # only the kinds it takes are queued for it; deleting it drops what it had not been sent
    await notice(db, org, "a", [], kind="round.missed")
    await notice(db, org, "b", [], kind="rectification.overdue")
    queued = await db.fetch(
        "SELECT n.kind, d.channel FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id"
    )
    assert [tuple(r) for r in queued] == [("round.missed", f"webhook:{hook['id']}")]
    assert (await api.delete(f"/webhooks/{hook['id']}", headers=admin)).status_code == 204
    assert (await api.get("/webhooks", headers=admin)).json() == []
    row = await db.fetchrow("SELECT status, last_error FROM notification_deliveries")
    assert tuple(row) == ("dead", "the webhook was deleted")
    await notice(db, org, "c", [], kind="round.missed")
    assert await db.fetchval("SELECT count(*) FROM notification_deliveries") == 1


async def test_a_paused_webhook_is_not_sent_to(api, db):
    org = await build_org(db, "nt5")
    admin = await login(api, org, "admin")
    hook = (await api.post("/webhooks", headers=admin, json={"url": "https://ops.example.com/hook"})).json()
    await notice(db, org, "before", [])
    paused = await api.patch(f"/webhooks/{hook['id']}", headers=admin, json={"active": False})
    assert paused.status_code == 200 and paused.json()["active"] is False
    assert msgspec.json.decode(paused.content).get("secret") is None
    assert await db.fetchval("SELECT status FROM notification_deliveries") == "dead"
    await notice(db, org, "after", [])
    assert await db.fetchval("SELECT count(*) FROM notification_deliveries") == 1
