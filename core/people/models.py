"""People: users with one role each, scoped to properties (staff, supervisors) or units (owners)."""

from __future__ import annotations

from datetime import datetime

from core.structs import Struct


class User(Struct):
    id: str
    name: str
    role: str
    email: str | None
    phone: str | None
    active: bool
    activated: bool
    created_at: datetime
    updated_at: datetime


class Me(Struct):
    user: User
    org_id: str
    property_ids: list[str]
    unit_ids: list[str]


class Invitation(Struct):
    """An owner's activation code. The code is shown once, when it is issued; only its hash is kept."""

    user_id: str
    code: str
    expires_at: datetime


class Tokens(Struct):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    user: User
