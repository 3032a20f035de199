"""Passwords (argon2id), signed access tokens (JWT, HS256), refresh tokens and invitation codes."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import jwt
import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import Unauthorized

_hasher = PasswordHasher()
# A real hash to verify against when the login is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("not-a-password-of-anyone")


async def hash_password(password: str) -> str:
    # argon2 takes tens of milliseconds of CPU by design: off the event loop, so other requests go on
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown login) a dummy is checked so both paths take as long."""
    return await asyncio.to_thread(_verify, password_hash, password)


class AccessClaims(msgspec.Struct, kw_only=True):
    sub: str  # user id
    org: str
    sid: str  # session id: revoking the session ends its access tokens too
    role: str
    exp: int
    iat: int


def issue_access_token(
    secret: str, *, org_id: str, user_id: str, session_id: str, role: str, now: datetime, ttl: int
) -> str:
    claims = AccessClaims(
        sub=user_id,
        org=org_id,
        sid=session_id,
        role=role,
        iat=int(now.timestamp()),
        exp=int((now + timedelta(seconds=ttl)).timestamp()),
    )
    return jwt.encode(msgspec.to_builtins(claims), secret, algorithm="HS256")


def read_access_token(secret: str, token: str, *, now: datetime) -> AccessClaims:
    try:
        # expiry is checked below against our (injectable) clock, not the library's
        payload = jwt.decode(token, secret, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False})
        claims = msgspec.convert(payload, AccessClaims)
    except (jwt.InvalidTokenError, msgspec.ValidationError):
        raise Unauthorized("the access token is not valid") from None
    if claims.exp <= now.timestamp():
        raise Unauthorized("the access token has expired; refresh it")
    return claims


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """sha256 of a high-entropy secret (refresh token, invitation code); such secrets need no slow hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


# Invitation codes are typed by people from a paper notice: no 0/O, 1/I/L.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_invitation_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_invitation_code(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{cleaned[:5]}-{cleaned[5:]}"
