"""Who sees what: another org's objects are 404 for every role; each role stays inside its scope."""

import pytest

from tests.world import build_org, login

# (method, path, JSON body) with {placeholders} filled from org B's world
CROSS_ORG_ROUTES = [
    ("GET", "/properties/{property_id}", None),
    ("PATCH", "/properties/{property_id}", {"name": "taken over"}),
    ("DELETE", "/properties/{property_id}", None),
    ("GET", "/properties/{property_id}/buildings", None),
    ("POST", "/properties/{property_id}/buildings", {"name": "9号楼"}),
    ("GET", "/properties/{property_id}/units", None),
    ("POST", "/properties/{property_id}/units", {"building_id": "{building_id}", "number": "909"}),
    ("GET", "/properties/{property_id}/staff", None),
    ("PUT", "/properties/{property_id}/staff/{staff}", None),
    ("DELETE", "/properties/{property_id}/staff/{staff}", None),
    ("GET", "/buildings/{building_id}", None),
    ("PATCH", "/buildings/{building_id}", {"name": "taken"}),
    ("DELETE", "/buildings/{building_id}", None),
    ("GET", "/units/{unit_id}", None),
    ("PATCH", "/units/{unit_id}", {"floor": 9}),
    ("DELETE", "/units/{unit_id}", None),
    ("GET", "/units/{unit_id}/owners", None),
    ("PUT", "/units/{unit_id}/owners/{owner}", None),
    ("DELETE", "/units/{unit_id}/owners/{owner}", None),
    ("GET", "/users/{staff}", None),
    ("PATCH", "/users/{staff}", {"name": "taken"}),
    ("POST", "/users/{owner}/invitation", None),
    ("POST", "/properties/{property_id}/imports", "file"),
]
TENANT_TABLES = ["orgs", "properties", "buildings", "units", "users", "property_staff", "unit_owners", "invitations"]


def fill(template, org):
    values = {
        "property_id": org.property_id,
        "building_id": org.building_id,
        "unit_id": org.unit_id,
        "staff": org.ids["staff"],
        "owner": org.ids["owner"],
    }
    if isinstance(template, str):
        return template.format(**values)
    if isinstance(template, dict):
        return {k: fill(v, org) for k, v in template.items()}
    return template


async def fingerprint(db) -> dict[str, str]:
    """A digest of every tenant table's rows, to prove a refused request changed nothing."""
    return {
        t: await db.fetchval(f"SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM {t} x")
        for t in TENANT_TABLES
    }


@pytest.mark.parametrize("role", ["admin", "supervisor", "staff", "owner"])
async def test_every_kind_of_another_orgs_object_answers_404(api, db, role):
    a, b = await build_org(db, "a"), await build_org(db, "b")
    headers = await login(api, a, role)
    before = await fingerprint(db)
    wrong = []
    for method, path, body in CROSS_ORG_ROUTES:
        url = fill(path, b)
        if body == "file":
            response = await api.request(method, url, headers=headers, files={"file": ("u.csv", b"building,unit\n")})
        else:
            response = await api.request(method, url, headers=headers, json=fill(body, b))
        problem = response.json()
        if response.status_code != 404 or problem.get("code") != "not_found":
            wrong.append(f"{method} {path}: {response.status_code} {problem.get('detail')}")
        assert response.headers["content-type"].startswith("application/problem+json")
    assert wrong == []
    assert await fingerprint(db) == before


async def test_mixing_own_and_foreign_ids_is_404_too(api, db):
    a, b = await build_org(db, "a"), await build_org(db, "b")
    admin = await login(api, a, "admin")
    before = await fingerprint(db)
    for method, path in [
        ("PUT", f"/properties/{a.property_id}/staff/{b.ids['staff']}"),
        ("PUT", f"/units/{a.unit_id}/owners/{b.ids['owner']}"),
        ("POST", f"/properties/{a.property_id}/units"),
    ]:
        body = {"building_id": b.building_id, "number": "1"} if method == "POST" else None
        response = await api.request(method, path, headers=admin, json=body)
        assert response.status_code in (404, 422), (path, response.text)  # a foreign building is just "no such"
    assert await fingerprint(db) == before
    listed = (await api.get("/users", headers=admin, params={"limit": 500})).json()["items"]
    assert {u["id"] for u in listed} == set(a.ids.values())


async def test_an_owner_sees_their_unit_and_nothing_of_others(api, db):
    org = await build_org(db, "o")
    owner = await login(api, org, "owner")
    me = (await api.get("/me", headers=owner)).json()
    assert me["unit_ids"] == [org.unit_id] and me["property_ids"] == [org.property_id]
    assert (await api.get(f"/units/{org.unit_id}", headers=owner)).status_code == 200
    assert (await api.get(f"/units/{org.other_unit_id}", headers=owner)).status_code == 404
    for path in (
        "/users",
        f"/properties/{org.property_id}/staff",
        f"/properties/{org.property_id}/units",
        f"/units/{org.unit_id}/owners",
    ):
        response = await api.get(path, headers=owner)
        assert response.status_code == 403, (path, response.text)
    assert (await api.get(f"/users/{org.ids['staff']}", headers=owner)).status_code == 404
    assert (await api.get(f"/properties/{org.other_property_id}", headers=owner)).status_code == 404


async def test_staff_see_only_their_assigned_properties(api, db):
    org = await build_org(db, "s")
    staff = await login(api, org, "staff")
    listed = (await api.get("/properties", headers=staff)).json()["items"]
    assert [p["id"] for p in listed] == [org.property_id]
    assert (await api.get(f"/properties/{org.other_property_id}", headers=staff)).status_code == 404
    assert (await api.get(f"/properties/{org.other_property_id}/units", headers=staff)).status_code == 404
    assert (await api.get(f"/properties/{org.property_id}/units", headers=staff)).status_code == 200
    assert (await api.get(f"/users/{org.ids['staff']}", headers=staff)).status_code == 200  # themselves
    assert (await api.get(f"/users/{org.ids['supervisor']}", headers=staff)).status_code == 404
    before = await fingerprint(db)
    for method, path, body in [
        ("POST", "/properties", {"name": "Mine now"}),
        ("PATCH", f"/properties/{org.property_id}", {"name": "renamed"}),
        ("POST", f"/properties/{org.property_id}/buildings", {"name": "9"}),
        ("GET", "/users", None),
        ("POST", "/users", {"name": "x", "role": "admin", "email": "x@x.test", "password": "long-enough"}),
    ]:
        response = await api.request(method, path, headers=staff, json=body)
        assert response.status_code == 403, (path, response.text)
    assert await fingerprint(db) == before


async def test_a_supervisor_acts_only_inside_their_properties(api, db):
    org = await build_org(db, "v")
    supervisor = await login(api, org, "supervisor")
    admin = await login(api, org, "admin")
    # an owner elsewhere, out of the supervisor's sight
    far = (await api.post(f"/properties/{org.other_property_id}/buildings", headers=admin, json={"name": "B"})).json()
    far_unit = (
        await api.post(
            f"/properties/{org.other_property_id}/units", headers=admin, json={"building_id": far["id"], "number": "1"}
        )
    ).json()
    far_owner = (await api.post("/users", headers=admin, json={"name": "Far", "role": "owner"})).json()
    assert (await api.put(f"/units/{far_unit['id']}/owners/{far_owner['id']}", headers=admin)).status_code == 200
    near_owner = (await api.post("/users", headers=admin, json={"name": "Near", "role": "owner"})).json()

    before = await fingerprint(db)
    assert (await api.get(f"/properties/{org.other_property_id}", headers=supervisor)).status_code == 404
    assert (await api.put(f"/units/{far_unit['id']}/owners/{near_owner['id']}", headers=supervisor)).status_code == 404
    assert (await api.post(f"/users/{far_owner['id']}/invitation", headers=supervisor)).status_code == 404
    assert (await api.post("/properties", headers=supervisor, json={"name": "X"})).status_code == 403
    assert (await api.post("/users", headers=supervisor, json={"name": "x", "role": "owner"})).status_code == 403
    assert (
        await api.put(f"/properties/{org.property_id}/staff/{org.ids['elsewhere']}", headers=supervisor)
    ).status_code == 403
    assert await fingerprint(db) == before

    # inside: link an owner to a unit, issue their code, see the people of the property
    assert (
        await api.put(f"/units/{org.other_unit_id}/owners/{near_owner['id']}", headers=supervisor)
    ).status_code == 200
    assert (await api.post(f"/users/{near_owner['id']}/invitation", headers=supervisor)).status_code == 201
    people = {u["id"] for u in (await api.get("/users", headers=supervisor)).json()["items"]}
    assert {org.ids["staff"], org.ids["owner"], near_owner["id"]} <= people
    assert org.ids["elsewhere"] not in people and far_owner["id"] not in people
    staff = (await api.get(f"/properties/{org.property_id}/staff", headers=supervisor)).json()
    assert {u["id"] for u in staff} == {org.ids["staff"], org.ids["supervisor"]}
