"""What an owner reads of the surveys on their own pages, by the read rules of surveys/synced.py: the open
campaigns their households are invited to (with each household's link), and the published results of their
properties' campaigns with the improvement actions as they stand."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from core.access import Caller, require_role, visible_property_ids
from core.places.households import owner_households
from core.structs import Frozen
from surveys import campaigns
from surveys.repository import owner as sql
from surveys.schemas import Published, PublishedAction


class OpenSurvey(Frozen, frozen=True):
    """An open campaign a household is invited to; `token` opens its survey page (/survey/{token})."""

    campaign_id: str
    unit_id: str
    name_zh: str
    name_en: str
    closes_at: datetime
    anonymous: bool
    responded_at: datetime | None
    token: str


class OwnerAction(PublishedAction, frozen=True):
    """An improvement action as it stands now (the published results hold it as it was when published)."""

    done_at: datetime | None


class OwnerResults(Frozen, frozen=True):
    """A campaign's published results (surveys.actions.publish) and its actions as they stand now."""

    property_id: str
    property_name: str
    time_zone: str
    results: Published
    actions: list[OwnerAction]


async def open_surveys(conn: asyncpg.Connection, caller: Caller, *, secret: str, now: datetime) -> list[OpenSurvey]:
    """The open campaigns the caller's households (the units they own) are invited to."""
    require_role(caller, "owner")
    mine = [h.unit_id for h in await owner_households(conn, caller)]
    rows = await sql.open_invitations(conn, caller.org_id, mine, now)
    return [
        OpenSurvey(
            **{name: row[name] for name in OpenSurvey.__struct_fields__ if name != "token"},
            # the household's current link: a revoked one moved it to the next generation
            token=campaigns.link_token(
                secret, caller.org_id, row["campaign_id"], row["unit_id"], row["link_generation"]
            ),
        )
        for row in rows
    ]


async def published_results(conn: asyncpg.Connection, caller: Caller) -> list[OwnerResults]:
    """The published results of the campaigns of the properties the caller may see, latest first."""
    require_role(caller, "owner")
    scope = await visible_property_ids(conn, caller) or []
    actions: dict[str, list[OwnerAction]] = {}
    for row in await sql.published_actions(conn, caller.org_id, scope):
        actions.setdefault(row["campaign_id"], []).append(
            msgspec.convert({k: v for k, v in dict(row).items() if k != "campaign_id"}, OwnerAction)
        )
    return [
        OwnerResults(
            property_id=row["property_id"],
            property_name=row["property_name"],
            time_zone=row["timezone"],
            # stored as JSON: the distributions' keys (1..5) came back as strings
            results=msgspec.convert(row["results"], Published, strict=False),
            actions=actions.get(row["id"], []),
        )
        for row in await sql.published_campaigns(conn, caller.org_id, scope)
    ]
