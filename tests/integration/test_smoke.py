from tests.world import build_org, login


async def test_health_reports_database_and_redis(api):
    response = await api.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] and body["redis"]["ok"]


async def test_admin_lists_properties(api, db):
    org = await build_org(db, "a")
    headers = await login(api, org, "admin")
    response = await api.get("/properties", headers=headers)
    assert response.status_code == 200, response.text
    assert {p["id"] for p in response.json()["items"]} == {org.property_id, org.other_property_id}
