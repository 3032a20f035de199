"""The shapes of the service desk (工单): a ticket, where it stands, and the words of its lifecycle. Wire-only
shapes (Create / Out / action bodies) live in schemas.py."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from core.structs import Frozen
from core.vocabulary import Category

Kind = Literal["repair", "complaint", "suggestion", "praise", "enquiry"]
KINDS: tuple[Kind, ...] = get_args(Kind)
# how it came in: the owner app (sync), the household's web page, the front desk, the hotline, staff on a round
Channel = Literal["app", "web", "front_desk", "hotline", "round"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)
Status = Literal["received", "accepted", "declined", "assigned", "responded", "resolved", "confirmed", "closed"]
STATUSES: tuple[Status, ...] = get_args(Status)
Action = Literal[
    "accept", "decline", "assign", "respond", "resolve", "confirm", "dispute", "visit", "close", "extend", "note"
]
ACTIONS: tuple[Action, ...] = get_args(Action)
# the steps a phone may ask for by pushing a ticket event (filing is the ticket row itself)
Confirmation = Literal["owner", "staff", "auto"]
VisitChannel = Literal["app", "web", "phone", "in_person"]
Which = Literal["respond", "resolve"]


class Ticket(Frozen, frozen=True):
    """A ticket as stored (the columns of `tickets` the rules read)."""

    id: str
    org_id: str
    property_id: str
    kind: Kind
    category: Category
    channel: Channel
    reported_by: str
    description: str
    status: Status
    received_at: datetime
    unit_id: str | None = None
    building_id: str | None = None
    location: str | None = None
    responsible_id: str | None = None
    respond_due_at: datetime | None = None
    resolve_due_at: datetime | None = None
    respond_due_original: datetime | None = None
    resolve_due_original: datetime | None = None
    responded_at: datetime | None = None
    resolved_at: datetime | None = None
    reopens: int = 0
