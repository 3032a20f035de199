"""What of the surveys syncs: templates, campaigns, households' invitations, answers from the app (taken by
surveys/app_answers.py) and improvement actions."""

from __future__ import annotations

from sync.tables import ALL, Column, ReadRule, Table, Visible

_SURVEY_STAFF: dict[str, ReadRule] = {"admin": ALL, "supervisor": Visible("property_id", "properties")}

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

TABLES = (SURVEY_TEMPLATE_VERSIONS, SURVEY_CAMPAIGNS, SURVEY_INVITATIONS, SURVEY_SUBMISSIONS, SURVEY_ACTIONS)
