"""Sign-in: passwords, rate limits, rotating refresh tokens, revocation, owner activation."""

from datetime import UTC, datetime

import msgspec
import pytest
from redis.asyncio import Redis

from core.clock import FixedClock
from core.errors import Unauthorized
from core.people import auth
from core.people.schemas import Login
from core.ratelimit import AttemptLimiter
from tests.world import PASSWORD, build_org, login


async def sign_in(api, login_name: str, password: str = PASSWORD):
    return await api.post("/auth/login", json={"login": login_name, "password": password})


def bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_login_by_email_or_phone_and_wrong_password(api, db):
    org = await build_org(db, "li")
    await db.execute("UPDATE users SET phone = '13812345678' WHERE id = $1", org.ids["staff"])
    by_email = await sign_in(api, org.email("staff").upper())  # e-mail is case-insensitive
    by_phone = await sign_in(api, "13812345678")
    assert by_email.status_code == by_phone.status_code == 200
    assert by_phone.json()["user"]["id"] == org.ids["staff"]
    wrong = await sign_in(api, org.email("staff"), "not-the-password")
    unknown = await sign_in(api, "nobody@nowhere.test")
    for response in (wrong, unknown):  # the same answer: no hint which logins exist
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        assert response.json()["detail"] == "wrong login or password"


async def test_failed_logins_are_rate_limited(api, db, settings):
    org = await build_org(db, "rl")
    for _ in range(settings.login_attempts):
        assert (await sign_in(api, org.email("staff"), "guess-guess")).status_code == 401
    blocked = await sign_in(api, org.email("staff"))  # even the right password waits now
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= settings.login_window
    assert (await sign_in(api, org.email("supervisor"))).status_code == 200  # other people are not affected


async def test_refresh_rotates_and_a_reused_token_ends_the_session(api, db):
    org = await build_org(db, "rf")
    first = (await sign_in(api, org.email("staff"))).json()
    second = await api.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    newest = second.json()
    assert newest["refresh_token"] != first["refresh_token"]
    assert (await api.get("/me", headers=bearer(newest))).status_code == 200
    replay = await api.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401  # someone kept a copy: the whole session ends
    assert (await api.post("/auth/refresh", json={"refresh_token": newest["refresh_token"]})).status_code == 401
    assert (await api.get("/me", headers=bearer(newest))).status_code == 401
    assert (await api.post("/auth/refresh", json={"refresh_token": "garbage"})).status_code == 401


async def test_logout_ends_the_access_token_at_once(api, db):
    org = await build_org(db, "lo")
    tokens = (await sign_in(api, org.email("staff"))).json()
    other_device = (await sign_in(api, org.email("staff"))).json()
    assert (await api.post("/auth/logout", headers=bearer(tokens))).status_code == 204
    assert (await api.get("/me", headers=bearer(tokens))).status_code == 401
    assert (await api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})).status_code == 401
    assert (await api.get("/me", headers=bearer(other_device))).status_code == 200  # only this session ended


async def test_password_change_ends_every_session(api, db):
    org = await build_org(db, "pw")
    phone, laptop = [(await sign_in(api, org.email("staff"))).json() for _ in range(2)]
    wrong = await api.post(
        "/auth/password",
        headers=bearer(phone),
        json={"current_password": "not-it-at-all", "new_password": "brand-new-secret"},
    )
    assert wrong.status_code == 422
    changed = await api.post(
        "/auth/password", headers=bearer(phone), json={"current_password": PASSWORD, "new_password": "brand-new-secret"}
    )
    assert changed.status_code == 200
    assert (await api.get("/me", headers=bearer(changed.json()))).status_code == 200
    for old in (phone, laptop):
        assert (await api.get("/me", headers=bearer(old))).status_code == 401
    assert (await sign_in(api, org.email("staff"))).status_code == 401
    assert (await sign_in(api, org.email("staff"), "brand-new-secret")).status_code == 200


async def test_owner_activates_with_an_invitation_code(api, db):
    org = await build_org(db, "iv")
    admin = await login(api, org, "admin")
    owner = await api.post("/users", headers=admin, json={"name": "业主 张", "role": "owner"})
    assert owner.status_code == 201, owner.text
    owner_id = owner.json()["id"]
    assert (await api.put(f"/units/{org.other_unit_id}/owners/{owner_id}", headers=admin)).status_code == 200
    first = (await api.post(f"/users/{owner_id}/invitation", headers=admin)).json()
    code = (await api.post(f"/users/{owner_id}/invitation", headers=admin)).json()["code"]  # replaces the first
    stale = await api.post("/auth/activate", json={"code": first["code"], "password": "owner-password"})
    assert stale.status_code == 401
    taken = await api.post(
        "/auth/activate", json={"code": code, "password": "owner-password", "email": org.email("staff")}
    )
    assert taken.status_code == 409  # that e-mail is someone else's ...
    # ... and the refused activation left the code usable: the request's transaction rolled back
    activated = await api.post(
        "/auth/activate",
        json={"code": code.lower().replace("-", ""), "password": "owner-password", "phone": "13700001111"},
    )
    assert activated.status_code == 200, activated.text
    me = (await api.get("/me", headers=bearer(activated.json()))).json()
    assert me["user"]["role"] == "owner" and me["unit_ids"] == [org.other_unit_id]
    assert (await api.post("/auth/activate", json={"code": code, "password": "another-pass"})).status_code == 401
    assert (await sign_in(api, "13700001111", "owner-password")).status_code == 200
    again = await api.post(f"/users/{owner_id}/invitation", headers=admin)
    assert again.status_code == 409  # activated owners log in; no new codes


async def test_a_disabled_person_loses_access_at_once(api, db):
    org = await build_org(db, "da")
    admin = await login(api, org, "admin")
    staff = (await sign_in(api, org.email("staff"))).json()
    off = await api.patch(f"/users/{org.ids['staff']}", headers=admin, json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert (await api.get("/me", headers=bearer(staff))).status_code == 401
    refused = await sign_in(api, org.email("staff"))
    assert refused.status_code == 401 and "disabled" in refused.json()["detail"]
    assert (await api.patch(f"/users/{org.ids['admin']}", headers=admin, json={"active": False})).status_code == 409


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 11, 23, 9, tzinfo=UTC))


async def test_an_access_token_expires_after_its_ttl(settings, db, clock):
    """In-process check of the service with a moved clock: no sleeping."""
    org = await build_org(db, "ex")
    config = auth.AuthConfig(secret=settings.secret_key, access_ttl=60, refresh_ttl=3600)
    redis = Redis.from_url(settings.redis_url)
    try:
        limiter = AttemptLimiter(redis, namespace=settings.namespace, attempts=5, window=60)
        tokens = await auth.login(
            db,
            config,
            limiter,
            msgspec.convert({"login": org.email("staff"), "password": PASSWORD}, Login),
            now=clock.now(),
            user_agent="test",
        )
    finally:
        await redis.aclose()
    caller = await auth.authenticate(db, config, tokens.access_token, now=clock.now())
    assert caller.user_id == org.ids["staff"]
    clock.advance(seconds=61)
    with pytest.raises(Unauthorized, match="expired"):
        await auth.authenticate(db, config, tokens.access_token, now=clock.now())
    refreshed = await auth.refresh(db, config, tokens.refresh_token, now=clock.now())
    assert (await auth.authenticate(db, config, refreshed.access_token, now=clock.now())).user_id == caller.user_id
