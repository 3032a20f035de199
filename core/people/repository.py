"""SQL for users, assignments, owner links, invitations and sessions."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from core.db import insert_returning, update_row

USER_COLUMNS = "id, name, role, email, phone, active, activated_at IS NOT NULL AS activated, created_at, updated_at"


async def insert_org(conn: asyncpg.Connection, org_id: str, name: str, slug: str) -> None:
    await conn.execute("INSERT INTO orgs (org_id, name, slug) VALUES ($1, $2, $3)", org_id, name, slug)


async def insert_user(
    conn: asyncpg.Connection,
    org_id: str,
    id: str,
    name: str,
    role: str,
    email: str | None,
    phone: str | None,
    password_hash: str | None,
) -> asyncpg.Record:
    return await insert_returning(
        conn,
        f"""INSERT INTO users (org_id, id, name, role, email, phone, password_hash, activated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $7::text IS NULL THEN NULL ELSE now() END)
            RETURNING {USER_COLUMNS}""",
        org_id,
        id,
        name,
        role,
        email,
        phone,
        password_hash,
    )


async def get_user(conn: asyncpg.Connection, org_id: str, id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND id = $2", org_id, id)


async def find_login(conn: asyncpg.Connection, login: str) -> asyncpg.Record | None:
    """A user by e-mail or phone, across tenants (people log in without naming one)."""
    return await conn.fetchrow(
        f"SELECT org_id, password_hash, {USER_COLUMNS} FROM users WHERE email = $1 OR phone = $1 LIMIT 1", login
    )


async def password_hash(conn: asyncpg.Connection, org_id: str, id: str) -> str | None:
    value: str | None = await conn.fetchval("SELECT password_hash FROM users WHERE org_id = $1 AND id = $2", org_id, id)
    return value


async def set_password(conn: asyncpg.Connection, org_id: str, id: str, password_hash: str) -> None:
    await conn.execute(
        """UPDATE users SET password_hash = $3, activated_at = coalesce(activated_at, now()), updated_at = now()
           WHERE org_id = $1 AND id = $2""",
        org_id,
        id,
        password_hash,
    )


async def list_users(
    conn: asyncpg.Connection, org_id: str, *, ids: list[str] | None, role: str | None, after: str | None, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {USER_COLUMNS} FROM users
            WHERE org_id = $1 AND ($2::text[] IS NULL OR id = ANY($2)) AND ($3::text IS NULL OR role = $3)
              AND ($4::text IS NULL OR id > $4)
            ORDER BY id LIMIT $5""",
        org_id,
        ids,
        role,
        after,
        limit,
    )


async def users_of_properties(conn: asyncpg.Connection, org_id: str, property_ids: list[str]) -> list[str]:
    """Staff assigned to, and owners of units in, these properties."""
    rows = await conn.fetch(
        """SELECT user_id FROM property_staff WHERE org_id = $1 AND property_id = ANY($2)
           UNION
           SELECT o.user_id FROM unit_owners o JOIN units u ON u.org_id = o.org_id AND u.id = o.unit_id
           WHERE o.org_id = $1 AND u.property_id = ANY($2)""",
        org_id,
        property_ids,
    )
    return [r["user_id"] for r in rows]


async def owners_of_property(conn: asyncpg.Connection, org_id: str, property_id: str) -> list[str]:
    """The active owners of the property's units."""
    rows = await conn.fetch(
        """SELECT DISTINCT o.user_id FROM unit_owners o
           JOIN units un ON un.org_id = o.org_id AND un.id = o.unit_id
           JOIN users u ON u.org_id = o.org_id AND u.id = o.user_id AND u.active
           WHERE o.org_id = $1 AND un.property_id = $2 ORDER BY o.user_id""",
        org_id,
        property_id,
    )
    return [r["user_id"] for r in rows]


async def update_user(conn: asyncpg.Connection, org_id: str, id: str, changes: dict[str, object]) -> asyncpg.Record:
    return await update_row(conn, "users", org_id=org_id, row_id=id, changes=changes, returning=USER_COLUMNS)


async def assign_staff(conn: asyncpg.Connection, org_id: str, property_id: str, user_id: str) -> bool:
    status = await conn.execute(
        """INSERT INTO property_staff (org_id, property_id, user_id) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING""",
        org_id,
        property_id,
        user_id,
    )
    return status.endswith(" 1")


async def unassign_staff(conn: asyncpg.Connection, org_id: str, property_id: str, user_id: str) -> bool:
    status = await conn.execute(
        "DELETE FROM property_staff WHERE org_id = $1 AND property_id = $2 AND user_id = $3",
        org_id,
        property_id,
        user_id,
    )
    return status != "DELETE 0"


async def staff_of_property(conn: asyncpg.Connection, org_id: str, property_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND id IN
            (SELECT user_id FROM property_staff WHERE org_id = $1 AND property_id = $2) ORDER BY name, id""",
        org_id,
        property_id,
    )


async def supervisors_of(conn: asyncpg.Connection, org_id: str, property_id: str) -> list[str]:
    rows = await conn.fetch(
        """SELECT u.id FROM users AS u JOIN property_staff AS s ON s.org_id = u.org_id AND s.user_id = u.id
           WHERE u.org_id = $1 AND s.property_id = $2 AND u.role = 'supervisor' AND u.active ORDER BY u.id""",
        org_id,
        property_id,
    )
    return [row["id"] for row in rows]


async def works_on(conn: asyncpg.Connection, org_id: str, user_id: str, property_id: str) -> str | None:
    """The user's role if they are assigned to the property (admins: always), else None."""
    role: str | None = await conn.fetchval(
        """SELECT u.role FROM users AS u WHERE u.org_id = $1 AND u.id = $2 AND u.active AND (u.role = 'admin'
               OR EXISTS (SELECT 1 FROM property_staff AS s WHERE s.org_id = $1 AND s.user_id = $2
                          AND s.property_id = $3))""",
        org_id,
        user_id,
        property_id,
    )
    return role


async def admins_of(conn: asyncpg.Connection, org_id: str) -> list[str]:
    rows = await conn.fetch("SELECT id FROM users WHERE org_id = $1 AND role = 'admin' AND active ORDER BY id", org_id)
    return [row["id"] for row in rows]


async def link_owner(conn: asyncpg.Connection, org_id: str, unit_id: str, user_id: str) -> bool:
    status = await conn.execute(
        "INSERT INTO unit_owners (org_id, unit_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        org_id,
        unit_id,
        user_id,
    )
    return status.endswith(" 1")


async def unlink_owner(conn: asyncpg.Connection, org_id: str, unit_id: str, user_id: str) -> bool:
    status = await conn.execute(
        "DELETE FROM unit_owners WHERE org_id = $1 AND unit_id = $2 AND user_id = $3", org_id, unit_id, user_id
    )
    return status != "DELETE 0"


async def owners_of_unit(conn: asyncpg.Connection, org_id: str, unit_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND id IN
            (SELECT user_id FROM unit_owners WHERE org_id = $1 AND unit_id = $2) ORDER BY name, id""",
        org_id,
        unit_id,
    )


async def replace_invitation(
    conn: asyncpg.Connection, org_id: str, id: str, user_id: str, code_hash: str, expires_at: datetime, created_by: str
) -> None:
    """Issue a new code; codes issued earlier for the same person stop working."""
    await conn.execute(
        "DELETE FROM invitations WHERE org_id = $1 AND user_id = $2 AND used_at IS NULL", org_id, user_id
    )
    await conn.execute(
        """INSERT INTO invitations (org_id, id, user_id, code_hash, expires_at, created_by)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        org_id,
        id,
        user_id,
        code_hash,
        expires_at,
        created_by,
    )


async def claim_invitation(conn: asyncpg.Connection, code_hash: str, now: datetime) -> asyncpg.Record | None:
    """Mark an unused, unexpired invitation used and return it; None if there is no such code."""
    return await conn.fetchrow(
        """UPDATE invitations SET used_at = $2
           WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
           RETURNING org_id, user_id""",
        code_hash,
        now,
    )


async def insert_session(
    conn: asyncpg.Connection,
    org_id: str,
    id: str,
    user_id: str,
    refresh_hash: str,
    user_agent: str,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO sessions (org_id, id, user_id, refresh_hash, user_agent, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        org_id,
        id,
        user_id,
        refresh_hash,
        user_agent[:300],
        expires_at,
    )


async def live_session_user(
    conn: asyncpg.Connection, org_id: str, session_id: str, user_id: str, now: datetime
) -> asyncpg.Record | None:
    """The user behind a session that is neither revoked nor expired, if the user is still active."""
    return await conn.fetchrow(
        """SELECT u.role FROM sessions s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id
           WHERE s.org_id = $1 AND s.id = $2 AND s.user_id = $3 AND s.revoked_at IS NULL AND s.expires_at > $4
             AND u.active""",
        org_id,
        session_id,
        user_id,
        now,
    )


async def live_session(conn: asyncpg.Connection, org_id: str, session_id: str, now: datetime) -> asyncpg.Record | None:
    """A session neither revoked nor expired, of a user still active: its user, role and refresh hash."""
    return await conn.fetchrow(
        """SELECT s.user_id, s.refresh_hash, u.role
           FROM sessions s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id
           WHERE s.org_id = $1 AND s.id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3 AND u.active""",
        org_id,
        session_id,
        now,
    )


async def get_session_for_update(conn: asyncpg.Connection, org_id: str, session_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT s.user_id, s.refresh_hash, s.expires_at, s.revoked_at, u.active
           FROM sessions s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id
           WHERE s.org_id = $1 AND s.id = $2 FOR UPDATE OF s""",
        org_id,
        session_id,
    )


async def rotate_session(
    conn: asyncpg.Connection, org_id: str, session_id: str, refresh_hash: str, now: datetime
) -> None:
    await conn.execute(
        "UPDATE sessions SET refresh_hash = $3, last_used_at = $4 WHERE org_id = $1 AND id = $2",
        org_id,
        session_id,
        refresh_hash,
        now,
    )


async def revoke_session(conn: asyncpg.Connection, org_id: str, session_id: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE sessions SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL",
        org_id,
        session_id,
        now,
    )


async def revoke_user_sessions(conn: asyncpg.Connection, org_id: str, user_id: str, now: datetime) -> int:
    status = await conn.execute(
        "UPDATE sessions SET revoked_at = $3 WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL",
        org_id,
        user_id,
        now,
    )
    return int(status.split()[-1])


async def delete_dead_sessions(conn: asyncpg.Connection, before: datetime) -> int:
    sessions = await conn.execute(
        "DELETE FROM sessions WHERE coalesce(revoked_at, expires_at) < $1 OR expires_at < $1", before
    )
    invitations = await conn.execute(
        "DELETE FROM invitations WHERE coalesce(used_at, expires_at) < $1 OR expires_at < $1", before
    )
    return int(sessions.split()[-1]) + int(invitations.split()[-1])
