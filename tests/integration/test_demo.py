"""The demo org the README tour and the benchmarks use."""

from core.demo import ADMIN_EMAIL, PASSWORD, load_demo


async def test_demo_loads_once_and_its_people_can_work(api, db):
    async with db.transaction():
        first = await load_demo(db)
    async with db.transaction():
        again = await load_demo(db)
    assert first.created and not again.created
    assert (again.org_id, again.property_id, again.units, again.owners) == (
        first.org_id,
        first.property_id,
        200,
        first.owners,
    )
    assert 100 < first.owners < 200
    assert await db.fetchval("SELECT count(*) FROM units") == 200

    for login in (ADMIN_EMAIL, first.staff_emails[-1]):
        response = await api.post("/auth/login", json={"login": login, "password": PASSWORD})
        assert response.status_code == 200, response.text
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        properties = (await api.get("/properties", headers=headers)).json()["items"]
        assert [p["id"] for p in properties] == [first.property_id]
        assert properties[0]["timezone"] == "Asia/Shanghai"


async def test_the_demo_s_inspection_setup_loads_once_and_staff_find_their_round(api, db):
    from datetime import UTC, datetime

    from inspections.demo import load_inspection_demo

    async with db.transaction():
        summary = await load_demo(db)
    assert summary.admin_id == await db.fetchval("SELECT id FROM users WHERE email = $1", ADMIN_EMAIL)
    async with db.transaction():
        first = await load_inspection_demo(db, summary, datetime.now(UTC))
    async with db.transaction():
        again = await load_inspection_demo(db, await load_demo(db), datetime.now(UTC))
    assert first.created and not again.created
    assert (again.templates, again.checkpoints, again.rounds) == (2, 6, 2)
    response = await api.post("/auth/login", json={"login": "staff1@demo.fieldwork.local", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    mine = (await api.get("/rounds", headers=headers)).json()["items"]
    assert len(mine) == 1 and mine[0]["status"] == "planned" and len(mine[0]["plan"]["stops"]) == 6


async def test_the_demo_s_service_desk_loads_once_and_an_owner_finds_their_ticket(api, db):
    from datetime import UTC, datetime

    from servicedesk.demo import load_desk_demo

    async with db.transaction():
        summary = await load_demo(db)
        first = await load_desk_demo(db, summary, datetime.now(UTC))
    async with db.transaction():
        again = await load_desk_demo(db, summary, datetime.now(UTC))
    assert (first.tickets, first.created, again.tickets, again.created) == (5, True, 5, False)
    statuses = await db.fetch("SELECT status, count(*) AS n FROM tickets GROUP BY status ORDER BY status")
    assert {r["status"]: r["n"] for r in statuses} == {
        "assigned": 1,
        "closed": 1,
        "confirmed": 1,
        "declined": 1,
        "received": 1,
    }
    response = await api.post("/auth/login", json={"login": ADMIN_EMAIL, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    waiting = await api.get(
        f"/properties/{summary.property_id}/tickets", headers=headers, params={"status": "received"}
    )
    assert [(t["kind"], t["channel"]) for t in waiting.json()["items"]] == [("repair", "app")]
