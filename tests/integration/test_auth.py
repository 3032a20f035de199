"""Signing in through the API: logins, the failed-attempt limit, rotating refresh tokens, logout, password
changes, owner activation, disabled accounts and expired access tokens."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from core.security import issue_access_token, read_access_token
from tests.world import PASSWORD, Org, build_org, login

NEW_PASSWORD = "a-brand-new-secret"


async def sign_in(api: httpx.AsyncClient, login_name: str, password: str = PASSWORD) -> httpx.Response:
    return await api.post("/auth/login", json={"login": login_name, "password": password})


async def tokens_of(api: httpx.AsyncClient, login_name: str, password: str = PASSWORD) -> dict:
    response = await sign_in(api, login_name, password)
    assert response.status_code == 200, response.text
    return response.json()


async def refresh(api: httpx.AsyncClient, tokens: dict) -> httpx.Response:
    return await api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})


def bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def me(api: httpx.AsyncClient, tokens: dict) -> httpx.Response:
    return await api.get("/me", headers=bearer(tokens))


def assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "unauthorized"


# Logging in


async def test_login_by_email_or_phone(api, db, settings):
    org = await build_org(db, "li")
    admin = await login(api, org, "admin")
    phoned = await api.patch(f"/users/{org.ids['staff']}", headers=admin, json={"phone": "13812345678"})
    assert phoned.status_code == 200, phoned.text
    for login_name in (org.email("staff"), org.email("staff").upper(), "13812345678"):
        tokens = await tokens_of(api, login_name)
        assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == settings.access_token_ttl
        assert tokens["user"]["id"] == org.ids["staff"]
        assert (await me(api, tokens)).json()["user"]["id"] == org.ids["staff"]


async def test_a_wrong_password_or_unknown_login_answers_401_alike(api, db):
    org = await build_org(db, "wp")
    wrong = await sign_in(api, org.email("staff"), "not-the-password")
    unknown = await sign_in(api, "nobody@nowhere.test")
    for response in (wrong, unknown):  # no hint which logins exist
        assert_unauthorized(response)
        assert "access_token" not in response.json()
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_failed_logins_lock_the_login_from_that_address_even_for_the_right_password(api, db, settings):
    org = await build_org(db, "rl")
    for _ in range(settings.login_attempts):
        assert_unauthorized(await sign_in(api, org.email("staff"), "guess-guess"))
    for password in (PASSWORD, "guess-again"):
        blocked = await sign_in(api, org.email("staff").upper(), password)  # the same login in other letters
        assert blocked.status_code == 429, blocked.text
        assert blocked.json()["code"] == "rate_limited"
        assert 0 < int(blocked.headers["retry-after"]) <= settings.login_window
    assert (await sign_in(api, org.email("supervisor"))).status_code == 200  # other people are not affected


async def test_the_limit_holds_for_guesses_sent_at_once(api, db, settings):
    """Guesses racing each other must not all pass the check before any of them is counted."""
    org = await build_org(db, "cc")
    guesses = [sign_in(api, org.email("staff"), f"guess-{n:04d}") for n in range(4 * settings.login_attempts)]
    statuses = sorted(r.status_code for r in await asyncio.gather(*guesses))
    assert statuses.count(401) == settings.login_attempts, statuses
    assert set(statuses) == {401, 429}


async def test_a_success_clears_the_failed_attempts(api, db, settings):
    org = await build_org(db, "cl")
    for _ in range(settings.login_attempts - 1):
        assert_unauthorized(await sign_in(api, org.email("staff"), "guess-guess"))
    await tokens_of(api, org.email("staff"))
    for _ in range(settings.login_attempts - 1):
        assert_unauthorized(await sign_in(api, org.email("staff"), "guess-guess"))
    await tokens_of(api, org.email("staff"))


# Tokens and sessions


async def test_refresh_rotates_and_a_replayed_token_ends_the_session(api, db):
    org = await build_org(db, "rf")
    first = await tokens_of(api, org.email("staff"))
    rotated = await refresh(api, first)
    assert rotated.status_code == 200, rotated.text
    newest = rotated.json()
    assert newest["refresh_token"] != first["refresh_token"]
    assert newest["user"]["id"] == org.ids["staff"]
    assert (await me(api, newest)).status_code == 200

    assert_unauthorized(await refresh(api, first))  # someone kept a copy: the session ends for everyone
    assert_unauthorized(await refresh(api, newest))
    assert_unauthorized(await me(api, newest))
    assert_unauthorized(await me(api, first))


async def test_malformed_refresh_tokens_answer_401(api, db):
    org = await build_org(db, "mf")
    tokens = await tokens_of(api, org.email("staff"))
    org_id, session_id, _ = tokens["refresh_token"].split(".")
    for bad in ("garbage", "a.b.c.d", "..", f"{org_id}.{session_id}.wrong-secret"):
        assert_unauthorized(await api.post("/auth/refresh", json={"refresh_token": bad}))
    # a guessed secret counts as a stolen token: that session has ended
    assert_unauthorized(await refresh(api, tokens))


async def test_logout_ends_this_sessions_access_token_at_once(api, db):
    org = await build_org(db, "lo")
    phone, laptop = await tokens_of(api, org.email("staff")), await tokens_of(api, org.email("staff"))
    assert (await api.post("/auth/logout", headers=bearer(phone))).status_code == 204
    assert_unauthorized(await me(api, phone))
    assert_unauthorized(await refresh(api, phone))
    assert (await me(api, laptop)).status_code == 200  # only that session ended


async def test_password_change_ends_the_other_sessions_and_gives_new_tokens(api, db):
    org = await build_org(db, "pw")
    phone, laptop = await tokens_of(api, org.email("staff")), await tokens_of(api, org.email("staff"))
    wrong = await api.post(
        "/auth/password",
        headers=bearer(phone),
        json={"current_password": "not-it-at-all", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "current_password"
    assert (await me(api, laptop)).status_code == 200  # a refused change ends nothing

    changed = await api.post(
        "/auth/password", headers=bearer(phone), json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 200, changed.text
    fresh = changed.json()
    assert (await me(api, fresh)).status_code == 200
    assert (await refresh(api, fresh)).status_code == 200
    for old in (phone, laptop):
        assert_unauthorized(await me(api, old))
        assert_unauthorized(await refresh(api, old))
    assert_unauthorized(await sign_in(api, org.email("staff")))
    await tokens_of(api, org.email("staff"), NEW_PASSWORD)


async def test_a_deactivated_person_loses_access_at_once(api, db):
    org = await build_org(db, "da")
    admin = await login(api, org, "admin")
    staff = await tokens_of(api, org.email("staff"))
    off = await api.patch(f"/users/{org.ids['staff']}", headers=admin, json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert_unauthorized(await me(api, staff))
    assert_unauthorized(await refresh(api, staff))
    refused = await sign_in(api, org.email("staff"))
    assert_unauthorized(refused)
    assert "disabled" in refused.json()["detail"]

    back = await api.patch(f"/users/{org.ids['staff']}", headers=admin, json={"active": True})
    assert back.status_code == 200
    assert_unauthorized(await me(api, staff))  # the old session stays ended; they sign in again
    await tokens_of(api, org.email("staff"))


async def test_a_role_change_ends_the_persons_sessions(api, db):
    org = await build_org(db, "rc")
    admin = await login(api, org, "admin")
    supervisor = await tokens_of(api, org.email("supervisor"))
    assert (await api.get("/users", headers=bearer(supervisor))).status_code == 200
    demoted = await api.patch(f"/users/{org.ids['supervisor']}", headers=admin, json={"role": "staff"})
    assert demoted.status_code == 200
    assert_unauthorized(await me(api, supervisor))
    again = await tokens_of(api, org.email("supervisor"))
    assert (await api.get("/users", headers=bearer(again))).status_code == 403  # the new role's rights


def craft_access_token(settings, tokens: dict, *, issued: datetime, ttl: int) -> str:
    """The same claims as a real token (its live session), signed with the app's key, issued at `issued`."""
    claims = read_access_token(settings.secret_key, tokens["access_token"], now=datetime.now(UTC))
    return issue_access_token(
        settings.secret_key,
        org_id=claims.org,
        user_id=claims.sub,
        session_id=claims.sid,
        role=claims.role,
        now=issued,
        ttl=ttl,
    )


async def test_an_expired_access_token_answers_401_and_refresh_still_works(api, db, settings):
    org = await build_org(db, "ex")
    tokens = await tokens_of(api, org.email("staff"))
    claims = read_access_token(settings.secret_key, tokens["access_token"], now=datetime.now(UTC))
    assert claims.exp - claims.iat == settings.access_token_ttl

    now = datetime.now(UTC)
    live = craft_access_token(settings, tokens, issued=now, ttl=60)
    assert (await api.get("/me", headers={"Authorization": f"Bearer {live}"})).status_code == 200  # crafted right
    expired = craft_access_token(settings, tokens, issued=now - timedelta(seconds=61), ttl=60)
    response = await api.get("/me", headers={"Authorization": f"Bearer {expired}"})
    assert_unauthorized(response)
    assert "expired" in response.json()["detail"]
    assert (await me(api, (await refresh(api, tokens)).json())).status_code == 200


async def test_forged_or_missing_access_tokens_answer_401(api, db, settings):
    org = await build_org(db, "fg")
    tokens = await tokens_of(api, org.email("staff"))
    claims = read_access_token(settings.secret_key, tokens["access_token"], now=datetime.now(UTC))

    def admin_token_on_this_session(key: str) -> str:
        return issue_access_token(
            key,
            org_id=claims.org,
            user_id=org.ids["admin"],
            session_id=claims.sid,
            role="admin",
            now=datetime.now(UTC),
            ttl=60,
        )

    forged = admin_token_on_this_session("another-secret-key-that-is-long-enough-0123")
    for headers in (
        {},
        {"Authorization": tokens["access_token"]},  # no scheme
        {"Authorization": f"Bearer {tokens['refresh_token']}"},
        {"Authorization": f"Bearer {forged}"},
    ):
        assert_unauthorized(await api.get("/me", headers=headers))
    # the right key but another person's id on this session: the session is not theirs
    other = admin_token_on_this_session(settings.secret_key)
    assert_unauthorized(await api.get("/me", headers={"Authorization": f"Bearer {other}"}))


# Owner activation


async def new_owner(api: httpx.AsyncClient, org: Org, admin: dict[str, str], **extra: str) -> dict:
    """An owner created by the office (no password) and linked to unit 102."""
    created = await api.post("/users", headers=admin, json={"name": "业主 王", "role": "owner", **extra})
    assert created.status_code == 201, created.text
    owner = created.json()
    assert owner["activated"] is False
    assert (await api.put(f"/units/{org.other_unit_id}/owners/{owner['id']}", headers=admin)).status_code == 200
    return owner


async def invite(api: httpx.AsyncClient, admin: dict[str, str], owner: dict) -> str:
    response = await api.post(f"/users/{owner['id']}/invitation", headers=admin)
    assert response.status_code == 201, response.text
    return response.json()["code"]


async def activate(api: httpx.AsyncClient, code: str, password: str = "owner-password", **extra: str):
    return await api.post("/auth/activate", json={"code": code, "password": password, **extra})


async def test_an_owner_activates_with_an_invitation_code(api, db):
    org = await build_org(db, "iv")
    admin = await login(api, org, "admin")
    with_password = await api.post(
        "/users", headers=admin, json={"name": "x", "role": "owner", "password": "owners-choose-it"}
    )
    assert with_password.status_code == 422  # owners set their own password
    owner = await new_owner(api, org, admin)
    assert_unauthorized(await sign_in(api, "13700001111", "owner-password"))  # nothing to log in with yet

    code = await invite(api, admin, owner)
    activated = await activate(api, code, phone="13700001111")
    assert activated.status_code == 200, activated.text
    tokens = activated.json()
    assert tokens["user"]["id"] == owner["id"] and tokens["user"]["activated"] is True
    mine = (await me(api, tokens)).json()
    assert mine["user"]["phone"] == "13700001111"
    assert mine["unit_ids"] == [org.other_unit_id] and mine["property_ids"] == [org.property_id]

    assert_unauthorized(await activate(api, code, "another-password"))  # a code works once
    await tokens_of(api, "13700001111", "owner-password")
    assert (await api.post(f"/users/{owner['id']}/invitation", headers=admin)).status_code == 409


async def test_stale_and_expired_invitation_codes_answer_401(api, db):
    org = await build_org(db, "st")
    admin = await login(api, org, "admin")
    owner = await new_owner(api, org, admin, phone="13700002222")
    first = await invite(api, admin, owner)
    second = await invite(api, admin, owner)
    assert_unauthorized(await activate(api, first))  # a new code replaces the earlier one
    await db.execute("UPDATE invitations SET expires_at = now() - interval '1 second' WHERE user_id = $1", owner["id"])
    assert_unauthorized(await activate(api, second))
    assert await db.fetchval("SELECT password_hash FROM users WHERE id = $1", owner["id"]) is None


async def test_wrong_activation_codes_are_rate_limited(api, db, settings):
    org = await build_org(db, "ar")
    admin = await login(api, org, "admin")
    code = await invite(api, admin, await new_owner(api, org, admin, phone="13700003333"))
    for _ in range(settings.login_attempts - 1):
        assert_unauthorized(await activate(api, "AAAAA-BBBBB"))
    # every try counts; a right code whose activation is refused (and rolled back) does not wipe the count
    assert (await activate(api, code, email=org.email("staff"))).status_code == 409
    blocked = await activate(api, code)
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


async def test_a_deactivated_owner_cannot_activate(api, db):
    org = await build_org(db, "do")
    admin = await login(api, org, "admin")
    owner = await new_owner(api, org, admin, phone="13700004444")
    code = await invite(api, admin, owner)
    assert (await api.patch(f"/users/{owner['id']}", headers=admin, json={"active": False})).status_code == 200
    refused = await activate(api, code)
    assert_unauthorized(refused)
    assert "disabled" in refused.json()["detail"]
    assert await db.fetchval("SELECT password_hash FROM users WHERE id = $1", owner["id"]) is None

    # switched back on, the same code still works: the refusal changed nothing
    assert (await api.patch(f"/users/{owner['id']}", headers=admin, json={"active": True})).status_code == 200
    activated = await activate(api, code)
    assert activated.status_code == 200, activated.text
    assert (await me(api, activated.json())).status_code == 200


async def test_an_activation_refused_for_a_taken_email_leaves_the_code_usable(api, db):
    org = await build_org(db, "tk")
    admin = await login(api, org, "admin")
    owner = await new_owner(api, org, admin)
    code = await invite(api, admin, owner)
    assert (await activate(api, code, email=org.email("staff"))).status_code == 409  # someone else's e-mail
    # the claim of the code was rolled back with the refused request; typed loosely, it still works
    retried = await activate(api, code.lower().replace("-", ""), phone="13700005555")
    assert retried.status_code == 200, retried.text
