"""Sign-in: passwords, owner activation, short-lived access tokens and revocable refresh tokens.

An access token names its session; a request is let in only while that session is live, so logout,
a password change or a disabled account takes effect at once. The refresh token `<org>.<session>.<secret>`
rotates on every use; presenting an old one revokes the session (it was copied).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import msgspec

from core import throttle
from core.access import Caller
from core.audit.service import record, record_change
from core.db import unique_or_conflict
from core.errors import FieldError, Invalid, Unauthorized
from core.ids import new_id
from core.people import repository as sql
from core.people.models import Tokens, User
from core.people.schemas import Activate, Login, PasswordChange
from core.people.service import user_of
from core.ratelimit import AttemptLimiter
from core.security import (
    digest,
    hash_password,
    issue_access_token,
    new_secret,
    normalise_invitation_code,
    read_access_token,
    same_digest,
    verify_password,
)


class AuthConfig(msgspec.Struct, frozen=True, kw_only=True):
    secret: str
    access_ttl: int
    refresh_ttl: int


class Context(msgspec.Struct, frozen=True, kw_only=True):
    """Who asks and when: the client's address (core.throttle limits guessing by it), the time, and the
    user agent a new session is labelled with."""

    client: str
    now: datetime
    user_agent: str


def _tokens(config: AuthConfig, org_id: str, session_id: str, secret: str, user: User, now: datetime) -> Tokens:
    access = issue_access_token(
        config.secret,
        org_id=org_id,
        user_id=user.id,
        session_id=session_id,
        role=user.role,
        now=now,
        ttl=config.access_ttl,
    )
    return Tokens(
        access_token=access,
        refresh_token=f"{org_id}.{session_id}.{secret}",
        token_type="Bearer",
        expires_in=config.access_ttl,
        user=user,
    )


async def _open_session(
    conn: asyncpg.Connection, config: AuthConfig, org_id: str, user: User, asked: Context
) -> Tokens:
    session_id, secret = new_id(), new_secret()
    await sql.insert_session(
        conn,
        org_id,
        session_id,
        user.id,
        digest(secret),
        asked.user_agent,
        asked.now + timedelta(seconds=config.refresh_ttl),
    )
    return _tokens(config, org_id, session_id, secret, user, asked.now)


async def login(
    conn: asyncpg.Connection,
    config: AuthConfig,
    limiter: AttemptLimiter,
    data: Login,
    asked: Context,
) -> Tokens:
    """Sign in (core.throttle limits guessing by login and client address)."""
    tried = await throttle.try_login(limiter, data.login.lower(), asked.client)
    row = await sql.find_login(conn, data.login.lower())
    if not await verify_password(row["password_hash"] if row else None, data.password) or row is None:
        raise Unauthorized("wrong login or password")
    await throttle.signed_in(limiter, tried)
    if not row["active"]:
        raise Unauthorized("this account is disabled; ask your property office")
    return await _open_session(conn, config, row["org_id"], user_of(row), asked)


async def refresh(conn: asyncpg.Connection, config: AuthConfig, refresh_token: str, *, now: datetime) -> Tokens:
    try:
        org_id, session_id, secret = refresh_token.split(".")
    except ValueError:
        raise Unauthorized("the refresh token is not valid") from None
    session = await sql.get_session_for_update(conn, org_id, session_id)
    if session is None or session["revoked_at"] is not None or session["expires_at"] <= now or not session["active"]:
        raise Unauthorized("the session has ended; log in again")
    if not same_digest(session["refresh_hash"], digest(secret)):
        # an old token came back: someone holds a copy, so end the session for everyone
        await sql.revoke_session(conn, org_id, session_id, now)
        raise Unauthorized("the refresh token was used already; the session is ended, log in again", keep_changes=True)
    user_row = await sql.get_user(conn, org_id, session["user_id"])
    assert user_row is not None
    user = user_of(user_row)
    new = new_secret()
    await sql.rotate_session(conn, org_id, session_id, digest(new), now)
    return _tokens(config, org_id, session_id, new, user, now)


async def authenticate(conn: asyncpg.Connection, config: AuthConfig, token: str, *, now: datetime) -> Caller:
    claims = read_access_token(config.secret, token, now=now)
    row = await sql.live_session_user(conn, claims.org, claims.sid, claims.sub, now)
    if row is None:
        raise Unauthorized("the session has ended; log in again")
    return Caller(org_id=claims.org, user_id=claims.sub, role=row["role"], session_id=claims.sid)


async def authenticate_session(conn: asyncpg.Connection, credential: str, *, now: datetime) -> Caller:
    """The caller behind a browser's session cookie, which holds the session's credential (the refresh token
    as sign-in gave it). A page checks it on every request without rotating it: the cookie is HttpOnly, so no
    script can copy it, and logout or a password change ends it at once as for any session."""
    try:
        org_id, session_id, secret = credential.split(".")
    except ValueError:
        raise Unauthorized("the session has ended; log in again") from None
    row = await sql.live_session(conn, org_id, session_id, now)
    if row is None or not same_digest(row["refresh_hash"], digest(secret)):
        raise Unauthorized("the session has ended; log in again")
    return Caller(org_id=org_id, user_id=row["user_id"], role=row["role"], session_id=session_id)


async def logout(conn: asyncpg.Connection, caller: Caller, *, now: datetime) -> None:
    await sql.revoke_session(conn, caller.org_id, caller.session_id, now)


async def change_password(
    conn: asyncpg.Connection,
    config: AuthConfig,
    limiter: AttemptLimiter,
    caller: Caller,
    data: PasswordChange,
    asked: Context,
) -> Tokens:
    """Set a new password, end every session of the person, and open a new one for this device. The current
    password is checked under the same limit as any secret (a stolen access token must not be a way to guess
    it)."""
    guess = await throttle.try_secret(limiter, f"password:{caller.org_id}:{caller.user_id}", asked.client)
    current = await sql.password_hash(conn, caller.org_id, caller.user_id)
    if not await verify_password(current, data.current_password):
        raise Invalid("the current password is wrong", [FieldError(field="current_password", message="does not match")])
    await limiter.refund(guess)
    await sql.set_password(conn, caller.org_id, caller.user_id, await hash_password(data.new_password))
    ended = await sql.revoke_user_sessions(conn, caller.org_id, caller.user_id, asked.now)
    await record_change(conn, caller, "change_password", "user", caller.user_id, after={"sessions_ended": ended})
    row = await sql.get_user(conn, caller.org_id, caller.user_id)
    assert row is not None
    return await _open_session(conn, config, caller.org_id, user_of(row), asked)


async def activate(
    conn: asyncpg.Connection,
    config: AuthConfig,
    limiter: AttemptLimiter,
    data: Activate,
    asked: Context,
) -> Tokens:
    """An owner turns an invitation code into an account with a password (and optionally a login)."""
    guess = await throttle.try_secret(limiter, "activate", asked.client)
    invitation = await sql.claim_invitation(conn, digest(normalise_invitation_code(data.code)), asked.now)
    if invitation is None:
        raise Unauthorized("the invitation code is wrong, used or expired; ask your property office for a new one")
    org_id, user_id = invitation["org_id"], invitation["user_id"]
    invited = await sql.get_user(conn, org_id, user_id)
    if invited is None or not invited["active"]:
        # the refusal rolls the claim back: switched on again, the owner can use the same code
        raise Unauthorized("this account is disabled; ask your property office")
    changes: dict[str, object] = {}
    if data.email:
        changes["email"] = data.email.lower()
    if data.phone:
        changes["phone"] = data.phone
    if changes:
        await unique_or_conflict(
            sql.update_user(conn, org_id, user_id, changes),
            "that e-mail or phone is in use already",
            "email" if data.email else "phone",
        )
    row = await sql.get_user(conn, org_id, user_id)
    assert row is not None
    if row["email"] is None and row["phone"] is None:
        raise Invalid(
            "give a phone or an e-mail to log in with",
            [FieldError(field="phone", message="required when the office did not record one")],
        )
    await sql.set_password(conn, org_id, user_id, await hash_password(data.password))
    user = user_of(await sql.get_user(conn, org_id, user_id))  # type: ignore[arg-type]
    await record(conn, org_id=org_id, actor_id=user_id, action="activate", entity="user", entity_id=user_id, after=user)
    # only now: a right code whose activation is refused (and rolled back) stays counted as a guess
    await limiter.refund(guess)
    return await _open_session(conn, config, org_id, user, asked)


SESSION_KEEP_DAYS = 30


async def purge_dead_sessions(conn: asyncpg.Connection, *, now: datetime) -> int:
    """Delete sessions and invitations ended more than SESSION_KEEP_DAYS ago (kept that long for support)."""
    return await sql.delete_dead_sessions(conn, now - timedelta(days=SESSION_KEEP_DAYS))
