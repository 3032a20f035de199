"""Survey shapes on the wire: template versions, campaigns, invitation links, the form an owner answers and
their answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta

from core.structs import Id, Instant, Name, Struct
from surveys.models import Dimension, Question

FlagBelow = Annotated[float, Meta(ge=1, le=5, description="a dimension scoring under this is flagged")]


class SurveyTemplateVersion(Struct, frozen=True):
    """One immutable version of a survey template (`{template}-v{n}`); campaigns keep the one they started with."""

    id: str
    template_id: str
    version: int
    name_zh: str
    name_en: str
    dimensions: list[Dimension]
    questions: list[Question]
    allow_edit: bool
    created_by: str | None
    created_at: datetime


class CampaignCreate(Struct, frozen=True):
    template_id: Id
    name_zh: Name
    name_en: Name
    opens_at: Instant
    closes_at: Instant
    anonymous: bool = False
    flag_below: FlagBelow = 4.0


class Campaign(Struct, frozen=True):
    id: str
    property_id: str
    template_version_id: str
    name_zh: str
    name_en: str
    opens_at: datetime
    closes_at: datetime
    anonymous: bool
    flag_below: float
    state: str  # scheduled | open | closed, by the clock
    invited: int
    responded: int
    published_at: datetime | None
    created_at: datetime


class InvitationLink(Struct, frozen=True):
    """A household's link: print it, or send it by SMS. The token is the whole credential."""

    unit_id: str
    building_id: str
    token: str
    responded: bool


class SurveyForm(Struct, frozen=True):
    """What an owner opening their link sees: the survey, and whether (and what) they answered."""

    campaign_id: str
    property_name: str
    name_zh: str
    name_en: str
    opens_at: datetime
    closes_at: datetime
    state: str
    anonymous: bool
    can_edit: bool
    template: SurveyTemplateVersion
    answers: dict[str, int | str | list[str]] | None = None


class Answers(Struct, frozen=True):
    answers: dict[str, int | str | list[str] | None]


class Submitted(Struct, frozen=True):
    campaign_id: str
    submitted_at: datetime
    updated: bool
