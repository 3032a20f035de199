"""Per-role permissions through the API: what each role can reach, what it is refused, and that a refusal
changes nothing while a success leaves an audit row.

Out of sight (another org, or a property outside the caller's scope) answers 404 as if it did not exist;
in sight but not the caller's to change answers 403; a route the caller's role may never use answers 403 before
any lookup, whatever the id.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import httpx
import pytest

from api.app import create_app
from core.access import Caller
from core.people import service as people
from core.people.schemas import UserCreate
from core.places import service as places
from core.places.schemas import BuildingCreate, UnitCreate
from tests.world import Org, build_org, login

ROLES = ["admin", "supervisor", "staff", "owner"]


@dataclass(frozen=True)
class Targets:
    """One property's worth of objects to aim requests at."""

    property_id: str
    building_id: str
    unit_id: str
    staff_id: str
    owner_id: str


def main_side(org: Org) -> Targets:
    """The org's first property, where its supervisor and staff work and its owner lives."""
    return Targets(org.property_id, org.building_id, org.unit_id, org.ids["staff"], org.ids["owner"])


async def furnish_other_side(db, org: Org) -> Targets:
    """Give the org's second property a building, a unit and an owner (its staff member is "elsewhere")."""
    admin = Caller(org_id=org.org_id, user_id=org.ids["admin"], role="admin", session_id="test")
    building = await places.create_building(db, admin, org.other_property_id, BuildingCreate(name="2号楼"))
    unit = await places.create_unit(db, admin, org.other_property_id, UnitCreate(building_id=building.id, number="201"))
    owner = await people.create_user(db, admin, UserCreate(name="Far owner", role="owner"))
    await people.link_owner(db, admin, unit.id, owner.id)
    return Targets(org.other_property_id, building.id, unit.id, org.ids["elsewhere"], owner.id)


# Every route that names an object: (method, path, JSON body); {placeholders} are Targets fields.
OBJECT_ROUTES = [
    ("GET", "/properties/{property_id}", None),
    ("PATCH", "/properties/{property_id}", {"name": "taken over"}),
    ("DELETE", "/properties/{property_id}", None),
    ("GET", "/properties/{property_id}/buildings", None),
    ("POST", "/properties/{property_id}/buildings", {"name": "9号楼"}),
    ("GET", "/properties/{property_id}/units", None),
    ("POST", "/properties/{property_id}/units", {"building_id": "{building_id}", "number": "909"}),
    ("GET", "/properties/{property_id}/staff", None),
    ("PUT", "/properties/{property_id}/staff/{staff_id}", None),
    ("DELETE", "/properties/{property_id}/staff/{staff_id}", None),
    ("GET", "/buildings/{building_id}", None),
    ("PATCH", "/buildings/{building_id}", {"name": "taken"}),
    ("DELETE", "/buildings/{building_id}", None),
    ("GET", "/units/{unit_id}", None),
    ("PATCH", "/units/{unit_id}", {"floor": 9}),
    ("DELETE", "/units/{unit_id}", None),
    ("GET", "/units/{unit_id}/owners", None),
    ("PUT", "/units/{unit_id}/owners/{owner_id}", None),
    ("DELETE", "/units/{unit_id}/owners/{owner_id}", None),
    ("GET", "/users/{staff_id}", None),
    ("PATCH", "/users/{staff_id}", {"name": "taken", "active": False}),
    ("GET", "/users/{owner_id}", None),
    ("PATCH", "/users/{owner_id}", {"role": "admin"}),
    ("POST", "/users/{owner_id}/invitation", None),
]

# Rows of every table a request could change; the audit log too, so a refusal must not write one either.
TABLES = [
    "orgs",
    "properties",
    "buildings",
    "units",
    "users",
    "property_staff",
    "unit_owners",
    "invitations",
    "audit_log",
]


def fill(template, values: dict[str, str]):
    """Put ids into a path or into the strings of a JSON body (other values stay as they are)."""
    if isinstance(template, str):
        return template.format(**values)
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    return template


async def fingerprint(db) -> dict[str, str]:
    """A digest of every table's rows: equal before and after means a request changed nothing."""
    return {
        table: await db.fetchval(f"SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {table} t")
        for table in TABLES
    }


def problem_code(response: httpx.Response) -> str | None:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return None
    return response.json().get("code")


async def refusals(api, headers, requests, expected_status: int, expected_code: str) -> list[str]:
    """Send each (method, path, body); list those not refused with the expected problem."""
    wrong = []
    for method, path, body in requests:
        response = await api.request(method, path, headers=headers, json=body)
        if response.status_code != expected_status or problem_code(response) != expected_code:
            wrong.append(f"{method} {path} -> {response.status_code} {response.text[:200]}")
    return wrong


def aimed_at(routes, values: dict[str, str]) -> list[tuple[str, str, object]]:
    return [(method, fill(path, values), fill(body, values)) for method, path, body in routes]


# (a) another org's objects


@pytest.mark.parametrize("role", ROLES)
async def test_another_orgs_objects_answer_404_on_every_route(api, db, role):
    a, b = await build_org(db, "a"), await build_org(db, "b")
    headers = await login(api, a, role)
    before = await fingerprint(db)
    assert await refusals(api, headers, aimed_at(OBJECT_ROUTES, asdict(main_side(b))), 404, "not_found") == []
    assert await fingerprint(db) == before


async def test_own_objects_mixed_with_another_orgs_ids_answer_404(api, db):
    a, b = await build_org(db, "a"), await build_org(db, "b")
    admin, supervisor = await login(api, a, "admin"), await login(api, a, "supervisor")
    before = await fingerprint(db)
    mixed = [
        ("PUT", f"/properties/{a.property_id}/staff/{b.ids['staff']}", None),
        ("PUT", f"/units/{a.unit_id}/owners/{b.ids['owner']}", None),
    ]
    assert await refusals(api, admin, mixed, 404, "not_found") == []
    assert await refusals(api, supervisor, mixed[1:], 404, "not_found") == []
    foreign_building = [("POST", f"/properties/{a.property_id}/units", {"building_id": b.building_id, "number": "1"})]
    assert await refusals(api, admin, foreign_building, 422, "invalid") == []
    assert await fingerprint(db) == before
    trail = await api.get("/audit", headers=admin, params={"entity_id": b.property_id})
    assert trail.status_code == 200 and trail.json()["items"] == []


# (b) owners


async def test_an_owner_sees_their_unit_and_nothing_else(api, db):
    org = await build_org(db, "o")
    owner = await login(api, org, "owner")
    me = await api.get("/me", headers=owner)
    assert me.status_code == 200
    assert me.json()["unit_ids"] == [org.unit_id] and me.json()["property_ids"] == [org.property_id]
    unit = await api.get(f"/units/{org.unit_id}", headers=owner)
    assert unit.status_code == 200 and unit.json()["number"] == "101"
    assert (await api.get(f"/users/{org.ids['owner']}", headers=owner)).status_code == 200  # themselves

    listing_people_or_units = [
        ("GET", "/users", None),
        ("GET", f"/properties/{org.property_id}/staff", None),
        ("GET", f"/properties/{org.property_id}/units", None),
        ("GET", f"/units/{org.unit_id}/owners", None),
    ]
    assert await refusals(api, owner, listing_people_or_units, 403, "forbidden") == []
    out_of_sight = [
        ("GET", f"/units/{org.other_unit_id}", None),
        ("GET", f"/units/{org.other_unit_id}/owners", None),
        ("GET", f"/users/{org.ids['staff']}", None),
        ("GET", f"/users/{org.ids['supervisor']}", None),
        ("GET", f"/properties/{org.other_property_id}", None),
    ]
    assert await refusals(api, owner, out_of_sight, 404, "not_found") == []


# (c) staff


@pytest.mark.parametrize(("who", "assigned"), [("staff", "property_id"), ("elsewhere", "other_property_id")])
async def test_staff_see_only_their_assigned_property(api, db, who, assigned):
    org = await build_org(db, "s")
    mine = getattr(org, assigned)
    theirs = org.other_property_id if mine == org.property_id else org.property_id
    headers = await login(api, org, who)
    listed = await api.get("/properties", headers=headers)
    assert listed.status_code == 200 and [p["id"] for p in listed.json()["items"]] == [mine]
    assert (await api.get("/me", headers=headers)).json()["property_ids"] == [mine]
    assert (await api.get(f"/properties/{mine}", headers=headers)).status_code == 200
    assert (await api.get(f"/properties/{mine}/units", headers=headers)).status_code == 200
    not_assigned = [
        ("GET", f"/properties/{theirs}", None),
        ("GET", f"/properties/{theirs}/buildings", None),
        ("GET", f"/properties/{theirs}/units", None),
        ("GET", f"/properties/{theirs}/staff", None),
    ]
    assert await refusals(api, headers, not_assigned, 404, "not_found") == []


async def test_an_unassigned_staff_member_loses_the_property_at_once(api, db):
    org = await build_org(db, "u")
    admin, staff = await login(api, org, "admin"), await login(api, org, "staff")
    assert (await api.get(f"/units/{org.unit_id}", headers=staff)).status_code == 200
    removed = await api.delete(f"/properties/{org.property_id}/staff/{org.ids['staff']}", headers=admin)
    assert removed.status_code == 204
    assert (await api.get("/properties", headers=staff)).json()["items"] == []
    assert (await api.get(f"/units/{org.unit_id}", headers=staff)).status_code == 404
    assert (await api.get(f"/properties/{org.property_id}", headers=staff)).status_code == 404


# (d) outside the caller's properties, and supervisors inside theirs


@pytest.mark.parametrize("role", ["supervisor", "staff", "owner"])
async def test_the_other_propertys_objects_answer_404_on_every_route(api, db, role):
    org = await build_org(db, "p")
    other_side = await furnish_other_side(db, org)
    headers = await login(api, org, role)
    before = await fingerprint(db)
    assert await refusals(api, headers, aimed_at(OBJECT_ROUTES, asdict(other_side)), 404, "not_found") == []
    assert await fingerprint(db) == before


async def test_a_supervisor_links_owners_and_invites_only_inside_their_property(api, db):
    org = await build_org(db, "v")
    other_side = await furnish_other_side(db, org)
    admin, supervisor = await login(api, org, "admin"), await login(api, org, "supervisor")
    newcomer = (await api.post("/users", headers=admin, json={"name": "New owner", "role": "owner"})).json()

    before = await fingerprint(db)
    admin_only = [
        ("POST", "/properties", {"name": "Mine now", "timezone": "Asia/Shanghai"}),
        ("POST", "/users", {"name": "x", "role": "owner"}),
        ("POST", "/users", {"name": "x", "role": "admin", "email": "x@x.test", "password": "long-enough"}),
    ]
    assert await refusals(api, supervisor, admin_only, 403, "forbidden") == []
    outside = [
        ("PUT", f"/units/{other_side.unit_id}/owners/{newcomer['id']}", None),
        ("POST", f"/users/{other_side.owner_id}/invitation", None),
    ]
    assert await refusals(api, supervisor, outside, 404, "not_found") == []
    assert await fingerprint(db) == before

    linked = await api.put(f"/units/{org.other_unit_id}/owners/{newcomer['id']}", headers=supervisor)
    assert linked.status_code == 200, linked.text
    invitation = await api.post(f"/users/{newcomer['id']}/invitation", headers=supervisor)
    assert invitation.status_code == 201, invitation.text
    assert invitation.json()["user_id"] == newcomer["id"] and invitation.json()["code"]
    owners = (await api.get(f"/units/{org.other_unit_id}/owners", headers=supervisor)).json()
    assert [u["id"] for u in owners] == [newcomer["id"]]
    people_in_sight = {u["id"] for u in (await api.get("/users", headers=supervisor)).json()["items"]}
    assert {org.ids["staff"], org.ids["owner"], newcomer["id"]} <= people_in_sight
    assert not {org.ids["elsewhere"], other_side.owner_id} & people_in_sight


# (e) a refused write changes nothing; a successful one is audited

DENIED_WRITES = {
    "supervisor": [
        ("PATCH", "/properties/{property_id}", {"name": "renamed"}),
        ("DELETE", "/properties/{property_id}", None),
        ("POST", "/properties/{property_id}/buildings", {"name": "9号楼"}),
        ("PATCH", "/buildings/{building_id}", {"name": "renamed"}),
        ("PATCH", "/units/{unit_id}", {"floor": 3}),
        ("DELETE", "/units/{unit_id}", None),
        ("PUT", "/properties/{property_id}/staff/{staff_id}", None),
        ("DELETE", "/properties/{property_id}/staff/{staff_id}", None),
        ("PATCH", "/users/{staff_id}", {"active": False}),
        ("PATCH", "/users/{supervisor_id}", {"role": "admin"}),
    ],
    "staff": [
        ("PATCH", "/properties/{property_id}", {"name": "renamed"}),
        ("POST", "/properties/{property_id}/units", {"building_id": "{building_id}", "number": "909"}),
        ("DELETE", "/buildings/{building_id}", None),
        ("PATCH", "/units/{unit_id}", {"floor": 3}),
        ("PUT", "/units/{unit_id}/owners/{owner_id}", None),
        ("DELETE", "/units/{unit_id}/owners/{owner_id}", None),
        ("PATCH", "/users/{staff_id}", {"role": "admin"}),
        ("POST", "/users", {"name": "x", "role": "owner"}),
    ],
    "owner": [
        ("PATCH", "/units/{unit_id}", {"area_m2": 999}),
        ("DELETE", "/units/{unit_id}/owners/{owner_id}", None),
        ("PATCH", "/users/{owner_id}", {"role": "admin"}),
        ("POST", "/users/{owner_id}/invitation", None),
        ("PATCH", "/properties/{property_id}", {"name": "renamed"}),
    ],
}


@pytest.mark.parametrize("role", sorted(DENIED_WRITES))
async def test_a_refused_write_changes_nothing(api, db, role):
    org = await build_org(db, "w")
    headers = await login(api, org, role)
    values = {**asdict(main_side(org)), "supervisor_id": org.ids["supervisor"]}
    requests = aimed_at(DENIED_WRITES[role], values)
    before = await fingerprint(db)
    assert await refusals(api, headers, requests, 403, "forbidden") == []
    assert await fingerprint(db) == before


async def audit_rows(db, entity_id: str) -> list[dict]:
    rows = await db.fetch(
        "SELECT actor_id, action, entity, before, after FROM audit_log WHERE entity_id = $1 ORDER BY id", entity_id
    )
    return [dict(r) for r in rows]


async def test_successful_writes_are_audited_with_actor_and_before_after(api, db):
    org = await build_org(db, "au")
    admin, supervisor = await login(api, org, "admin"), await login(api, org, "supervisor")
    admin_id, supervisor_id = org.ids["admin"], org.ids["supervisor"]

    renamed = await api.patch(f"/properties/{org.property_id}", headers=admin, json={"name": "Garden renamed"})
    assert renamed.status_code == 200
    [update] = [r for r in await audit_rows(db, org.property_id) if r["action"] == "update"]
    assert update["actor_id"] == admin_id and update["entity"] == "property"
    assert update["before"]["name"] == f"Garden {org.tag}" and update["after"]["name"] == "Garden renamed"

    assert (await api.patch(f"/units/{org.unit_id}", headers=admin, json={"floor": 7})).status_code == 200
    [unit_update] = [r for r in await audit_rows(db, org.unit_id) if r["action"] == "update"]
    assert unit_update["before"]["floor"] is None and unit_update["after"]["floor"] == 7

    spare = (await api.post(f"/properties/{org.property_id}/buildings", headers=admin, json={"name": "3号楼"})).json()
    assert (await api.delete(f"/buildings/{spare['id']}", headers=admin)).status_code == 204
    created, deleted = await audit_rows(db, spare["id"])
    assert (created["action"], created["before"], created["after"]["name"]) == ("create", None, "3号楼")
    assert (deleted["action"], deleted["before"]["name"], deleted["after"]) == ("delete", "3号楼", None)
    assert created["actor_id"] == deleted["actor_id"] == admin_id

    owner = (await api.post("/users", headers=admin, json={"name": "Owner 2", "role": "owner"})).json()
    for _ in range(2):  # linking is idempotent: the second PUT changes nothing and is not audited again
        assert (
            await api.put(f"/units/{org.other_unit_id}/owners/{owner['id']}", headers=supervisor)
        ).status_code == 200
    [link] = await audit_rows(db, f"{org.other_unit_id}:{owner['id']}")
    assert (link["actor_id"], link["action"]) == (supervisor_id, "link")
    assert link["after"] == {"unit_id": org.other_unit_id, "user_id": owner["id"]}

    code = (await api.post(f"/users/{owner['id']}/invitation", headers=supervisor)).json()["code"]
    invite = [r for r in await audit_rows(db, owner["id"]) if r["action"] == "invite"]
    assert [r["actor_id"] for r in invite] == [supervisor_id]

    # the trail holds no secrets: no invitation code, no password hash
    trail = await db.fetchval(
        "SELECT string_agg(coalesce(before::text, '') || coalesce(after::text, ''), ' ') FROM audit_log"
    )
    assert code not in trail and "argon2" not in trail


def role_guarded_object_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route that names an object, not under a property (whose scope guard runs first),
    and has a role guard: read from the app's route table, so a route added later is covered without a list."""
    found = []
    for route in app.routes:
        names = list(route.path_parameters)
        if "property_id" in names:
            continue
        for handler in getattr(route, "route_handlers", []):
            methods = set(handler.http_methods) - {"OPTIONS", "HEAD"}
            roles = [g for g in handler.resolve_guards() if getattr(g, "func", g).__qualname__.startswith("requires")]
            if names and methods and roles:
                found += [(method, route.path_format) for method in sorted(methods)]
    return found


async def test_a_role_refusal_comes_before_any_lookup_and_another_orgs_ids_answer_as_unknown_ones(api, db, settings):
    """A role that may never use a route answers 403 whatever the id: nothing is looked up, so the answer tells
    nothing about what exists. A role that may use it gets for another org's object exactly what an unknown id
    gets: 404 (or, where the body is checked first, the same 422)."""
    from tests.inspection_world import set_up
    from tests.integration.test_surveys import TEMPLATE, campaign

    a, b = await build_org(db, "ra"), await build_org(db, "rb")
    site = await set_up(api, b)
    b_admin = site.headers["admin"]
    hook = await api.post("/webhooks", headers=b_admin, json={"url": "https://93.184.216.34/hook"})
    assert hook.status_code == 201, hook.text
    survey = (await api.post("/survey-templates", headers=b_admin, json=TEMPLATE)).json()
    made = await campaign(api, b, b_admin, survey["template_id"])
    flag_id = (
        "flag-of-org-b"  # what the worker's evidence checks would have left (tests/integration/test_evidence_flags.py)
    )
    await db.execute(
        """INSERT INTO evidence_flags (org_id, id, property_id, kind, subject, subject_id, score, evidence, created_at)
           VALUES ($1, $2, $3, 'round_too_short', 'round', 'r1', 0.2, '{}', now())""",
        b.org_id,
        flag_id,
        b.property_id,
    )
    ids = {
        "flag_id": flag_id,
        "template_id": site.template_id,
        "version": "1",
        "checkpoint_id": site.checkpoints[0],
        "route_id": site.route_id,
        "webhook_id": hook.json()["id"],
        "campaign_id": made["id"],
        "unit_id": b.unit_id,
    }
    unknown = {name: ("9" if name == "version" else "nope-no-such-id") for name in ids}
    routes = role_guarded_object_routes(create_app(settings))
    assert ("POST", "/campaigns/{campaign_id}/publish") in routes and len(routes) >= 15
    owner, admin = await login(api, a, "owner"), await login(api, a, "admin")
    refused, unseen = {(403, "forbidden")}, {(404, "not_found")}
    wrong = []
    for method, template in routes:
        # an empty body: routes that read one check it before looking anything up (422 for any id alike)
        admin_expects = unseen if method in ("GET", "DELETE") else unseen | {(422, "invalid")}
        for who, name, expected in ((owner, "owner", refused), (admin, "admin", admin_expects)):
            answers = [await api.request(method, template.format(**v), headers=who, json={}) for v in (ids, unknown)]
            seen = {(r.status_code, problem_code(r)) for r in answers}
            if len(seen) != 1 or not seen <= expected:
                wrong.append(f"{method} {template} as {name}: {sorted(seen)}")
    assert wrong == []
