"""Malformed and hostile requests: each refusal is problem+json, never a 500 or a traceback, and writes nothing."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import asyncpg
import httpx
import pytest

from tests.world import Org, build_org, login

TABLES = ("properties", "buildings", "units", "users", "unit_owners", "sessions", "audit_log")

# The JSON endpoints under attack: how to reach them, a body they accept, and the fields to poison.
ENDPOINTS: dict[str, tuple[str, str]] = {
    "login": ("POST", "/auth/login"),
    "property": ("POST", "/properties"),
    "unit": ("PATCH", "/units/{unit_id}"),
    "user": ("POST", "/users"),
}
VALID: dict[str, dict[str, Any]] = {
    "login": {"login": "nobody@nowhere.test", "password": "a-long-password"},
    "property": {"name": "New Garden", "address": "1 Lake Rd"},
    "unit": {"number": "101A", "floor": 7},
    "user": {"name": "New Person", "role": "staff", "email": "new@person.test", "password": "a-long-password"},
}


async def arrange(api: httpx.AsyncClient, db: asyncpg.Connection) -> tuple[Org, dict[str, str]]:
    org = await build_org(db, "hx")
    return org, await login(api, org, "admin")


async def snapshot(db: asyncpg.Connection, org: Org) -> dict[str, Any]:
    state: dict[str, Any] = {t: await db.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}
    state["unit"] = tuple(
        await db.fetchrow("SELECT number, floor, area_m2, updated_at FROM units WHERE id = $1", org.unit_id)
    )
    return state


def url(endpoint: str, org: Org) -> tuple[str, str]:
    method, path = ENDPOINTS[endpoint]
    return method, path.format(unit_id=org.unit_id, property_id=org.property_id)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.status_code < 500
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys(), body
    assert body["status"] == status
    assert "Traceback" not in response.text and 'File "' not in response.text
    return body


def names(errors: list[dict[str, str]], field: str) -> bool:
    """Whether the errors point at `field`, as its key or (for a missing or unknown one) in the message."""
    return any(e["field"] == field or f"`{field}`" in e["message"] for e in errors)


async def send(
    api: httpx.AsyncClient, org: Org, admin: dict[str, str], endpoint: str, body: bytes, content_type: str | None
) -> httpx.Response:
    method, path = url(endpoint, org)
    headers = {**admin, **({"content-type": content_type} if content_type else {})}
    return await api.request(method, path, headers=headers, content=body)


def deep(opening: bytes, inner: bytes, closing: bytes, depth: int) -> bytes:
    return opening * depth + inner + closing * depth


TEN_MB = 10 * 1024 * 1024
# (body, status) by case; sent as application/json to every endpoint
RAW_BODIES: dict[str, tuple[bytes, int]] = {
    "truncated": (b'{"name": ', 400),
    "not-json": (b"name=x&role=admin", 400),
    "single-quotes": (b"{'name': 'x'}", 400),
    "trailing-garbage": (b"{} {}", 400),
    "nan": (b'{"floor": NaN}', 400),
    "invalid-utf8": (b'{"name": "\xff\xfe\xfd"}', 400),
    "cut-utf8": (b'{"name": "caf\xc3"}', 400),
    "deep-arrays": (b'{"name": ' + deep(b"[", b"", b"]", 100_000) + b"}", 400),
    "deep-objects": (deep(b'{"a":', b"1", b"}", 100_000), 400),
    "nested-but-decodable": (b'{"name": ' + deep(b"[", b"", b"]", 200) + b"}", 422),
    "empty": (b"", 422),
    "array": (b"[]", 422),
    "array-of-object": (b'[{"name": "x"}]', 422),
    "null": (b"null", 422),
    "number": (b"42", 422),
    "string": (b'"x"', 422),
    "10MB": (b'{"name": "' + b"x" * TEN_MB + b'"}', 413),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_malformed_json_bodies_are_refused(api, db, endpoint):
    org, admin = await arrange(api, db)
    before = await snapshot(db, org)
    failures = []
    for case, (body, status) in RAW_BODIES.items():
        try:
            assert_problem(await send(api, org, admin, endpoint, body, "application/json"), status)
            assert await snapshot(db, org) == before
        except AssertionError as exc:
            failures.append(f"{case}: {exc}")
    assert not failures, "\n".join(failures)


# (endpoint, field, poisoned value): the body is otherwise VALID[endpoint]
WRONG_TYPES = [
    ("login", "login", 5),
    ("property", "name", 123),
    ("unit", "floor", [3]),
    ("user", "role", 7),
    ("property", "geo_lat", "north"),
    ("unit", "area_m2", {"m2": 3}),
    ("user", "email", False),
]
HUGE_STRINGS = [
    ("login", "login"),
    ("login", "password"),
    ("property", "name"),
    ("property", "address"),
    ("unit", "number"),
    ("user", "name"),
]
NUL_STRINGS = [
    ("login", "login"),
    ("property", "name"),
    ("property", "address"),
    ("property", "timezone"),
    ("unit", "number"),
    ("user", "name"),
    ("user", "email"),
]
MISSING = [("login", "password"), ("login", "login"), ("property", "name"), ("user", "role"), ("user", "name")]


def poisoned(endpoint: str, field: str, value: Any) -> bytes:
    return json.dumps({**VALID[endpoint], field: value}).encode()


def without(endpoint: str, field: str) -> bytes:
    return json.dumps({k: v for k, v in VALID[endpoint].items() if k != field}).encode()


FIELD_CASES: list[tuple[str, str, bytes, str]] = [  # (case, endpoint, body, the field the errors name)
    *((f"wrong-type-{f}", e, poisoned(e, f, v), f) for e, f, v in WRONG_TYPES),
    *((f"huge-string-{f}", e, poisoned(e, f, "x" * 900_000), f) for e, f in HUGE_STRINGS),
    *((f"nul-{f}", e, poisoned(e, f, "a\x00b"), f) for e, f in NUL_STRINGS),
    *(("unknown-field", e, poisoned(e, "is_admin", True), "is_admin") for e in ENDPOINTS),
    *(("nul-in-key", e, poisoned(e, "x\x00", 1), "x\x00") for e in ENDPOINTS),
    *((f"missing-{f}", e, without(e, f), f) for e, f in MISSING),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_bodies_that_do_not_fit_the_schema_are_422_naming_the_field(api, db, endpoint):
    org, admin = await arrange(api, db)
    before = await snapshot(db, org)
    cases = [(case, body, field) for case, e, body, field in FIELD_CASES if e == endpoint]
    assert len(cases) >= 5
    failures = []
    for case, body, field in cases:
        assert len(body) < 1024 * 1024  # under the body limit: refused for its content, not its size
        try:
            problem = assert_problem(await send(api, org, admin, endpoint, body, "application/json"), 422)
            assert problem.get("errors") and names(problem["errors"], field), problem
            assert {e["source"] for e in problem["errors"]} == {"body"}, problem
            assert await snapshot(db, org) == before
        except AssertionError as exc:
            failures.append(f"{case}: {exc}")
    assert not failures, "\n".join(failures)


NOT_JSON_MEDIA_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/xml",
    "multipart/form-data; boundary=x",
    "text/html; charset=utf-8",
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_a_json_body_sent_as_another_media_type_is_415(api, db, endpoint):
    org, admin = await arrange(api, db)
    before = await snapshot(db, org)
    body = json.dumps(VALID[endpoint]).encode()
    for content_type in NOT_JSON_MEDIA_TYPES:
        response = await send(api, org, admin, endpoint, body, content_type)
        assert response.status_code == 415, (content_type, response.text)
        assert_problem(response, 415)
        assert await snapshot(db, org) == before


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/merge-patch+json"])
async def test_json_media_types_are_accepted(api, db, content_type):
    org, admin = await arrange(api, db)
    body = json.dumps({"floor": 9}).encode()
    response = await send(api, org, admin, "unit", body, content_type)
    assert response.status_code == 200, response.text
    assert await db.fetchval("SELECT floor FROM units WHERE id = $1", org.unit_id) == 9


async def test_a_json_body_without_a_content_type_is_415_on_every_json_route(api, db):
    """One rule (api/requests.py) for the routes Litestar decodes and for the push, which reads its raw bytes."""
    org, admin = await arrange(api, db)
    before = await snapshot(db, org)
    for endpoint in ENDPOINTS:
        response = await send(api, org, admin, endpoint, json.dumps(VALID[endpoint]).encode(), None)
        assert_problem(response, 415)
    pushed = await api.post(
        "/sync/push", headers=admin, params={"last_pulled_at": "1"}, content=b'{"handover_notes": {"created": []}}'
    )
    assert_problem(pushed, 415)
    for content_type in NOT_JSON_MEDIA_TYPES:
        pushed = await api.post(
            "/sync/push", headers={**admin, "content-type": content_type}, params={"last_pulled_at": "1"}, content=b"{}"
        )
        assert_problem(pushed, 415)
    assert await snapshot(db, org) == before
    # a route that takes no body is not asked for a content type
    assert (await api.post("/auth/logout", headers=admin)).status_code == 204


UNKNOWN_ROUTES = [
    ("GET", "/nope"),
    ("GET", "/units"),
    ("POST", "/properties/{property_id}/nope"),
    ("GET", "/auth/loginx"),
    ("DELETE", "/"),
    ("GET", "/../../etc/passwd"),
]
WRONG_METHODS = [
    ("PUT", "/auth/login"),
    ("GET", "/auth/logout"),
    ("DELETE", "/properties"),
    ("PATCH", "/users"),
    ("POST", "/units/{unit_id}"),
    ("GET", "/properties/{property_id}/imports"),
]
BAD_QUERIES = [  # (path, query parameters, the parameter the errors name)
    ("/properties", {"limit": "abc"}, "limit"),
    ("/properties", {"limit": "100000"}, "limit"),
    ("/properties", {"limit": "0"}, "limit"),
    ("/properties", {"limit": "-5"}, "limit"),
    ("/properties", {"limit": "2.5"}, "limit"),
    ("/properties/{property_id}/buildings", {"limit": "501"}, "limit"),
    ("/properties/{property_id}/units", {"limit": "abc"}, "limit"),
    ("/users", {"limit": "1e3"}, "limit"),
    ("/users", {"role": "boss"}, "role"),
    ("/audit", {"limit": "99999999999999999999999"}, "limit"),
]
NUL_IN_URL = [
    ("GET", "/units/%00"),
    ("PATCH", "/units/%00"),
    ("GET", "/users/a%00b"),
    ("GET", "/properties/%00/units"),
    ("GET", "/properties?cursor=%00"),
    ("GET", "/audit?entity=%00"),
]


async def test_unknown_routes_are_404(api, db):
    org, admin = await arrange(api, db)
    for method, path in UNKNOWN_ROUTES:
        for headers in (admin, {}):
            response = await api.request(method, path.format(property_id=org.property_id), headers=headers)
            assert response.status_code == 404, (method, path, response.text)
            assert_problem(response, 404)


async def test_a_wrong_method_is_405_with_allow(api, db):
    org, admin = await arrange(api, db)
    before = await snapshot(db, org)
    for method, path in WRONG_METHODS:
        response = await api.request(
            method, path.format(unit_id=org.unit_id, property_id=org.property_id), headers=admin, json={}
        )
        assert response.status_code == 405, (method, path, response.text)
        assert_problem(response, 405)
        assert "POST" in response.headers["allow"] or "GET" in response.headers["allow"]
        assert method not in response.headers["allow"].split(", ")
        assert await snapshot(db, org) == before


async def test_a_bad_query_parameter_is_400_naming_it(api, db):
    org, admin = await arrange(api, db)
    for path, params, field in BAD_QUERIES:
        response = await api.get(path.format(property_id=org.property_id), headers=admin, params=params)
        assert response.status_code == 400, (path, params, response.text)
        problem = assert_problem(response, 400)
        assert [(e["field"], e["source"]) for e in problem["errors"]] == [(field, "query")], (path, params)


async def test_a_nul_in_the_path_or_query_is_400_not_500(api, db):
    org, admin = await arrange(api, db)
    before = await snapshot(db, org)
    for method, path in NUL_IN_URL:
        response = await api.request(method, path, headers=admin, json={"floor": 3} if method == "PATCH" else None)
        assert response.status_code == 400, (method, path, response.text)
        assert_problem(response, 400)
        assert await snapshot(db, org) == before


async def test_a_time_without_its_offset_is_422_not_500(api, db):
    """A bare wall time could be any of 24 hours of instants: every moment a client gives must carry its offset
    (mixed with an offset one, it used to fail the comparison in the service: a 500)."""
    from tests.inspection_world import set_up
    from tests.integration.test_surveys import TEMPLATE

    org = await build_org(db, "hz")
    site = await set_up(api, org)
    supervisor, admin = site.headers["supervisor"], site.headers["admin"]
    template = (await api.post("/survey-templates", headers=admin, json=TEMPLATE)).json()
    naive, aware = "2030-01-01T02:00:00", "2030-01-01T00:00:00+08:00"
    cases = [
        (
            supervisor,
            f"/properties/{org.property_id}/orders",
            {"description": "积水", "category": "cleaning", "due_at": naive},
            "due_at",
        ),
        (
            supervisor,
            f"/properties/{org.property_id}/rounds",
            {
                "template_id": site.template_id,
                "assignee_id": org.ids["staff"],
                "window_start": aware,
                "window_end": naive,
            },
            "window_end",
        ),
        (
            admin,
            f"/properties/{org.property_id}/campaigns",
            {
                "template_id": template["template_id"],
                "name_zh": "调查",
                "name_en": "Survey",
                "opens_at": aware,
                "closes_at": naive,
            },
            "closes_at",
        ),
    ]
    for headers, path, body, field in cases:
        refused = await api.post(path, headers=headers, json=body)
        assert refused.status_code == 422, (path, refused.text)
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    assert await db.fetchval("SELECT count(*) FROM survey_campaigns") == 0
    assert await db.fetchval("SELECT count(*) FROM rectification_orders") == 0


# --- deep nesting, OPTIONS, bodies that stop arriving, garbage cursors ------------------------------------

TOO_DEEP = (1_000, 100_000)  # about Python's recursion limit, and far past it


async def test_deeply_nested_json_is_refused_wherever_it_is_decoded(api, db):
    """The push body, a pushed record's JSON column and the pull's `migration` parameter are decoded by our own
    code, not Litestar's: each answered 500 (a RecursionError) for JSON nested ~1,000 deep."""
    from tests.integration.test_survey_app import GOOD, submission
    from tests.integration.test_surveys import TEMPLATE, campaign
    from tests.integration.test_sync_protocol import changes, pull, push

    org, admin = await arrange(api, db)
    owner = await login(api, org, "owner")
    template = (await api.post("/survey-templates", headers=admin, json=TEMPLATE)).json()
    made = await campaign(api, org, admin, template["template_id"])
    since = (await pull(api, db, owner))["timestamp"]
    for depth in TOO_DEEP:
        nested = deep(b"[", b"", b"]", depth)
        objects = deep(b'{"a": ', b"1", b"}", depth)
        for body in (objects, b'{"handover_notes": ' + nested + b"}", b'{"changes": ' + nested + b"}"):
            response = await api.post(
                "/sync/push",
                headers={**owner, "content-type": "application/json"},
                params={"last_pulled_at": since},
                content=body,
            )
            assert "nested too deeply" in assert_problem(response, 400)["detail"], depth
        # the answers of a survey submission travel as a JSON string inside the push
        answers = {**submission(org, made["id"], GOOD), "answers": nested.decode()}
        refused = await push(api, owner, since, changes("survey_submissions", [answers]))
        problem = assert_problem(refused, 422)
        assert problem["errors"][0]["field"] == f"survey_submissions.{answers['id']}.answers", problem
        # in a query string: an unknown key of the migration object is skipped, but read to its end first
        short = min(depth, 1_500)  # a longer URL is refused by httpx itself
        for migration in ('{"from": 1, "x": ' + "[" * short, '{"from": 1, "x": ' + "[" * short + "]" * short + "}"):
            params = {"last_pulled_at": since, "migration": migration}
            pulled = await api.get("/sync/pull", headers=owner, params=params)
            assert assert_problem(pulled, 400)["parameter"] == "migration"
    assert await db.fetchval("SELECT count(*) FROM survey_submissions") == 0
    fine = await push(api, owner, since, changes("survey_submissions", [submission(org, made["id"], GOOD)]))
    assert fine.status_code == 200, fine.text


def route_paths(app: Any) -> list[tuple[str, set[str]]]:
    """Every HTTP route of the app as a concrete path (path parameters filled in), with its methods."""
    from litestar.routes import HTTPRoute

    paths = []
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            values = {name: "1" if p.type is int else f"x{name}" for name, p in route.path_parameters.items()}
            path = route.path_format.format(**values)
            paths.append((path, set(route.methods)))
    return paths


async def test_options_answers_every_route_without_a_token(api, db, settings):
    """OPTIONS is not authenticated (a CORS preflight carries no credentials): the guards let it through too,
    instead of reading a caller that is not there (a 500 on every guarded route)."""
    from api.app import create_app

    paths = route_paths(create_app(settings))
    assert len(paths) > 60 and any(p.startswith("/properties/xproperty_id/") for p, _ in paths)
    failures = []
    for path, methods in paths:
        response = await api.options(path)
        if response.status_code not in (200, 204):
            failures.append(f"{path}: {response.status_code} {response.text[:200]}")
        elif path != "/uploads" and not {"OPTIONS"} < set(response.headers["allow"].split(", ")) <= methods:
            # Litestar's own OPTIONS answer lists only the methods of the route's first controller handler
            failures.append(f"{path}: Allow {response.headers['allow']} for {sorted(methods)}")
    assert not failures, "\n".join(failures)
    # the guards still guard every other method
    org, _ = await arrange(api, db)
    staff = await login(api, org, "staff")
    assert (await api.get(f"/properties/{org.property_id}/units")).status_code == 401
    assert (await api.delete(f"/properties/{org.property_id}", headers=staff)).status_code == 403
    assert (await api.get("/webhooks", headers=staff)).status_code == 403


async def raw_exchange(api: httpx.AsyncClient, request: bytes, *, within: float) -> tuple[bytes, float]:
    """Send raw bytes to the real server and read until it closes the connection; (what came back, seconds)."""
    reader, writer = await asyncio.open_connection(api.base_url.host, api.base_url.port)
    started = time.monotonic()
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=within)  # read() returns at EOF
        return answer, time.monotonic() - started
    finally:
        writer.close()


@pytest.fixture
def settings(settings, request):
    """The test's settings, changed by `@pytest.mark.parametrize("settings", [{...}], indirect=True)`."""
    import msgspec

    changes = getattr(request, "param", None)
    return msgspec.structs.replace(settings, **changes) if changes else settings


@pytest.mark.parametrize("settings", [{"request_body_timeout": 1}], indirect=True)
async def test_a_body_shorter_than_its_content_length_is_timed_out(api, db):
    """The server waited for the missing bytes for ever, holding the connection: now 408 after
    FIELDWORK_REQUEST_BODY_TIMEOUT seconds without a byte, and the connection is closed."""
    org, admin = await arrange(api, db)
    token = admin["Authorization"]
    for path in ("/auth/login", f"/units/{org.unit_id}", "/sync/push?last_pulled_at=1"):
        method = "PATCH" if path.startswith("/units") else "POST"
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: test\r\nAuthorization: {token}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        )
        answer, seconds = await raw_exchange(api, head.encode() + b'{"login": ', within=15)
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line == b"HTTP/1.1 408 Request Timeout", answer
        assert b"application/problem+json" in rest and b"connection: close" in rest.lower()
        assert 0.9 < seconds < 10, seconds
    # a body that keeps arriving, slowly, is read to its end
    reader, writer = await asyncio.open_connection(api.base_url.host, api.base_url.port)
    body = json.dumps({"floor": 11}).encode()
    writer.write(
        f"PATCH /units/{org.unit_id} HTTP/1.1\r\nHost: test\r\nAuthorization: {token}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    )
    for i in range(0, len(body), 4):
        writer.write(body[i : i + 4])
        await writer.drain()
        await asyncio.sleep(0.3)  # the pace of a slow client, not a wait for work
    answer = await asyncio.wait_for(reader.read(), timeout=15)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert await db.fetchval("SELECT floor FROM units WHERE id = $1", org.unit_id) == 11


GARBAGE_CURSORS = ["garbage", "0", "-1", "zzzz", "%%%", "a" * 300, "eyJpZCI6IDF9", "こんにちは", " "]


async def test_a_garbage_cursor_is_400_on_every_list(api, db, settings):
    """A cursor that is no page's next_cursor used to read as a position past the end: 200 and an empty page."""
    from api.app import create_app

    org, admin = await arrange(api, db)
    checked = 0
    for path, methods in route_paths(create_app(settings)):
        concrete = path.replace("xproperty_id", org.property_id)
        # a list names no object but (maybe) its property; asked of the path, not of the id put in (which may
        # begin with an x itself)
        if "GET" not in methods or "/x" in path.replace("xproperty_id", "property"):
            continue
        first = await api.get(concrete, headers=admin, params={"limit": 1})
        if first.headers.get("content-type") != "application/json" or "next_cursor" not in first.json():
            continue
        checked += 1
        for cursor in GARBAGE_CURSORS:
            response = await api.get(concrete, headers=admin, params={"cursor": cursor})
            assert assert_problem(response, 400)["parameter"] == "cursor", (concrete, cursor)
        if first.json()["next_cursor"]:  # a real cursor still works
            assert (
                await api.get(concrete, headers=admin, params={"cursor": first.json()["next_cursor"]})
            ).status_code == 200
    assert checked >= 15, checked
