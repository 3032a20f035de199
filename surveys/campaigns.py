"""Survey campaigns: made for a property with an open/close window, an invitation (a link) for each household,
and one response per household, answered through the link.

A link's token is an HMAC of the campaign and unit under the server's secret: unguessable, listable again for
printing, and stored only as its sha256.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

import asyncpg
import msgspec

from core.access import Caller, found_in_scope, require_property
from core.audit.service import record
from core.errors import Conflict, FieldError, Invalid, NotFound
from core.ids import new_id
from core.structs import Page, page_of
from surveys import answers as checks
from surveys.models import CHANNELS, OWN_CHANNELS, Answer
from surveys.repository import campaigns as sql
from surveys.repository import templates as templates_sql
from surveys.schemas import (
    Campaign,
    CampaignCreate,
    CampaignRate,
    InvitationLink,
    Submitted,
    SurveyForm,
    SurveyTemplateVersion,
)
from surveys.scoring import response_rate
from surveys.templates import kept_version, version_of


class Unchecked(enum.Enum):
    UNCHECKED = "unchecked"


UNCHECKED = Unchecked.UNCHECKED


def link_token(secret: str, org_id: str, campaign_id: str, unit_id: str, generation: int = 0) -> str:
    """The household's link token; `generation`: how many times its link was revoked (0 keeps the links made
    before revoking existed exactly as they were)."""
    message = f"survey:{org_id}:{campaign_id}:{unit_id}" + (f":{generation}" if generation else "")
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def state_at(row: asyncpg.Record, now: datetime) -> str:
    return "scheduled" if now < row["opens_at"] else "open" if now < row["closes_at"] else "closed"


def campaign_of(row: asyncpg.Record, now: datetime) -> Campaign:
    return msgspec.convert({**dict(row), "state": state_at(row, now)}, Campaign)


def _missing(campaign_id: str) -> NotFound:
    return NotFound(f"campaign {campaign_id} not found", entity="campaign", id=campaign_id)


async def create_campaign(
    conn: asyncpg.Connection,
    caller: Caller | None,
    property_id: str,
    data: CampaignCreate,
    *,
    secret: str,
    now: datetime,
    org_id: str | None = None,
    occurrence_key: str | None = None,
) -> Campaign:
    """A campaign with an invitation per unit. `caller` None: the workers, for a schedule's occurrence."""
    if caller is not None:
        await require_property(conn, caller, property_id, "admin")
        org_id = caller.org_id
    assert org_id is not None
    if data.closes_at <= data.opens_at:
        raise Invalid(
            "the campaign must close after it opens", [FieldError(field="closes_at", message="after opens_at")]
        )
    template = await templates_sql.current_version(conn, org_id, data.template_id)
    if template is None:
        raise Invalid(
            f"survey template {data.template_id} not found",
            [FieldError(field="template_id", message="no such survey template")],
        )
    campaign_id = new_id()
    await sql.insert_campaign(
        conn,
        org_id,
        {
            "id": campaign_id,
            "property_id": property_id,
            "template_version_id": template["id"],
            "name_zh": data.name_zh,
            "name_en": data.name_en,
            "opens_at": data.opens_at,
            "closes_at": data.closes_at,
            "anonymous": data.anonymous,
            "flag_below": data.flag_below,
            "occurrence_key": occurrence_key,
            "created_by": caller.user_id if caller else None,
        },
    )
    await _invite(conn, secret, org_id, campaign_id, property_id, await sql.unit_ids(conn, org_id, property_id))
    row = await sql.campaign(conn, org_id, campaign_id)
    assert row is not None
    created = campaign_of(row, now)
    await record(
        conn,
        org_id=org_id,
        actor_id=caller.user_id if caller else None,
        action="campaign.create",
        entity="campaign",
        entity_id=campaign_id,
        after=created,
    )
    return created


async def _invite(
    conn: asyncpg.Connection, secret: str, org_id: str, campaign_id: str, property_id: str, units: list[str]
) -> int:
    tokens = {unit: token_sha256(link_token(secret, org_id, campaign_id, unit)) for unit in units}
    return await sql.invite_units(conn, org_id, campaign_id, property_id, tokens)


async def invite_new_units(conn: asyncpg.Connection, secret: str, now: datetime, *, limit: int = 5000) -> int:
    """Invite the households added to a property after its campaign was made, while the campaign is still to
    close (the workers, hourly); returns how many were invited."""
    todo: dict[tuple[str, str, str], list[str]] = {}
    for row in await sql.uninvited_units(conn, now, limit):
        todo.setdefault((row["org_id"], row["campaign_id"], row["property_id"]), []).append(row["unit_id"])
    return sum([await _invite(conn, secret, *campaign, units) for campaign, units in todo.items()])


async def get_campaign(conn: asyncpg.Connection, caller: Caller, campaign_id: str, now: datetime) -> Campaign:
    row = await sql.campaign(conn, caller.org_id, campaign_id)
    return campaign_of(await found_in_scope(conn, caller, row, _missing(campaign_id), "supervise"), now)


async def list_campaigns(
    conn: asyncpg.Connection, caller: Caller, property_id: str, cursor: str | None, limit: int, now: datetime
) -> Page[Campaign]:
    await require_property(conn, caller, property_id, "supervise")
    rows = await sql.property_campaigns(conn, caller.org_id, property_id, cursor, limit + 1)
    return page_of([campaign_of(r, now) for r in rows], limit)


async def recent_campaigns(
    conn: asyncpg.Connection, caller: Caller, property_id: str, now: datetime, limit: int = 100
) -> list[CampaignRate]:
    """The property's latest `limit` campaigns, the latest to open first, each with its response rate
    (supervisors of the property, admins)."""
    await require_property(conn, caller, property_id, "supervise")
    rows = await sql.recent_campaigns(conn, caller.org_id, property_id, limit)
    return [
        CampaignRate(campaign=campaign_of(r, now), response_rate=response_rate(r["responded"], r["invited"]))
        for r in rows
    ]


async def latest_closed(
    conn: asyncpg.Connection, caller: Caller, property_id: str, before: datetime, now: datetime
) -> Campaign | None:
    """The property's campaign that closed last by `before` (and by now), for its supervisors and admins: the
    satisfaction figures a report of a period ending at `before` shows."""
    await require_property(conn, caller, property_id, "supervise")
    row = await sql.latest_closed(conn, caller.org_id, property_id, min(before, now))
    return None if row is None else campaign_of(row, now)


async def campaign_for_admin(conn: asyncpg.Connection, caller: Caller, campaign_id: str, now: datetime) -> Campaign:
    """The campaign, if the caller is an admin of its property: who may see or print its households' links."""
    found = await get_campaign(conn, caller, campaign_id, now)
    await require_property(conn, caller, found.property_id, "admin")
    return found


async def invitation_links(
    conn: asyncpg.Connection, caller: Caller, campaign_id: str, *, secret: str, now: datetime
) -> list[InvitationLink]:
    """Every household's link, for printing or SMS (admins)."""
    await campaign_for_admin(conn, caller, campaign_id, now)
    return [
        InvitationLink(
            unit_id=r["unit_id"],
            building_id=r["building_id"],
            token=link_token(secret, caller.org_id, campaign_id, r["unit_id"], r["link_generation"]),
            responded=r["responded_at"] is not None,
        )
        for r in await sql.invitations(conn, caller.org_id, campaign_id)
    ]


async def revoke_link(
    conn: asyncpg.Connection, caller: Caller, campaign_id: str, unit_id: str, *, secret: str, now: datetime
) -> InvitationLink:
    """A new link for the household in place of its current one (admins): the old one stops opening the survey
    and says it was replaced (404 survey_link_revoked). Each call makes a new link; an answer given stays."""
    await campaign_for_admin(conn, caller, campaign_id, now)
    org_id = caller.org_id
    invitation = await sql.invitation_of_unit(conn, org_id, campaign_id, unit_id, lock=True)
    if invitation is None:
        raise not_invited(campaign_id, unit_id)
    old, new = invitation["link_generation"], invitation["link_generation"] + 1
    token = link_token(secret, org_id, campaign_id, unit_id, new)
    await sql.replace_link(
        conn,
        org_id,
        campaign_id,
        unit_id,
        revoked=(invitation["token_sha256"], old),
        current=(token_sha256(token), new),
        at=now,
        by=caller.user_id,
    )
    await record(
        conn,
        org_id=org_id,
        actor_id=caller.user_id,
        action="survey_link.revoke",
        entity="campaign",
        entity_id=campaign_id,
        before={"unit": unit_id, "generation": old},
        after={"unit": unit_id, "generation": new},
    )
    return InvitationLink(
        unit_id=unit_id,
        building_id=invitation["building_id"],
        token=token,
        responded=invitation["responded_at"] is not None,
    )


def not_invited(campaign_id: str, unit_id: str) -> NotFound:
    return NotFound(
        "this household is not invited to this survey / 本户不在此次调查范围内",
        entity="survey_invitation",
        campaign_id=campaign_id,
        unit_id=unit_id,
    )


# --- answering through a link -----------------------------------------------------------------------------


async def _opened(
    conn: asyncpg.Connection, token: str, *, answering: bool
) -> tuple[asyncpg.Record, asyncpg.Record, asyncpg.Record]:
    # answering locks the invitation: two answers sent at once are taken one after the other
    sha = token_sha256(token)
    invitation = await sql.invitation_by_token(conn, sha, lock=answering)
    if invitation is None:
        raise await _not_a_link(conn, sha)
    return invitation, *await campaign_and_template(conn, invitation)


async def _not_a_link(conn: asyncpg.Connection, sha: str) -> NotFound:
    """A token that opens nothing: a household's link that was replaced (survey_link_revoked), or none at all.
    Only a refusal reads the revoked links: a link that opens costs nothing more."""
    if await sql.is_revoked(conn, sha):
        return NotFound(
            "this survey link has been replaced by a new one; ask the property office for yours / "
            "此链接已作废，请向物业索取新链接",
            entity="survey_link",
            code="survey_link_revoked",
        )
    return NotFound("this survey link is not valid; ask the property office for yours / 链接无效", entity="survey_link")


async def campaign_and_template(
    conn: asyncpg.Connection, invitation: asyncpg.Record
) -> tuple[asyncpg.Record, asyncpg.Record]:
    org_id = invitation["org_id"]
    campaign = await sql.campaign(conn, org_id, invitation["campaign_id"])
    assert campaign is not None
    template = await templates_sql.version(conn, org_id, campaign["template_version_id"])
    assert template is not None
    return campaign, template


async def survey_form(conn: asyncpg.Connection, token: str, now: datetime) -> SurveyForm:
    sha = token_sha256(token)
    row = await sql.link_view(conn, sha)
    if row is None:
        raise await _not_a_link(conn, sha)
    template = await kept_version(conn, row["org_id"], row["template_version_id"])
    assert template is not None
    state = state_at(row, now)
    can_edit = state == "open" and (row["responded_at"] is None or _editable(row["anonymous"], template.allow_edit))
    return form_of(row, template, state, can_edit=can_edit)


def form_of(row: asyncpg.Record, template: SurveyTemplateVersion, state: str, *, can_edit: bool) -> SurveyForm:
    """A household's survey and its answers, from a row of surveys.repository.campaigns HOUSEHOLD_VIEW."""
    return SurveyForm(
        campaign_id=row["campaign_id"],
        property_name=row["property_name"],
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        opens_at=row["opens_at"],
        closes_at=row["closes_at"],
        state=state,
        anonymous=row["anonymous"],
        can_edit=can_edit,
        template=template,
        answers=row["answers"],
        time_zone=row["timezone"],
        household=f"{row['building_name']} {row['unit_number']}",
        answered_at=answered_at(row["responded_at"], row["answers_updated_at"]),
    )


def answered_at(responded_at: datetime | None, answers_updated_at: datetime | None) -> datetime | None:
    """When the household last sent its answers: its response's last change, or (an anonymous response, which
    nothing ties to the household) when it answered."""
    return answers_updated_at or responded_at


def _editable(anonymous: bool, allow_edit: bool) -> bool:
    # an anonymous response is tied to no unit, so there is nothing to find again and change
    return allow_edit and not anonymous


async def submit(
    conn: asyncpg.Connection,
    token: str,
    given: Mapping[str, object],
    now: datetime,
    *,
    seen: datetime | Unchecked | None = UNCHECKED,
) -> Submitted:
    """One household's answers through its link: the first, or a change while open if the template allows.
    `seen`: the `answered_at` the sender saw (None: no answer yet); answers sent from a view that is no longer
    true (a form sent twice, or changed meanwhile from another phone) are refused, and nothing is stored."""
    invitation, campaign, template = await _opened(conn, token, answering=True)
    await check_seen(conn, invitation, campaign, seen)
    return await take_answers(conn, invitation, campaign, template, given, now, channel="link", owner_id=None)


async def check_seen(
    conn: asyncpg.Connection, invitation: asyncpg.Record, campaign: asyncpg.Record, seen: datetime | Unchecked | None
) -> None:
    """Refuse answers sent from a view of the household's answers that is no longer true (`seen`: the
    `answered_at` the sender saw, None: no answer yet)."""
    if isinstance(seen, Unchecked):
        return
    mine = None
    if not campaign["anonymous"]:
        mine = await sql.response_of_unit(conn, invitation["org_id"], campaign["id"], invitation["unit_id"])
    updated = mine["updated_at"] if mine else None
    if (stored := answered_at(invitation["responded_at"], updated)) != seen:
        raise Conflict(
            "these answers were sent from an older page: this household's answers changed since "
            "/ 本页已过期：本户的答卷在此之后已提交或修改",
            code="survey_changed",
            answered_at=stored.isoformat() if stored else None,
        )


async def submit_in_app(
    conn: asyncpg.Connection,
    owner: Caller,
    campaign_id: str,
    unit_id: str,
    given: Mapping[str, object],
    now: datetime,
) -> Submitted:
    """One household's answers from an owner's phone (a synced submission): the same rules as a link's."""
    invitation = await sql.invitation_of_unit(conn, owner.org_id, campaign_id, unit_id, lock=True)
    if invitation is None:
        raise not_invited(campaign_id, unit_id)
    campaign, template = await campaign_and_template(conn, invitation)
    return await take_answers(conn, invitation, campaign, template, given, now, channel="app", owner_id=owner.user_id)


async def take_answers(
    conn: asyncpg.Connection,
    invitation: asyncpg.Record,
    campaign: asyncpg.Record,
    template: asyncpg.Record,
    given: Mapping[str, object],
    now: datetime,
    *,
    channel: str,
    owner_id: str | None,
    staff: StaffEntry | None = None,
) -> Submitted:
    """The household's answers, the first or a change. `staff`: taken by telephone or on a visit and entered by
    a supervisor or admin (never in an anonymous campaign: the caller refuses it), who may replace only answers
    staff entered, and only when they say so."""
    org_id, campaign_id, unit_id = invitation["org_id"], campaign["id"], invitation["unit_id"]
    state = state_at(campaign, now)
    if state != "open":
        raise Conflict(
            "this survey is not open: "
            + ("it has not started / 调查尚未开始" if state == "scheduled" else "it has closed / 调查已结束"),
            code=f"survey_{state}",
            state=state,
            opens_at=campaign["opens_at"].isoformat(),
            closes_at=campaign["closes_at"].isoformat(),
        )
    version = version_of(template)
    answers = _checked(version, given, channel)
    likert = checks.likert_answers(version, answers)
    nps = checks.nps_answer(version, answers)
    anonymous, updated = campaign["anonymous"], invitation["responded_at"] is not None
    entered_by = staff.user_id if staff else None
    before = None
    if updated:
        mine = None if anonymous else await sql.response_of_unit(conn, org_id, campaign_id, unit_id)
        if staff is not None:
            assert mine is not None
            _may_replace(mine, staff)
            before = {"channel": mine["channel"], "entered_by": mine["entered_by"], "answers": mine["answers"]}
        elif not _editable(campaign["anonymous"], template["allow_edit"]):
            raise Conflict(
                "this household has answered this survey already / 本户已提交过问卷",
                code="already_answered",
                responded_at=invitation["responded_at"].isoformat(),
            )
        assert mine is not None
        response_id = mine["id"]
        # a household's own change of answers staff entered makes them its own (its channel, nobody's entry)
        await sql.update_response(conn, org_id, response_id, answers, nps, now, channel=channel, entered_by=entered_by)
    else:
        response_id = new_id()
        await sql.insert_response(
            conn,
            org_id,
            {
                "id": response_id,
                "campaign_id": campaign_id,
                "property_id": campaign["property_id"],
                "building_id": invitation["building_id"],
                "unit_id": None if anonymous else unit_id,
                "answers": answers,
                "nps": nps,
                "channel": channel,
                "entered_by": entered_by,
                "submitted_by": None if anonymous else owner_id,
                "submitted_at": now,
                "updated_at": now,
            },
        )
        await sql.mark_responded(conn, org_id, campaign_id, unit_id, now)
    await sql.replace_likert(conn, org_id, campaign_id, response_id, likert)
    # the audit names the campaign, never the unit or the owner of an anonymous answer (which cannot be edited)
    if staff is not None:  # who entered what, and what it replaced
        after: dict[str, object] = {"unit": unit_id, "channel": channel, "entered_by": entered_by, "answers": answers}
        await record(
            conn,
            org_id=org_id,
            actor_id=staff.user_id,
            action=f"survey_response.{'replace' if updated else 'enter'}",
            entity="campaign",
            entity_id=campaign_id,
            before=before,
            after=after,
        )
    else:
        await record(
            conn,
            org_id=org_id,
            actor_id=None if anonymous else owner_id,
            action=f"survey_response.{'update' if updated else 'create'}",
            entity="campaign",
            entity_id=campaign_id,
            after={"unit": unit_id} if updated else {"channel": channel, **({} if anonymous else {"unit": unit_id})},
        )
    return Submitted(campaign_id=campaign_id, submitted_at=now, updated=updated)


def _checked(version: SurveyTemplateVersion, given: Mapping[str, object], channel: str) -> dict[str, Answer]:
    """The normalised answers, or Invalid naming every problem: the answers', and a missing or unknown channel."""
    problems = []
    if channel not in CHANNELS:
        problems.append(
            FieldError(
                field="channel",
                message="choose how the answers were taken: phone or visit / 请选择答卷方式：电话或上门",
            )
        )
    try:
        answers = checks.check_answers(version, given)
    except Invalid as invalid:
        raise Invalid(invalid.detail, [*problems, *invalid.errors]) from None
    if problems:
        raise Invalid("the answers are not valid / 答卷有误", problems)
    return answers


def answered_by_household(channel: str) -> Conflict:
    return Conflict(
        "this household answered the survey itself; staff cannot overwrite a household's own answers / "
        "本户已自行作答，工作人员不能覆盖业主本人的答卷",
        code="answered_by_household",
        channel=channel,
    )


def _may_replace(mine: asyncpg.Record, staff: StaffEntry) -> None:
    """Staff replace only answers staff entered, and only when they say so: a household's own answers (its link,
    the app) are never overwritten by staff."""
    if mine["channel"] in OWN_CHANNELS:
        raise answered_by_household(mine["channel"])
    if not staff.replace:
        raise Conflict(
            "this household's answers were entered by staff already; say replace to correct them / "
            "本户答卷已由工作人员录入；如需更正，请选择“替换”",
            code="already_answered",
            channel=mine["channel"],
        )


class StaffEntry(msgspec.Struct, frozen=True, kw_only=True):
    """Answers taken by telephone or on a visit, entered by `user_id` (surveys/staff_answers.py); `replace`: over
    answers staff entered before."""

    user_id: str
    replace: bool = False
