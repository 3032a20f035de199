"""Use cases for orgs, users, staff assignments, owner links and owner invitations."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import asyncpg

from core.access import Caller, require_property, require_role, visible_property_ids
from core.audit.service import record, record_change
from core.db import changes_of, unique_or_conflict
from core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from core.ids import new_id
from core.people import repository as sql
from core.people.models import Invitation, Me, User
from core.people.schemas import UserCreate, UserUpdate
from core.places import repository as places_sql
from core.places.service import get_unit
from core.security import digest, hash_password, new_invitation_code
from core.structs import Page, page_of, record_as

STAFF_ROLES = ("staff", "supervisor")


def user_of(row: asyncpg.Record) -> User:
    return record_as(row, User)


def _check_contact(role: str, email: str | None, phone: str | None, password: str | None) -> None:
    if role == "owner":
        if password is not None:
            raise Invalid(
                "owners set their own password when they activate their account",
                [FieldError(field="password", message="leave it out for owners; issue an invitation")],
            )
        return
    errors = []
    if email is None and phone is None:
        errors.append(
            FieldError(
                field="email",
                message="staff log in with an e-mail or a phone: give one / 员工须有手机号或电子邮箱用于登录",
            )
        )
    if password is None:
        errors.append(
            FieldError(
                field="password", message="required for staff, supervisors and admins / 员工、主管和管理员须设置密码"
            )
        )
    if errors:
        raise Invalid("missing login details", errors)


async def create_org(
    conn: asyncpg.Connection,
    *,
    name: str,
    admin_name: str,
    admin_email: str,
    admin_password: str,
    slug: str | None = None,
) -> tuple[str, User]:
    """A new tenant and its first admin (from the CLI or the demo)."""
    org_id = new_id()
    if slug is None:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "org"
        slug = f"{slug[:40]}-{org_id[:6].lower()}"
    await sql.insert_org(conn, org_id, name, slug)
    row = await unique_or_conflict(
        sql.insert_user(
            conn, org_id, new_id(), admin_name, "admin", admin_email.lower(), None, await hash_password(admin_password)
        ),
        "that e-mail is in use already",
        "email",
    )
    admin = user_of(row)
    await record(
        conn,
        org_id=org_id,
        actor_id=None,
        action="create",
        entity="org",
        entity_id=org_id,
        after={"name": name, "slug": slug},
    )
    await record(conn, org_id=org_id, actor_id=None, action="create", entity="user", entity_id=admin.id, after=admin)
    return org_id, admin


async def create_user(conn: asyncpg.Connection, caller: Caller, data: UserCreate) -> User:
    require_role(caller, "admin")
    _check_contact(data.role, data.email, data.phone, data.password)
    row = await unique_or_conflict(
        sql.insert_user(
            conn,
            caller.org_id,
            new_id(),
            data.name,
            data.role,
            data.email.lower() if data.email else None,
            data.phone,
            await hash_password(data.password) if data.password else None,
        ),
        "that e-mail or phone is in use already / 该邮箱或手机号已被使用",
        "email" if data.email else "phone",
    )
    user = user_of(row)
    await record_change(conn, caller, "create", "user", user.id, after=user)
    return user


async def _visible_user_ids(conn: asyncpg.Connection, caller: Caller) -> list[str] | None:
    """None = all (admins). Supervisors see the people of their properties; others only themselves."""
    if caller.is_admin:
        return None
    if caller.role == "supervisor":
        properties = await visible_property_ids(conn, caller) or []
        return [*await sql.users_of_properties(conn, caller.org_id, properties), caller.user_id]
    return [caller.user_id]


async def get_user(conn: asyncpg.Connection, caller: Caller, user_id: str) -> User:
    visible = await _visible_user_ids(conn, caller)
    row = await sql.get_user(conn, caller.org_id, user_id)
    if row is None or (visible is not None and user_id not in visible):
        raise NotFound(f"user {user_id} not found", entity="user", id=user_id)
    return user_of(row)


async def list_users(
    conn: asyncpg.Connection, caller: Caller, role: str | None, cursor: str | None, limit: int
) -> Page[User]:
    require_role(caller, "admin", "supervisor")
    visible = await _visible_user_ids(conn, caller)
    rows = await sql.list_users(conn, caller.org_id, ids=visible, role=role, after=cursor, limit=limit + 1)
    return page_of([user_of(r) for r in rows], limit)


async def update_user(conn: asyncpg.Connection, caller: Caller, user_id: str, data: UserUpdate, now: datetime) -> User:
    before = await get_user(conn, caller, user_id)
    require_role(caller, "admin")
    changes = changes_of(data)
    if isinstance(changes.get("email"), str):
        changes["email"] = str(changes["email"]).lower()
    if user_id == caller.user_id and (changes.get("active") is False or changes.get("role", "admin") != "admin"):
        raise Conflict(
            "you cannot demote or deactivate yourself; ask another admin / 不能降级或禁用自己的账户，请另一位管理员操作"
        )
    if not changes:
        return before
    row = await unique_or_conflict(
        sql.update_user(conn, caller.org_id, user_id, changes),
        "that e-mail or phone is in use already / 该邮箱或手机号已被使用",
        "email",
    )
    after = user_of(row)
    if changes.get("active") is False or "role" in changes:
        # a disabled person, or one whose rights changed, signs in again
        await sql.revoke_user_sessions(conn, caller.org_id, user_id, now)
    await record_change(conn, caller, "update", "user", user_id, before=before, after=after)
    return after


async def me(conn: asyncpg.Connection, caller: Caller) -> Me:
    row = await sql.get_user(conn, caller.org_id, caller.user_id)
    assert row is not None
    owned = await places_sql.owned_units(conn, caller.org_id, caller.user_id)
    properties = await visible_property_ids(conn, caller)
    if properties is None:
        properties = [r["id"] for r in await places_sql.list_properties(conn, caller.org_id, None, None, 10_000)]
    return Me(user=user_of(row), org_id=caller.org_id, property_ids=properties, unit_ids=[r["id"] for r in owned])


async def _user_with_role(conn: asyncpg.Connection, caller: Caller, user_id: str, roles: tuple[str, ...]) -> User:
    row = await sql.get_user(conn, caller.org_id, user_id)
    if row is None:
        raise NotFound(f"user {user_id} not found", entity="user", id=user_id)
    user = user_of(row)
    if user.role not in roles:
        raise Invalid(
            f"user {user_id} is {user.role}; this needs {' or '.join(roles)}",
            [FieldError(field="user_id", message=f"must be {' or '.join(roles)}")],
        )
    return user


async def assign_staff(conn: asyncpg.Connection, caller: Caller, property_id: str, user_id: str) -> User:
    await require_property(conn, caller, property_id, "admin")
    user = await _user_with_role(conn, caller, user_id, STAFF_ROLES)
    if await sql.assign_staff(conn, caller.org_id, property_id, user_id):
        await record_change(
            conn,
            caller,
            "assign",
            "property_staff",
            f"{property_id}:{user_id}",
            after={"property_id": property_id, "user_id": user_id},
        )
    return user


async def unassign_staff(conn: asyncpg.Connection, caller: Caller, property_id: str, user_id: str) -> None:
    await require_property(conn, caller, property_id, "admin")
    if not await sql.unassign_staff(conn, caller.org_id, property_id, user_id):
        raise NotFound(f"user {user_id} is not assigned to property {property_id}", entity="property_staff")
    await record_change(
        conn,
        caller,
        "unassign",
        "property_staff",
        f"{property_id}:{user_id}",
        before={"property_id": property_id, "user_id": user_id},
    )


async def property_staff(conn: asyncpg.Connection, caller: Caller, property_id: str) -> list[User]:
    await require_property(conn, caller, property_id, "supervise")
    return [user_of(r) for r in await sql.staff_of_property(conn, caller.org_id, property_id)]


async def link_owner(conn: asyncpg.Connection, caller: Caller, unit_id: str, user_id: str) -> User:
    unit = await get_unit(conn, caller, unit_id)
    await require_property(conn, caller, unit.property_id, "supervise")
    user = await _user_with_role(conn, caller, user_id, ("owner",))
    if await sql.link_owner(conn, caller.org_id, unit_id, user_id):
        await record_change(
            conn, caller, "link", "unit_owner", f"{unit_id}:{user_id}", after={"unit_id": unit_id, "user_id": user_id}
        )
    return user


async def unlink_owner(conn: asyncpg.Connection, caller: Caller, unit_id: str, user_id: str) -> None:
    unit = await get_unit(conn, caller, unit_id)
    await require_property(conn, caller, unit.property_id, "supervise")
    if not await sql.unlink_owner(conn, caller.org_id, unit_id, user_id):
        raise NotFound(f"user {user_id} is not an owner of unit {unit_id}", entity="unit_owner")
    await record_change(
        conn, caller, "unlink", "unit_owner", f"{unit_id}:{user_id}", before={"unit_id": unit_id, "user_id": user_id}
    )


async def unit_owners(conn: asyncpg.Connection, caller: Caller, unit_id: str) -> list[User]:
    unit = await get_unit(conn, caller, unit_id)
    if caller.role == "owner":
        raise Forbidden("owners cannot list the people of a unit", required_role=["admin", "supervisor", "staff"])
    await require_property(conn, caller, unit.property_id)
    return [user_of(r) for r in await sql.owners_of_unit(conn, caller.org_id, unit_id)]


async def issue_invitation(
    conn: asyncpg.Connection, caller: Caller, user_id: str, *, now: datetime, ttl: int
) -> Invitation:
    """A new activation code for an owner: admins, or supervisors of a property where the owner has a unit."""
    owner = await get_user(conn, caller, user_id)  # first: someone out of sight is 404, not 403
    require_role(caller, "admin", "supervisor")
    if owner.role != "owner":
        raise Invalid(
            "invitations are for owners; staff get a password from an admin",
            [FieldError(field="user_id", message=f"user is {owner.role}")],
        )
    if owner.activated:
        raise Conflict("this owner has activated the account already; they can log in")
    code = new_invitation_code()
    expires_at = now + timedelta(seconds=ttl)
    await sql.replace_invitation(conn, caller.org_id, new_id(), user_id, digest(code), expires_at, caller.user_id)
    await record_change(conn, caller, "invite", "user", user_id, after={"expires_at": expires_at.isoformat()})
    return Invitation(user_id=user_id, code=code, expires_at=expires_at)
