"""Properties, buildings and units through the API: create, change, page, delete, and the audit trail."""

from tests.world import build_org, login


async def test_property_lifecycle_with_audit_trail(api, db):
    org = await build_org(db, "pl")
    admin = await login(api, org, "admin")
    created = await api.post(
        "/properties",
        headers=admin,
        json={
            "name": "滨江苑 Riverside",
            "timezone": "America/New_York",
            "address": "1 River Rd",
            "geo_lat": 40.7,
            "geo_lon": -74.0,
            "geo_radius_m": 200,
        },
    )
    assert created.status_code == 201, created.text
    prop = created.json()
    changed = await api.patch(f"/properties/{prop['id']}", headers=admin, json={"name": "Riverside 滨江苑"})
    assert changed.status_code == 200 and changed.json()["name"] == "Riverside 滨江苑"
    assert changed.json()["timezone"] == "America/New_York"  # untouched fields stay
    trail = (await api.get("/audit", headers=admin, params={"entity": "property", "entity_id": prop["id"]})).json()
    assert [e["action"] for e in trail["items"]] == ["update", "create"]
    update = trail["items"][0]
    assert update["actor_id"] == org.ids["admin"]
    assert update["before"]["name"] == "滨江苑 Riverside" and update["after"]["name"] == "Riverside 滨江苑"
    assert (await api.delete(f"/properties/{prop['id']}", headers=admin)).status_code == 204
    assert (await api.get(f"/properties/{prop['id']}", headers=admin)).status_code == 404


async def test_bad_zone_and_half_a_geofence_are_refused(api, db):
    org = await build_org(db, "tz")
    admin = await login(api, org, "admin")
    zone = await api.post("/properties", headers=admin, json={"name": "X", "timezone": "Mars/Olympus"})
    assert zone.status_code == 422 and zone.json()["errors"][0]["field"] == "timezone"
    fence = await api.post("/properties", headers=admin, json={"name": "Y", "geo_lat": 31.2})
    assert fence.status_code == 422
    assert {e["field"] for e in fence.json()["errors"]} == {"geo_lat", "geo_lon", "geo_radius_m"}
    duplicate = await api.post("/properties", headers=admin, json={"name": f"Garden {org.tag}"})
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "name"
    assert await db.fetchval("SELECT count(*) FROM properties") == 2


async def test_units_page_by_cursor_without_gaps_or_repeats(api, db):
    org = await build_org(db, "pg")
    admin = await login(api, org, "admin")
    for n in range(3, 26):
        response = await api.post(
            f"/properties/{org.property_id}/units",
            headers=admin,
            json={"building_id": org.building_id, "number": f"{n:03d}", "floor": 1},
        )
        assert response.status_code == 201, response.text
    seen, cursor = [], None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = (await api.get(f"/properties/{org.property_id}/units", headers=admin, params=params)).json()
        seen += [u["id"] for u in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert len(seen) == len(set(seen)) == 25


async def test_building_and_unit_changes_and_guarded_deletes(api, db):
    org = await build_org(db, "bu")
    admin = await login(api, org, "admin")
    renamed = await api.patch(f"/buildings/{org.building_id}", headers=admin, json={"name": "A座"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "A座"
    unit = await api.patch(f"/units/{org.other_unit_id}", headers=admin, json={"floor": 3, "area_m2": 88.5})
    assert unit.status_code == 200 and (unit.json()["floor"], unit.json()["area_m2"]) == (3, 88.5)
    # a building with units, a property with buildings, a unit with an owner: refused, nothing removed
    assert (await api.delete(f"/buildings/{org.building_id}", headers=admin)).status_code == 409
    assert (await api.delete(f"/properties/{org.property_id}", headers=admin)).status_code == 409
    assert (await api.delete(f"/units/{org.unit_id}", headers=admin)).status_code == 409
    assert await db.fetchval("SELECT count(*) FROM units") == 2
    # the refused property delete had removed the staff assignments first; the request rolled that back
    assert await db.fetchval("SELECT count(*) FROM property_staff WHERE property_id = $1", org.property_id) == 2
    assert (await api.delete(f"/units/{org.other_unit_id}", headers=admin)).status_code == 204
    wrong_building = await api.post(
        f"/properties/{org.other_property_id}/units",
        headers=admin,
        json={"building_id": org.building_id, "number": "9"},
    )
    assert wrong_building.status_code == 422 and wrong_building.json()["errors"][0]["field"] == "building_id"
