"""Setting up inspections through the API: templates and their immutable versions, checkpoints, routes and the
default responsible person per category, with their refusals and the audit trail."""

import hashlib

import asyncpg
import pytest

from inspections import setup, templates
from tests.world import build_org, login


def checklist(**changes):
    body = {
        "name_zh": "公共区域清洁",
        "name_en": "Common area cleaning",
        "category": "cleaning",
        "items": [
            {"type": "pass_fail", "key": "lobby", "label_zh": "大堂地面", "label_en": "Lobby floor"},
            {
                "type": "number",
                "key": "water",
                "label_zh": "水温",
                "label_en": "Water temperature",
                "min": 40,
                "max": 60,
                "unit": "°C",
            },
            {
                "type": "choice",
                "key": "bins",
                "label_zh": "垃圾桶",
                "label_en": "Bins",
                "options": [
                    {"value": "ok", "label_zh": "正常", "label_en": "OK"},
                    {"value": "full", "label_zh": "满溢", "label_en": "Overflowing", "fails": True},
                ],
            },
        ],
    }
    return {**body, **changes}


async def make_checkpoint(api, headers, property_id, tag, **fields):
    response = await api.post(
        f"/properties/{property_id}/checkpoints", headers=headers, json={"name": tag, "tag_code": tag, **fields}
    )
    assert response.status_code == 201, response.text
    return response.json()


def fields_of(response):
    return [e["field"] for e in response.json()["errors"]]


async def test_an_edit_makes_a_new_version_and_leaves_the_old_one(api, db):
    org = await build_org(db, "tv")
    admin = await login(api, org, "admin")
    created = await api.post("/templates", headers=admin, json=checklist())
    assert created.status_code == 201, created.text
    template = created.json()
    tid = template["id"]
    assert (template["current_version"], template["current"]["id"]) == (1, f"{tid}-v1")
    assert template["current"]["items"][2]["options"][1]["fails"] is True

    items = [*checklist()["items"], {"type": "photo", "key": "after", "label_zh": "完成照片", "label_en": "Photo"}]
    edited = await api.put(f"/templates/{tid}", headers=admin, json=checklist(name_en="Cleaning", items=items))
    assert edited.status_code == 200, edited.text
    assert (edited.json()["current_version"], edited.json()["current"]["id"]) == (2, f"{tid}-v2")

    v1 = (await api.get(f"/templates/{tid}/versions/1", headers=admin)).json()
    assert v1 == template["current"]  # unchanged
    v2 = (await api.get(f"/templates/{tid}/versions/2", headers=admin)).json()
    assert v2["name_en"] == "Cleaning" and [i["key"] for i in v2["items"]][-1] == "after"
    versions = (await api.get(f"/templates/{tid}/versions", headers=admin)).json()
    assert [v["version"] for v in versions] == [2, 1]
    for missing in (3, 0, 2**40):
        assert (await api.get(f"/templates/{tid}/versions/{missing}", headers=admin)).status_code == 404

    # a retried PUT with the same content makes no version
    again = await api.put(f"/templates/{tid}", headers=admin, json=checklist(name_en="Cleaning", items=items))
    assert again.status_code == 200 and again.json() == edited.json()
    assert await db.fetchval("SELECT count(*) FROM template_versions WHERE template_id = $1", tid) == 2

    # the database refuses to change a version row
    with pytest.raises(asyncpg.RaiseError):
        await db.execute("UPDATE template_versions SET name_en = 'x' WHERE id = $1", f"{tid}-v1")

    trail = (await api.get("/audit", headers=admin, params={"entity": "template", "entity_id": tid})).json()
    assert [e["action"] for e in trail["items"]] == ["update", "create"]
    assert trail["items"][0]["before"]["current_version"] == 1 and trail["items"][0]["after"]["current_version"] == 2

    # other code starts rounds from the current version and reads versions by id
    assert await templates.current_version_id(db, org.org_id, tid) == f"{tid}-v2"
    version = await templates.template_version(db, org.org_id, f"{tid}-v1")
    assert version is not None and version.name_en == "Common area cleaning" and len(version.items) == 3


async def test_bad_checklist_items_are_refused_naming_the_field(api, db):
    org = await build_org(db, "ti")
    admin = await login(api, org, "admin")
    base = checklist()["items"]
    duplicate = await api.post("/templates", headers=admin, json=checklist(items=[*base, base[0]]))
    assert duplicate.status_code == 422 and fields_of(duplicate) == ["items[3].key"]
    bounds = {**base[1], "min": 70}
    assert fields_of(await api.post("/templates", headers=admin, json=checklist(items=[bounds]))) == ["items[0].max"]
    options = base[2]["options"]
    all_fail = {**base[2], "options": [{**o, "fails": True} for o in options]}
    twice = {**base[2], "key": "b2", "options": [options[0], {**options[1], "value": "ok"}]}
    both = await api.post("/templates", headers=admin, json=checklist(items=[all_fail, twice]))
    assert both.status_code == 422
    assert fields_of(both) == ["items[0].options", "items[1].options[1].value"]
    # what msgspec refuses: no items, an unknown kind, an unknown category
    assert (await api.post("/templates", headers=admin, json=checklist(items=[]))).status_code == 422
    unknown = {**base[0], "type": "slider"}
    assert (await api.post("/templates", headers=admin, json=checklist(items=[unknown]))).status_code == 422
    assert (await api.post("/templates", headers=admin, json=checklist(category="magic"))).status_code == 422
    assert await db.fetchval("SELECT count(*) FROM checklist_templates") == 0

    # an edit is checked the same way and leaves the template as it was
    tid = (await api.post("/templates", headers=admin, json=checklist())).json()["id"]
    edit = await api.put(f"/templates/{tid}", headers=admin, json=checklist(items=[*base, base[1]]))
    assert edit.status_code == 422 and fields_of(edit) == ["items[3].key"]
    assert await db.fetchval("SELECT current_version FROM checklist_templates WHERE id = $1", tid) == 1


async def test_templates_by_role_and_tenant(api, db):
    org, other = await build_org(db, "tr"), await build_org(db, "tr2")
    admin, staff, owner = [await login(api, org, who) for who in ("admin", "staff", "owner")]
    assert (await api.post("/templates", headers=staff, json=checklist())).status_code == 403
    tid = (await api.post("/templates", headers=admin, json=checklist())).json()["id"]
    listed = await api.get("/templates", headers=staff)
    assert listed.status_code == 200 and [t["id"] for t in listed.json()["items"]] == [tid]
    assert (await api.get(f"/templates/{tid}", headers=staff)).status_code == 200
    assert (await api.put(f"/templates/{tid}", headers=staff, json=checklist(name_en="x"))).status_code == 403
    assert (await api.delete(f"/templates/{tid}", headers=staff)).status_code == 403
    assert (await api.get("/templates", headers=owner)).status_code == 403

    stranger = await login(api, other, "admin")
    for response in (
        await api.get(f"/templates/{tid}", headers=stranger),
        await api.get(f"/templates/{tid}/versions", headers=stranger),
        await api.get(f"/templates/{tid}/versions/1", headers=stranger),
        await api.put(f"/templates/{tid}", headers=stranger, json=checklist(name_en="x")),
        await api.delete(f"/templates/{tid}", headers=stranger),
    ):
        assert response.status_code == 404, response.text
    assert (await api.get("/templates", headers=stranger)).json()["items"] == []
    assert await db.fetchval("SELECT count(*) FROM template_versions") == 1


async def test_archived_templates_are_hidden_and_keep_their_versions(api, db):
    org = await build_org(db, "ta")
    admin = await login(api, org, "admin")
    ids = sorted([(await api.post("/templates", headers=admin, json=checklist())).json()["id"] for _ in range(3)])
    first = (await api.get("/templates", headers=admin, params={"limit": 2})).json()
    rest = (await api.get("/templates", headers=admin, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [t["id"] for t in first["items"] + rest["items"]] == ids and rest["next_cursor"] is None

    assert (await api.delete(f"/templates/{ids[0]}", headers=admin)).status_code == 204
    assert (await api.delete(f"/templates/{ids[0]}", headers=admin)).status_code == 204  # once is enough
    assert [t["id"] for t in (await api.get("/templates", headers=admin)).json()["items"]] == ids[1:]
    shown = (await api.get("/templates", headers=admin, params={"archived": "true"})).json()["items"]
    assert [(t["id"], t["archived"]) for t in shown] == [(ids[0], True), (ids[1], False), (ids[2], False)]
    assert (await api.get(f"/templates/{ids[0]}/versions/1", headers=admin)).status_code == 200
    assert (await api.put(f"/templates/{ids[0]}", headers=admin, json=checklist(name_en="x"))).status_code == 409
    assert await templates.current_version_id(db, org.org_id, ids[0]) is None
    assert await templates.template_version(db, org.org_id, f"{ids[0]}-v1") is not None
    trail = (await api.get("/audit", headers=admin, params={"entity": "template", "entity_id": ids[0]})).json()
    assert [e["action"] for e in trail["items"]] == ["archive", "create"]


async def test_checkpoints_tags_and_who_sees_the_codes(api, db):
    org, other = await build_org(db, "cp"), await build_org(db, "cp2")
    admin = await login(api, org, "admin")
    gate = await make_checkpoint(
        api, admin, org.property_id, "FW-GATE-01", building_id=org.building_id, geo_lat=31.2, geo_lon=121.4
    )
    assert gate["tag_digest"] == hashlib.sha256(b"FW-GATE-01").hexdigest()
    await make_checkpoint(api, admin, org.property_id, "FW-ROOF-02")

    # tag codes are unique in the org, on create and on change
    taken = await api.post(
        f"/properties/{org.other_property_id}/checkpoints", headers=admin, json={"name": "x", "tag_code": "FW-GATE-01"}
    )
    assert taken.status_code == 409 and taken.json()["field"] == "tag_code"
    roof = (await api.get(f"/properties/{org.property_id}/checkpoints", headers=admin)).json()["items"]
    roof_id = next(c["id"] for c in roof if c["name"] == "FW-ROOF-02")
    clash = await api.patch(f"/checkpoints/{roof_id}", headers=admin, json={"tag_code": "FW-GATE-01"})
    assert clash.status_code == 409 and clash.json()["field"] == "tag_code"
    # the same code in another org is no clash
    await make_checkpoint(api, await login(api, other, "admin"), other.property_id, "FW-GATE-01")

    wrong_building = await api.post(
        f"/properties/{org.other_property_id}/checkpoints",
        headers=admin,
        json={"name": "x", "tag_code": "T-9", "building_id": org.building_id},
    )
    assert wrong_building.status_code == 422 and fields_of(wrong_building) == ["building_id"]
    half = await api.post(
        f"/properties/{org.property_id}/checkpoints", headers=admin, json={"name": "x", "tag_code": "T-8", "geo_lat": 1}
    )
    assert half.status_code == 422 and fields_of(half) == ["geo_lat", "geo_lon"]

    staff, supervisor = await login(api, org, "staff"), await login(api, org, "supervisor")
    seen = (await api.get(f"/properties/{org.property_id}/checkpoints", headers=staff)).json()["items"]
    assert len(seen) == 2 and all(c["tag_code"] is None and len(c["tag_digest"]) == 64 for c in seen)
    assert (await api.get(f"/checkpoints/{gate['id']}", headers=staff)).json()["tag_code"] is None
    assert (await api.get(f"/checkpoints/{gate['id']}", headers=supervisor)).json()["tag_code"] == "FW-GATE-01"
    assert (await api.patch(f"/checkpoints/{gate['id']}", headers=supervisor, json={"name": "y"})).status_code == 403
    assert (await api.post(f"/properties/{org.property_id}/checkpoints", headers=staff, json={})).status_code == 403

    # staff of another property, and another org, do not see it at all
    elsewhere = await login(api, org, "elsewhere")
    assert (await api.get(f"/checkpoints/{gate['id']}", headers=elsewhere)).status_code == 404
    assert (await api.get(f"/properties/{org.property_id}/checkpoints", headers=elsewhere)).status_code == 404
    stranger = await login(api, other, "admin")
    assert (await api.get(f"/checkpoints/{gate['id']}", headers=stranger)).status_code == 404
    assert (await api.patch(f"/checkpoints/{gate['id']}", headers=stranger, json={"name": "y"})).status_code == 404

    retired = await api.patch(f"/checkpoints/{roof_id}", headers=admin, json={"active": False, "tag_code": "FW-R-3"})
    assert retired.status_code == 200 and (retired.json()["active"], retired.json()["tag_code"]) == (False, "FW-R-3")
    active = await api.get(f"/properties/{org.property_id}/checkpoints", headers=admin, params={"active": "true"})
    assert [c["id"] for c in active.json()["items"]] == [gate["id"]]
    assert await setup.checkpoint(db, org.org_id, roof_id) == {
        "id": roof_id,
        "property_id": org.property_id,
        "name": "FW-ROOF-02",
        "tag_code": "FW-R-3",
        "location": "",
        "active": False,
    }
    trail = (await api.get("/audit", headers=admin, params={"entity": "checkpoint", "entity_id": roof_id})).json()
    assert [e["action"] for e in trail["items"]] == ["update", "create"]
    assert trail["items"][0]["before"]["tag_code"] == "FW-ROOF-02"


async def test_routes_take_active_checkpoints_of_their_property(api, db):
    org, other = await build_org(db, "rt"), await build_org(db, "rt2")
    admin = await login(api, org, "admin")
    a = await make_checkpoint(api, admin, org.property_id, "R-A")
    b = await make_checkpoint(api, admin, org.property_id, "R-B")
    far = await make_checkpoint(api, admin, org.other_property_id, "R-FAR")
    body = {
        "name": "夜间巡更 Night patrol",
        "stops": [{"checkpoint_id": a["id"]}, {"checkpoint_id": b["id"], "minutes": 10}],
        "window_start": "22:00",
        "window_end": "06:00",
    }
    created = await api.post(f"/properties/{org.property_id}/routes", headers=admin, json=body)
    assert created.status_code == 201, created.text
    route = created.json()
    assert (route["expected_minutes"], route["tolerance_minutes"], route["active"]) == (10, 5, True)

    def stops(*ids):
        return {**body, "stops": [{"checkpoint_id": i, "minutes": 5} for i in ids]}

    url = f"/properties/{org.property_id}/routes"
    elsewhere = await api.post(url, headers=admin, json=stops(a["id"], far["id"]))
    assert elsewhere.status_code == 422 and fields_of(elsewhere) == ["stops[1].checkpoint_id"]
    repeated = await api.post(url, headers=admin, json=stops(a["id"], b["id"], a["id"]))
    assert repeated.status_code == 422 and fields_of(repeated) == ["stops[2].checkpoint_id"]
    one_sided = await api.post(url, headers=admin, json={**body, "window_end": None})
    assert one_sided.status_code == 422 and fields_of(one_sided) == ["window_start", "window_end"]
    assert (await api.post(url, headers=admin, json={**body, "window_start": "24:00"})).status_code == 422
    assert (await api.post(url, headers=admin, json={**body, "tolerance_minutes": 121})).status_code == 422
    assert (await api.post(url, headers=admin, json={**body, "stops": []})).status_code == 422

    await api.patch(f"/checkpoints/{b['id']}", headers=admin, json={"active": False})
    retired = await api.put(f"/routes/{route['id']}", headers=admin, json=body)
    assert retired.status_code == 422 and fields_of(retired) == ["stops[1].checkpoint_id"]
    c = await make_checkpoint(api, admin, org.property_id, "R-C")
    replaced = await api.put(f"/routes/{route['id']}", headers=admin, json={**stops(c["id"], a["id"]), "name": "N"})
    assert replaced.status_code == 200 and replaced.json()["expected_minutes"] == 10
    assert [s["checkpoint_id"] for s in replaced.json()["stops"]] == [c["id"], a["id"]]

    property_id, plan = await setup.route_plan(db, org.org_id, route["id"])
    assert property_id == org.property_id and [s.checkpoint_id for s in plan.stops] == [c["id"], a["id"]]

    staff = await login(api, org, "staff")
    assert (await api.get(f"/routes/{route['id']}", headers=staff)).status_code == 200
    assert (await api.delete(f"/routes/{route['id']}", headers=staff)).status_code == 403
    stranger = await login(api, other, "admin")
    assert (await api.get(f"/routes/{route['id']}", headers=stranger)).status_code == 404
    assert (await api.put(f"/routes/{route['id']}", headers=stranger, json=body)).status_code == 404
    assert (await api.get(url, headers=stranger)).status_code == 404

    assert (await api.delete(f"/routes/{route['id']}", headers=admin)).status_code == 204
    assert (await api.get(f"/routes/{route['id']}", headers=admin)).json()["active"] is False
    assert await setup.route_plan(db, org.org_id, route["id"]) is None
    trail = (await api.get("/audit", headers=admin, params={"entity": "route", "entity_id": route["id"]})).json()
    assert [e["action"] for e in trail["items"]] == ["deactivate", "update", "create"]


async def test_default_responsible_must_work_at_the_property(api, db):
    org = await build_org(db, "rd")
    admin, supervisor, staff = [await login(api, org, who) for who in ("admin", "supervisor", "staff")]
    url = f"/properties/{org.property_id}/rectification-defaults"
    for who in ("elsewhere", "owner", "admin"):
        refused = await api.put(f"{url}/cleaning", headers=admin, json={"user_id": org.ids[who]})
        assert refused.status_code == 422 and fields_of(refused) == ["user_id"], who
    unknown = await api.put(f"{url}/magic", headers=admin, json={"user_id": org.ids["staff"]})
    assert unknown.status_code == 422 and fields_of(unknown) == ["category"]
    assert (await api.put(f"{url}/cleaning", headers=supervisor, json={"user_id": org.ids["staff"]})).status_code == 403

    done = await api.put(f"{url}/cleaning", headers=admin, json={"user_id": org.ids["staff"]})
    assert done.status_code == 200 and done.json()["user_name"] == "Staff"
    assert (await api.put(f"{url}/cleaning", headers=admin, json={"user_id": org.ids["supervisor"]})).status_code == 200
    await api.put(f"{url}/safety", headers=admin, json={"user_id": org.ids["staff"]})
    listed = (await api.get(url, headers=supervisor)).json()
    assert [(d["category"], d["user_id"]) for d in listed] == [
        ("cleaning", org.ids["supervisor"]),
        ("safety", org.ids["staff"]),
    ]
    assert (await api.get(url, headers=staff)).status_code == 403
    assert await setup.default_responsible(db, org.org_id, org.property_id, "cleaning") == org.ids["supervisor"]

    assert (await api.delete(f"{url}/cleaning", headers=admin)).status_code == 204
    assert (await api.delete(f"{url}/cleaning", headers=admin)).status_code == 404
    assert await setup.default_responsible(db, org.org_id, org.property_id, "cleaning") is None
    # someone no longer assigned to the property answers for nothing there
    await db.execute("DELETE FROM property_staff WHERE user_id = $1", org.ids["staff"])
    assert await setup.default_responsible(db, org.org_id, org.property_id, "safety") is None

    entity_id = f"{org.property_id}:cleaning"
    params = {"entity": "rectification_default", "entity_id": entity_id}
    trail = (await api.get("/audit", headers=admin, params=params)).json()
    assert [e["action"] for e in trail["items"]] == ["delete", "update", "create"]
    assert trail["items"][1]["before"]["user_id"] == org.ids["staff"]
