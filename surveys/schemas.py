"""Survey shapes on the wire: template versions, campaigns, invitation links, the form an owner answers,
their answers, improvement actions and the results published to owners."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from core.structs import Frozen, Id, Instant, Name
from core.vocabulary import Category, Severity
from surveys.models import Answer, Dimension, Question
from surveys.scoring import Report

FlagBelow = Annotated[float, Meta(ge=1, le=5, description="a dimension scoring under this is flagged")]


class SurveyTemplateVersion(Frozen, frozen=True):
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


class CampaignCreate(Frozen, frozen=True):
    template_id: Id
    name_zh: Name
    name_en: Name
    opens_at: Instant
    closes_at: Instant
    anonymous: bool = False
    flag_below: FlagBelow = 4.0


class Campaign(Frozen, frozen=True):
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


class CampaignRate(Frozen, frozen=True):
    campaign: Campaign
    response_rate: float | None  # responded / invited, as the report rounds it


class InvitationLink(Frozen, frozen=True):
    """A household's link: print it, or send it by SMS. The token is the whole credential."""

    unit_id: str
    building_id: str
    token: str
    responded: bool


class SurveyForm(Frozen, frozen=True):
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
    answers: dict[str, Answer] | None = None
    # the property's IANA zone (dates are shown in it), and the household the link belongs to
    time_zone: str = "Asia/Shanghai"
    household: str = ""
    # when this household last sent its answers (None: not yet); a form sent from an older view is refused
    answered_at: datetime | None = None


class Answers(Frozen, frozen=True):
    answers: dict[str, Answer | None]


StaffChannel = Literal["phone", "visit"]


class StaffAnswers(Frozen, frozen=True):
    """A household's answers taken by telephone or on a home visit, entered by a supervisor or admin. `seen`: the
    household's `answered_at` the sender saw (null: no answer yet), to refuse answers sent from an older view;
    `replace`: over answers staff entered before (a household's own answers are never replaced)."""

    channel: StaffChannel
    answers: dict[str, Answer | None]
    seen: datetime | UnsetType | None = UNSET
    replace: bool = False


class Household(Frozen, frozen=True):
    """An invited household of a campaign and whether it answered: when, through which channel, entered by whom
    (an anonymous campaign: whether only)."""

    unit_id: str
    building_id: str
    unit_number: str
    answered: bool
    responded_at: datetime | None  # None in an anonymous campaign
    channel: str | None
    entered_by_name: str | None


class HouseholdAnswers(Frozen, frozen=True):
    """What staff entering a household's answers see: the survey and its answers (`form`), how they came, and
    what staff may do (`may`: enter, replace, none; `why` none: survey_anonymous, survey_scheduled,
    survey_closed, answered_by_household)."""

    form: SurveyForm
    property_id: str
    unit_id: str
    building_id: str
    channel: str | None
    entered_by: str | None
    entered_by_name: str | None
    may: Literal["enter", "replace", "none"]
    why: str


class Submitted(Frozen, frozen=True):
    campaign_id: str
    submitted_at: datetime
    updated: bool


# --- improvement actions and published results -------------------------------------------------------------


class ActionIn(Frozen, frozen=True):
    """One thing to do about a flagged dimension: a rectification order (kind "order": the field staff's
    lifecycle, photos and verification), or a plain action with a person and a deadline (a meeting, a
    training, a contract to renegotiate)."""

    kind: Literal["order", "action"]
    title_zh: Name
    title_en: Name
    due_at: Instant
    # a plain action needs one; an order without one goes to the property's default for its category
    responsible_id: Id | None = None
    # orders only: unset, the dimension's usual category
    category: Category | None = None
    severity: Severity = "medium"
    # the client's id for the action (and its order): a retried call makes it once
    id: Id | None = None


class ActionsCreate(Frozen, frozen=True):
    dimension: Annotated[str, Meta(min_length=1, max_length=40)]
    actions: Annotated[list[ActionIn], Meta(min_length=1, max_length=20)]


class ImprovementAction(Frozen, frozen=True):
    id: str
    campaign_id: str
    property_id: str
    dimension: str
    kind: str
    title_zh: str
    title_en: str
    responsible_id: str | None
    due_at: datetime
    order_id: str | None
    status: str  # open | done (an order's: done once verified)
    done_at: datetime | None
    done_note: str | None
    published: bool
    created_by: str | None
    created_at: datetime


class ActionDone(Frozen, frozen=True):
    note: Annotated[str, Meta(max_length=2000)] | None = None


class PublishedAction(Frozen, frozen=True):
    id: str
    dimension: str
    kind: str
    title_zh: str
    title_en: str
    due_at: datetime
    status: str


class Published(Frozen, frozen=True):
    """What the property's owners see of a closed campaign: its report (no household in it) and what the company
    will do. It is the `results` of the campaign record on owners' phones."""

    campaign_id: str
    name_zh: str
    name_en: str
    published_at: datetime
    report: Report
    actions: list[PublishedAction]
