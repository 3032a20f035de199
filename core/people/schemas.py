"""Input shapes for people and authentication."""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, UnsetType

from core.structs import Email, Name, Password, Phone, Struct
from core.vocabulary import Role


class UserCreate(Struct):
    name: Name
    role: Role
    email: Email | None = None
    phone: Phone | None = None
    password: Password | None = None  # staff, supervisors, admins; owners activate with an invitation code


class UserUpdate(Struct):
    name: Name | UnsetType = UNSET
    role: Role | UnsetType = UNSET
    email: Email | UnsetType | None = UNSET
    phone: Phone | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET


class Login(Struct):
    login: Annotated[
        str, Meta(min_length=3, max_length=254, description="e-mail or phone", examples=["admin@demo.fieldwork.local"])
    ]
    password: Password


class Refresh(Struct):
    refresh_token: str


class Activate(Struct):
    code: str
    password: Password
    email: Email | None = None
    phone: Phone | None = None


class PasswordChange(Struct):
    current_password: Password
    new_password: Password
