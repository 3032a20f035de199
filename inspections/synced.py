"""What of the inspections syncs to phones: checklists, checkpoints, routes, rounds and their visits and results,
rectification orders. What a push of these must satisfy beyond the declaration: inspections/push_settlement.py."""

from __future__ import annotations

from core.vocabulary import CATEGORIES, SEVERITIES
from sync.tables import ALL, AnyOf, Column, ReadRule, Table, Visible, WriteOp, in_properties

_FIELD_STAFF: dict[str, ReadRule] = {"admin": ALL, "supervisor": ALL, "staff": ALL}

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
    read=in_properties(),
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
    read=in_properties(),
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

_OWN_WORK: dict[str, ReadRule] = {
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
# moves `status` along (start, submit; a supervisor verifies or sends back), inspections.rectification decides.
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

# What the evidence checks found (inspections/evidence/): for a property's supervisors only, read-only on phones
# (a supervisor dismisses one through the API or the console, with a reason for the audit trail).
EVIDENCE_FLAGS = Table(
    name="evidence_flags",
    columns=(
        Column(name="property_id", required=True, writable=False),
        Column(name="kind", required=True, writable=False),
        Column(name="level", required=True, writable=False),
        Column(name="subject", required=True, writable=False),
        Column(name="subject_id", required=True, writable=False),
        Column(name="round_id", writable=False),
        Column(name="order_id", writable=False),
        Column(name="staff_id", writable=False),
        Column(name="score", kind="float", required=True, writable=False),
        Column(name="evidence", kind="json", required=True, writable=False),
        Column(name="status", required=True, writable=False),
        Column(name="dismissed_by", writable=False),
        Column(name="dismissed_at", kind="time", writable=False),
        Column(name="dismiss_reason", writable=False),
        Column(name="created_at", kind="time", required=True, writable=False),
    ),
    read={"admin": ALL, "supervisor": Visible("property_id", "properties")},
    since=7,
)

TABLES = (
    TEMPLATE_VERSIONS,
    CHECKPOINTS,
    ROUTES,
    ROUNDS,
    CHECKPOINT_VISITS,
    CHECK_RESULTS,
    RECTIFICATION_ORDERS,
    EVIDENCE_FLAGS,
)
