"""What of the service desk syncs: the tickets and their timelines. Owners see their households' tickets and those
they filed, and of the timeline only what is meant for them; staff, supervisors and admins the tickets of their
properties. A phone files a ticket by creating its row, and asks for a step (an owner confirming, disputing or
rating; an engineer arriving or resolving in a basement) by creating an event: servicedesk/push.py applies it."""

from __future__ import annotations

from core.vocabulary import CATEGORIES
from servicedesk.models import ACTIONS, CHANNELS, KINDS
from sync.tables import ALL, AnyOf, Column, Table, Visible, in_properties

VERSION = 6  # the client schema version that added the service desk


def _server(name: str, kind: str = "text") -> Column:
    return Column(name=name, kind=kind, writable=False)  # type: ignore[arg-type]


TICKETS = Table(
    name="tickets",
    columns=(
        Column(name="property_id", required=True, immutable=True),
        Column(name="kind", required=True, immutable=True, choices=KINDS),
        Column(name="category", required=True, immutable=True, choices=CATEGORIES),
        # the server's: owners' phones file as `app`, staff's as `round`
        Column(name="channel", choices=CHANNELS, writable=False),
        Column(name="unit_id", immutable=True),
        Column(name="building_id", immutable=True),
        Column(name="location", max_length=500),
        Column(name="gps_lat", kind="float"),
        Column(name="gps_lon", kind="float"),
        Column(name="reported_by", required=True, immutable=True),
        Column(name="caller_name", max_length=200),
        Column(name="caller_phone", max_length=20),
        Column(name="occurred_at", kind="time"),
        Column(name="description", required=True, max_length=4000),
        Column(name="request", max_length=2000),
        Column(name="created_at", kind="time", required=True, immutable=True),
        _server("status"),
        _server("decline_reason"),
        _server("duplicate_of"),
        _server("accepted_at", "time"),
        _server("responsible_id"),
        _server("respond_due_at", "time"),
        _server("respond_due_original", "time"),
        _server("resolve_due_at", "time"),
        _server("resolve_due_original", "time"),
        _server("responded_at", "time"),
        _server("resolved_at", "time"),
        _server("resolution_note"),
        _server("confirmed_at", "time"),
        _server("confirmed_via"),
        _server("reopens", "int"),
        _server("visit_due_at", "time"),
        _server("visited_at", "time"),
        _server("visit_rating", "int"),
        _server("visit_comment"),
        _server("closed_at", "time"),
        _server("received_at", "time"),
    ),
    read={**in_properties(), "owner": AnyOf((Visible("unit_id", "units"), Visible("reported_by", "self")))},
    write={role: ("create",) for role in ("admin", "supervisor", "staff", "owner")},
    owner_column="reported_by",
    since=VERSION,
)

TICKET_EVENTS = Table(
    name="ticket_events",
    columns=(
        Column(name="ticket_id", required=True, immutable=True),
        Column(name="property_id", required=True, immutable=True),
        Column(name="action", required=True, immutable=True, choices=ACTIONS),
        Column(name="body", immutable=True, max_length=4000),
        Column(name="rating", kind="int", immutable=True),
        # staff notes: false keeps one from the owners (an owner's are always public)
        Column(name="public", kind="bool", immutable=True),
        # a visit's channel, a step's deadline and assignee: {"channel", "which", "due_at", "assignee_id", …}
        Column(name="data", kind="json", immutable=True, max_length=2000),
        Column(name="actor_id", required=True, immutable=True),
        Column(name="created_at", kind="time", required=True, immutable=True),
        _server("status_before"),
        _server("status_after"),
        # pending (just pushed) -> applied | refused (refusal_en / refusal_zh say why)
        _server("outcome"),
        _server("refusal_en"),
        _server("refusal_zh"),
        _server("owner_unit_id"),
        _server("owner_user_id"),
    ),
    read={
        "admin": ALL,
        "supervisor": Visible("property_id", "properties"),
        "staff": Visible("property_id", "properties"),
        "owner": AnyOf(
            (Visible("owner_unit_id", "units"), Visible("owner_user_id", "self"), Visible("actor_id", "self"))
        ),
    },
    write={role: ("create",) for role in ("admin", "supervisor", "staff", "owner")},
    owner_column="actor_id",
    since=VERSION,
)

TABLES = (TICKETS, TICKET_EVENTS)
