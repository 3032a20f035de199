"""What of the owner meetings syncs."""

from __future__ import annotations

from sync.tables import ALL, Column, Table, Visible

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
        Column(name="cancelled_at", kind="time", writable=False, since=6),
        Column(name="cancel_reason", writable=False, since=6),
    ),
    read={
        "admin": ALL,
        "supervisor": Visible("property_id", "properties"),
        "staff": Visible("property_id", "properties"),
        "owner": Visible("owner_property_id", "properties"),
    },
    since=5,
)

TABLES = (OWNER_MEETINGS,)
