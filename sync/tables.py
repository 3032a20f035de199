"""What syncs: every table, column, wire type, read scope and write rule, declared once.

Anything not declared here does not exist for a device: pulls never send it, pushes naming it are refused.
A table or column carries `since`, the client schema version that added it, for WatermelonDB migration pulls.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from core.vocabulary import CATEGORIES, ROLES, SEVERITIES

# The client schema version of this declaration. Raise it when a table or column is added, and give the
# new table or column `since=<the new version>`.
SCHEMA_VERSION = 5

Kind = Literal["text", "int", "float", "bool", "time", "json"]
# The grants a caller holds, by dimension: properties (staff and supervisors: assigned; owners: of their
# units), buildings (owners: of their units), units (owners: linked), self (the caller's own user id).
Dimension = Literal["properties", "buildings", "units", "self"]


WIRE_TYPE: dict[str, str] = {
    "text": "string",
    "int": "number",
    "float": "number",
    "bool": "boolean",
    "time": "number",
    "json": "string",
}


class Column(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    kind: Kind = "text"
    # required: a push creating a record must give it (non-null)
    required: bool = False
    # writable: a device may set it; a non-writable (server-owned) column in a push is accepted and ignored
    writable: bool = True
    # immutable: set on create, a push changing it later is refused
    immutable: bool = False
    max_length: int = 2000
    choices: tuple[str, ...] = ()
    since: int = 1

    @property
    def wire_type(self) -> str:
        return WIRE_TYPE[self.kind]


class Visible(msgspec.Struct, frozen=True):
    """A row is visible when its `column` is one of the caller's grants of `dimension`."""

    column: str
    dimension: Dimension


class AnyOf(msgspec.Struct, frozen=True):
    """A row is visible when any of the rules makes it so (an order: reported by the caller, or theirs to fix)."""

    rules: tuple[Visible, ...]


# Every row of the caller's org.
ALL: Literal["all"] = "all"
Rule = Visible | AnyOf | Literal["all"]


def rule_parts(rule: Rule) -> tuple[Visible, ...]:
    """The Visible rules a rule is made of (none for "all")."""
    if isinstance(rule, Visible):
        return (rule,)
    if isinstance(rule, AnyOf):
        return rule.rules
    return ()


WriteOp = Literal["create", "update", "delete", "delete_own", "update_own"]


class Table(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    columns: tuple[Column, ...]
    # who sees which rows: role -> rule (roles absent see nothing of this table)
    read: dict[str, Rule]
    # who may push what: role -> operations. *_own: only rows whose owner_column is the caller.
    write: dict[str, tuple[WriteOp, ...]] = {}
    # a create must name the caller here; it never changes afterwards
    owner_column: str | None = None
    # scope columns the server may change on a live row (a round reassigned): each change leaves a tombstone
    # (trigger sync_moved), so the devices that no longer see the row delete it
    movable: tuple[str, ...] = ()
    since: int = 1

    def column(self, name: str) -> Column | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    @property
    def scope_columns(self) -> tuple[str, ...]:
        """The columns that decide who sees a row: kept on its tombstone when it is deleted."""
        columns = {part.column for rule in self.read.values() for part in rule_parts(rule)}
        return tuple(sorted(columns - {"id"}))


def _in_properties(column: str = "property_id") -> dict[str, Rule]:
    return {"admin": ALL, "supervisor": Visible(column, "properties"), "staff": Visible(column, "properties")}


PROPERTIES = Table(
    name="properties",
    columns=(
        Column(name="name", required=True, writable=False),
        Column(name="address", writable=False),
        Column(name="timezone", required=True, writable=False),
        Column(name="geo_lat", kind="float", writable=False),
        Column(name="geo_lon", kind="float", writable=False),
        Column(name="geo_radius_m", kind="int", writable=False),
    ),
    read={**_in_properties("id"), "owner": Visible("id", "properties")},
)

BUILDINGS = Table(
    name="buildings",
    columns=(
        Column(name="property_id", required=True, writable=False),
        Column(name="name", required=True, writable=False),
    ),
    read={**_in_properties(), "owner": Visible("id", "buildings")},
)

UNITS = Table(
    name="units",
    columns=(
        Column(name="property_id", required=True, writable=False),
        Column(name="building_id", required=True, writable=False),
        Column(name="number", required=True, writable=False),
        Column(name="floor", kind="int", writable=False),
        Column(name="area_m2", kind="float", writable=False),
    ),
    read={**_in_properties(), "owner": Visible("id", "units")},
)

# 交接班记录: what one shift leaves for the next on a property ("lift 2 rattles, engineer called").
# Anyone on the property's staff writes and resolves entries; the author or a supervisor deletes them.
HANDOVER_NOTES = Table(
    name="handover_notes",
    columns=(
        Column(name="property_id", required=True, immutable=True),
        Column(name="author_id", required=True, immutable=True),
        Column(name="body", required=True, max_length=4000),
        Column(name="status", required=True, choices=("open", "resolved")),
        Column(name="resolved_by"),
        Column(name="resolved_at", kind="time"),
        Column(name="created_at", kind="time", required=True, immutable=True),
    ),
    read=_in_properties(),
    write={
        "admin": ("create", "update", "delete"),
        "supervisor": ("create", "update", "delete"),
        "staff": ("create", "update", "delete_own"),
    },
    owner_column="author_id",
)

# A photo's metadata. Its bytes travel separately (tus, /uploads); the row never waits for them.
PHOTOS = Table(
    name="photos",
    columns=(
        Column(name="property_id", required=True, immutable=True),
        Column(
            name="record_table",
            required=True,
            immutable=True,
            choices=("handover_notes", "rounds", "checkpoint_visits", "check_results", "rectification_orders"),
        ),
        Column(name="record_id", required=True, immutable=True, max_length=64),
        Column(name="uploaded_by", required=True, immutable=True),
        Column(name="taken_at", kind="time"),
        # the type found in the bytes (what the phone declared is in the upload's metadata)
        Column(name="content_type", max_length=100, writable=False),
        Column(name="note", max_length=2000),
        # pending (no bytes yet) -> uploaded (checked) -> ready (derivatives made) | rejected (see `rejection`)
        Column(name="status", writable=False),
        Column(name="width", kind="int", writable=False),
        Column(name="height", kind="int", writable=False),
        Column(name="purpose", choices=("before", "after", "evidence", "signature"), since=2),
        # what the server found in the bytes (sync/photos/)
        Column(name="sha256", writable=False, since=4),
        Column(name="size_bytes", kind="int", writable=False, since=4),
        Column(name="captured_at", kind="time", writable=False, since=4),
        Column(name="gps_lat", kind="float", writable=False, since=4),
        Column(name="gps_lon", kind="float", writable=False, since=4),
        Column(name="device_model", writable=False, since=4),
        Column(name="rejection", writable=False, since=4),
        Column(name="rejection_en", writable=False, since=4),
        Column(name="rejection_zh", writable=False, since=4),
    ),
    read={**_in_properties(), "owner": Visible("uploaded_by", "self")},
    write={
        "admin": ("create", "update", "delete"),
        "supervisor": ("create", "update", "delete"),
        "staff": ("create", "update_own", "delete_own"),
        "owner": ("create", "update_own", "delete_own"),
    },
    owner_column="uploaded_by",
)

# --- inspections (rules beyond these: inspections/push_settlement.py) -------------------------------------------

_FIELD_STAFF: dict[str, Rule] = {"admin": ALL, "supervisor": ALL, "staff": ALL}

# A checklist as one version of it was written; items are JSON (inspections.models.Item).
TEMPLATE_VERSIONS = Table(
    name="template_versions",
    columns=(
        Column(name="template_id", required=True, writable=False),
        Column(name="version", kind="int", required=True, writable=False),
        Column(name="name_zh", required=True, writable=False),
        Column(name="name_en", required=True, writable=False),
        Column(name="category", required=True, writable=False),
        Column(name="items", kind="json", required=True, writable=False),
    ),
    read=_FIELD_STAFF,
    since=2,
)

CHECKPOINTS = Table(
    name="checkpoints",
    columns=(
        Column(name="property_id", required=True, writable=False),
        Column(name="name", required=True, writable=False),
        # sha256 (hex) of the code in the QR code or NFC tag: a phone recognises a scan without knowing the codes
        Column(name="tag_digest", required=True, writable=False),
        Column(name="building_id", writable=False),
        Column(name="location", writable=False),
        Column(name="geo_lat", kind="float", writable=False),
        Column(name="geo_lon", kind="float", writable=False),
        Column(name="active", kind="bool", writable=False),
    ),
    read=_in_properties(),
    since=2,
)

ROUTES = Table(
    name="routes",
    columns=(
        Column(name="property_id", required=True, writable=False),
        Column(name="name", required=True, writable=False),
        Column(name="stops", kind="json", required=True, writable=False),
        Column(name="tolerance_minutes", kind="int", required=True, writable=False),
        Column(name="window_start", writable=False),
        Column(name="window_end", writable=False),
        Column(name="active", kind="bool", writable=False),
    ),
    read=_in_properties(),
    since=2,
)

_FIELD_WORK: dict[str, tuple[WriteOp, ...]] = {
    "admin": ("create", "update_own"),
    "supervisor": ("create", "update_own"),
    "staff": ("create", "update_own"),
}

# A round: staff see the rounds assigned to them, supervisors all of their properties'.
ROUNDS = Table(
    name="rounds",
    columns=(
        Column(name="property_id", required=True, immutable=True),
        Column(name="template_version_id", required=True, immutable=True),
        Column(name="route_id", immutable=True),
        Column(name="assignee_id", required=True, immutable=True),
        Column(name="status", required=True, choices=("planned", "in_progress", "completed", "missed")),
        Column(name="started_at", kind="time"),
        Column(name="completed_at", kind="time"),
        Column(name="window_start", kind="time", writable=False),
        Column(name="window_end", kind="time", writable=False),
        Column(name="plan", kind="json", writable=False),
    ),
    read={"admin": ALL, "supervisor": Visible("property_id", "properties"), "staff": Visible("assignee_id", "self")},
    write=_FIELD_WORK,
    owner_column="assignee_id",
    movable=("assignee_id",),
    since=2,
)

_OWN_WORK: dict[str, Rule] = {
    "admin": ALL,
    "supervisor": Visible("property_id", "properties"),
    "staff": Visible("checked_by", "self"),
}

CHECKPOINT_VISITS = Table(
    name="checkpoint_visits",
    columns=(
        Column(name="property_id", required=True, immutable=True),
        Column(name="round_id", required=True, immutable=True),
        Column(name="checkpoint_id", required=True, immutable=True),
        Column(name="checked_by", required=True, immutable=True),
        Column(name="scanned_tag", required=True, immutable=True, max_length=200),
        Column(name="scanned_at", kind="time", required=True, immutable=True),
        Column(name="geo_lat", kind="float"),
        Column(name="geo_lon", kind="float"),
        Column(name="geo_accuracy_m", kind="float"),
        Column(name="expected_at", kind="time", writable=False),
        Column(name="timing", writable=False),
    ),
    read=_OWN_WORK,
    write=_FIELD_WORK,
    owner_column="checked_by",
    since=2,
)

CHECK_RESULTS = Table(
    name="check_results",
    columns=(
        Column(name="property_id", required=True, immutable=True),
        Column(name="round_id", required=True, immutable=True),
        Column(name="visit_id", immutable=True),
        Column(name="item_key", required=True, immutable=True, max_length=40),
        Column(name="result", choices=("pass", "fail", "na")),
        Column(name="value_number", kind="float"),
        Column(name="value_text", max_length=4000),
        Column(name="note", max_length=2000),
        Column(name="checked_by", required=True, immutable=True),
        Column(name="checked_at", kind="time", required=True),
        Column(name="checkpoint_id", writable=False),
        Column(name="template_version_id", writable=False),
        Column(name="outcome", writable=False),
    ),
    read=_OWN_WORK,
    write=_FIELD_WORK,
    owner_column="checked_by",
    since=2,
)

# 整改单. Staff see what they reported and what is theirs to fix; supervisors their properties'. A device
# moves `status` along (start, submit; a supervisor verifies or sends back), inspections.orders decides.
RECTIFICATION_ORDERS = Table(
    name="rectification_orders",
    columns=(
        Column(name="property_id", required=True, immutable=True),
        Column(
            name="source", required=True, immutable=True, choices=("check", "report", "manual", "survey", "complaint")
        ),
        Column(name="checkpoint_id", immutable=True),
        Column(name="location", immutable=True, max_length=200),
        Column(name="category", required=True, immutable=True, choices=CATEGORIES),
        Column(name="description", required=True, immutable=True, max_length=2000),
        Column(name="severity", required=True, immutable=True, choices=SEVERITIES),
        Column(name="reported_by", required=True, immutable=True),
        Column(name="status", required=True, choices=("open", "in_progress", "submitted", "verified")),
        Column(name="reject_reason", max_length=2000),
        Column(name="resolution_note", max_length=2000),
        Column(name="created_at", kind="time", required=True, immutable=True),
        Column(name="check_id", writable=False),
        Column(name="round_id", writable=False),
        Column(name="responsible_id", writable=False),
        Column(name="due_at", kind="time", writable=False),
        Column(name="started_at", kind="time", writable=False),
        Column(name="submitted_at", kind="time", writable=False),
        Column(name="submitted_by", writable=False),
        Column(name="verified_at", kind="time", writable=False),
        Column(name="verified_by", writable=False),
        Column(name="rejections", kind="int", writable=False),
    ),
    read={
        "admin": ALL,
        "supervisor": Visible("property_id", "properties"),
        "staff": AnyOf((Visible("reported_by", "self"), Visible("responsible_id", "self"))),
    },
    write={"admin": ("create", "update"), "supervisor": ("create", "update"), "staff": ("create", "update")},
    owner_column="reported_by",
    movable=("responsible_id",),
    since=2,
)

# A person's in-app notifications (core.notifications delivers them). Each user sees only their own; the
# phone may only mark one read.
_EVERYONE = ROLES

INBOX = Table(
    name="inbox",
    columns=(
        Column(name="user_id", required=True, writable=False),
        Column(name="notification_id", required=True, writable=False),
        Column(name="kind", required=True, writable=False),
        Column(name="title_zh", required=True, writable=False),
        Column(name="title_en", required=True, writable=False),
        Column(name="body_zh", writable=False),
        Column(name="body_en", writable=False),
        Column(name="property_id", writable=False),
        Column(name="record_table", writable=False),
        Column(name="record_id", writable=False),
        Column(name="created_at", kind="time", required=True, writable=False),
        Column(name="read_at", kind="time"),
    ),
    read={role: Visible("user_id", "self") for role in _EVERYONE},
    write={role: ("update_own",) for role in _EVERYONE},
    owner_column="user_id",
    since=3,
)

# --- surveys (rules beyond these: surveys/app_answers.py) ---------------------------------------------------

_SURVEY_STAFF: dict[str, Rule] = {"admin": ALL, "supervisor": Visible("property_id", "properties")}

# A survey as one version of it was written: what an owner's phone renders (surveys.models).
SURVEY_TEMPLATE_VERSIONS = Table(
    name="survey_template_versions",
    columns=(
        Column(name="template_id", required=True, writable=False),
        Column(name="version", kind="int", required=True, writable=False),
        Column(name="name_zh", required=True, writable=False),
        Column(name="name_en", required=True, writable=False),
        Column(name="dimensions", kind="json", required=True, writable=False),
        Column(name="questions", kind="json", required=True, writable=False),
        Column(name="allow_edit", kind="bool", required=True, writable=False),
    ),
    read={"admin": ALL, "supervisor": ALL, "owner": ALL},
    since=5,
)

# A property's campaigns reach its owners; `results` (scores and improvement actions) once published.
SURVEY_CAMPAIGNS = Table(
    name="survey_campaigns",
    columns=(
        Column(name="property_id", required=True, writable=False),
        Column(name="template_version_id", required=True, writable=False),
        Column(name="name_zh", required=True, writable=False),
        Column(name="name_en", required=True, writable=False),
        Column(name="opens_at", kind="time", required=True, writable=False),
        Column(name="closes_at", kind="time", required=True, writable=False),
        Column(name="anonymous", kind="bool", required=True, writable=False),
        Column(name="published_at", kind="time", writable=False),
        Column(name="results", kind="json", writable=False),
    ),
    read={**_SURVEY_STAFF, "owner": Visible("property_id", "properties")},
    since=5,
)

# A household's invitation: its owners' phones know which campaigns they may answer, and whether they have.
SURVEY_INVITATIONS = Table(
    name="survey_invitations",
    columns=(
        Column(name="campaign_id", required=True, writable=False),
        Column(name="unit_id", required=True, writable=False),
        Column(name="building_id", required=True, writable=False),
        Column(name="responded_at", kind="time", writable=False),
    ),
    read={"owner": Visible("unit_id", "units")},
    since=5,
)

# An answer written on an owner's phone. The server turns it into the household's response (the same table
# the link channel writes) and says here whether it was taken (`status`) or why not (`refusal`). In an
# anonymous campaign the answers are cleared from this row once taken.
SURVEY_SUBMISSIONS = Table(
    name="survey_submissions",
    columns=(
        Column(name="campaign_id", required=True, immutable=True),
        Column(name="unit_id", required=True, immutable=True),
        Column(name="submitted_by", required=True, immutable=True),
        Column(name="answers", kind="json", max_length=100_000),
        Column(name="answered_at", kind="time"),
        Column(name="status", writable=False),
        Column(name="refusal", writable=False),
        Column(name="refusal_en", writable=False),
        Column(name="refusal_zh", writable=False),
    ),
    read={"owner": Visible("submitted_by", "self")},
    write={"owner": ("create", "update_own")},
    owner_column="submitted_by",
    since=5,
)

# What the company does about a dimension that scored low. Owners of the property see an action once its
# campaign's results are published (`published_property_id` is NULL until then).
SURVEY_ACTIONS = Table(
    name="survey_actions",
    columns=(
        Column(name="campaign_id", required=True, writable=False),
        Column(name="property_id", required=True, writable=False),
        Column(name="dimension", required=True, writable=False),
        Column(name="kind", required=True, writable=False),
        Column(name="title_zh", required=True, writable=False),
        Column(name="title_en", required=True, writable=False),
        Column(name="due_at", kind="time", required=True, writable=False),
        Column(name="status", required=True, writable=False),
        Column(name="done_at", kind="time", writable=False),
        Column(name="published_property_id", writable=False),
    ),
    read={**_SURVEY_STAFF, "owner": Visible("published_property_id", "properties")},
    since=5,
)

# An owner meeting (业主会议). Owners of the property see it once noticed (`owner_property_id` is NULL until
# then), and the minutes and their attachments once published; the drafts live in columns declared nowhere here,
# so no pull ever sends them.
OWNER_MEETINGS = Table(
    name="owner_meetings",
    columns=(
        Column(name="property_id", required=True, writable=False),
        Column(name="title_zh", required=True, writable=False),
        Column(name="title_en", required=True, writable=False),
        Column(name="starts_at", kind="time", required=True, writable=False),
        Column(name="ends_at", kind="time", required=True, writable=False),
        Column(name="location", writable=False),
        Column(name="agenda", kind="json", writable=False),
        Column(name="status", required=True, writable=False),
        Column(name="noticed_at", kind="time", writable=False),
        Column(name="minutes_zh", writable=False),
        Column(name="minutes_en", writable=False),
        Column(name="minutes_published_at", kind="time", writable=False),
        # [{id, filename, content_type, size_bytes}]: GET /meetings/{id}/attachments/{attachment id}
        Column(name="attachments", kind="json", writable=False),
        Column(name="owner_property_id", writable=False),
    ),
    read={
        "admin": ALL,
        "supervisor": Visible("property_id", "properties"),
        "staff": Visible("property_id", "properties"),
        "owner": Visible("owner_property_id", "properties"),
    },
    since=5,
)

TABLES: tuple[Table, ...] = (
    PROPERTIES,
    BUILDINGS,
    UNITS,
    HANDOVER_NOTES,
    TEMPLATE_VERSIONS,
    CHECKPOINTS,
    ROUTES,
    ROUNDS,
    CHECKPOINT_VISITS,
    CHECK_RESULTS,
    RECTIFICATION_ORDERS,
    INBOX,
    PHOTOS,
    SURVEY_TEMPLATE_VERSIONS,
    SURVEY_CAMPAIGNS,
    SURVEY_INVITATIONS,
    SURVEY_SUBMISSIONS,
    SURVEY_ACTIONS,
    OWNER_MEETINGS,
)
BY_NAME: dict[str, Table] = {table.name: table for table in TABLES}
