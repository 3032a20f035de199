"""Answers taken by telephone or on a home visit: a supervisor of the property or an admin enters a household's
answers, with the channel (phone or visit) and who entered them recorded on the response and audited. The same
path and checks as a household's own answers (surveys.campaigns), and these rules (docs/surveys.md):

- a household's own answers (its link, the app) are never overwritten by staff: the household may change them
  itself, and what an owner said is what the report counts;
- answers staff entered may be corrected by staff only when they say so (`replace`), the old answers kept in the
  audit trail; without it, 409 already_answered;
- an anonymous campaign takes no staff-entered answers: they would tie the answers to the household;
- a household that later answers through its link or the app (if the template allows changes) makes the
  answers its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

import asyncpg
import msgspec

from core.access import Caller
from core.errors import Conflict
from surveys.campaigns import (
    UNCHECKED,
    StaffEntry,
    Unchecked,
    answered_by_household,
    campaign_and_template,
    check_seen,
    form_of,
    get_campaign,
    not_invited,
    state_at,
    take_answers,
)
from surveys.models import OWN_CHANNELS
from surveys.repository import campaigns as sql
from surveys.schemas import Campaign, Household, HouseholdAnswers, Submitted
from surveys.slips import natural_key
from surveys.templates import kept_version


def _no_staff_answers(campaign: Campaign) -> None:
    if campaign.anonymous:
        raise Conflict(
            "this survey is anonymous: answers entered by staff would be tied to the household, so households "
            "answer it only through their own link or the app / 本次调查为匿名调查：工作人员录入的答卷会与住户关联，"
            "请业主通过本户链接或应用自行作答",
            code="survey_anonymous",
        )


async def submit_by_staff(
    conn: asyncpg.Connection,
    caller: Caller,
    campaign_id: str,
    unit_id: str,
    given: Mapping[str, object],
    now: datetime,
    *,
    channel: str,
    seen: datetime | Unchecked | None = UNCHECKED,
    replace: bool = False,
) -> Submitted:
    """A household's answers taken by telephone or on a home visit, entered by a supervisor of the property or an
    admin: the same checks as the household's own, its `channel` (phone or visit) and who entered it recorded
    and audited. Never over the household's own answers; over answers staff entered only with `replace`; never in
    an anonymous campaign; `seen` as for a link's form."""
    found = await get_campaign(conn, caller, campaign_id, now)
    _no_staff_answers(found)
    invitation = await sql.invitation_of_unit(conn, caller.org_id, campaign_id, unit_id, lock=True)
    if invitation is None:
        raise not_invited(campaign_id, unit_id)
    campaign, template = await campaign_and_template(conn, invitation)
    mine = await sql.response_of_unit(conn, caller.org_id, campaign_id, unit_id)
    if mine is not None and mine["channel"] in OWN_CHANNELS:  # said first: no form could be right
        raise answered_by_household(mine["channel"])
    await check_seen(conn, invitation, campaign, seen)
    if channel in OWN_CHANNELS:
        channel = ""  # a household's own channel is not staff's to claim: refused as no channel
    return await take_answers(
        conn,
        invitation,
        campaign,
        template,
        given,
        now,
        channel=channel,
        owner_id=None,
        staff=StaffEntry(user_id=caller.user_id, replace=replace),
    )


async def household_answers(
    conn: asyncpg.Connection, caller: Caller, campaign_id: str, unit_id: str, now: datetime
) -> HouseholdAnswers:
    """What a supervisor or admin entering a household's answers needs: the survey, the household's answers (how
    they came and who entered them) and what staff may do now (`may`: enter, replace, or none and why)."""
    found = await get_campaign(conn, caller, campaign_id, now)
    row = await sql.household_view(conn, caller.org_id, campaign_id, unit_id)
    if row is None:
        raise not_invited(campaign_id, unit_id)
    template = await kept_version(conn, caller.org_id, row["template_version_id"])
    assert template is not None
    state = state_at(row, now)
    why = ""
    if found.anonymous:
        why = "survey_anonymous"
    elif state != "open":
        why = f"survey_{state}"
    elif row["channel"] in OWN_CHANNELS:
        why = "answered_by_household"
    may: Literal["enter", "replace", "none"] = "none" if why else "replace" if row["responded_at"] else "enter"
    form = form_of(row, template, state, can_edit=may != "none")
    if found.anonymous:  # nor when it answered (see households)
        form = msgspec.structs.replace(form, answered_at=None)
    return HouseholdAnswers(
        form=form,
        property_id=found.property_id,
        unit_id=unit_id,
        building_id=row["building_id"],
        channel=row["channel"],
        entered_by=row["entered_by"],
        entered_by_name=row["entered_by_name"],
        may=may,
        why=why,
    )


async def households(
    conn: asyncpg.Connection, caller: Caller, campaign_id: str, building_id: str, now: datetime
) -> list[Household]:
    """A building's invited households in a campaign, as people read unit numbers, each with whether it
    answered and how (an anonymous campaign: whether only)."""
    await get_campaign(conn, caller, campaign_id, now)
    rows = await sql.building_households(conn, caller.org_id, campaign_id, building_id)
    made = [msgspec.convert(dict(r), Household) for r in rows]
    return sorted(made, key=lambda h: (natural_key(h.unit_number), h.unit_id))
