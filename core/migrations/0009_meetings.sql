-- Owner meetings (业主会议, docs/meetings.md): one per property per quarter, noticed to the property's owners,
-- attendance by household, minutes drafted by staff and published to the owners with their attachments.

CREATE TABLE owner_meetings (
    org_id                text NOT NULL,
    id                    text NOT NULL,
    property_id           text NOT NULL,
    -- the quarter of starts_at in the property's time zone: one meeting per property per quarter
    quarter               text NOT NULL CHECK (quarter ~ '^[0-9]{4}Q[1-4]$'),
    title_zh              text NOT NULL,
    title_en              text NOT NULL,
    starts_at             timestamptz NOT NULL,
    ends_at               timestamptz NOT NULL CHECK (ends_at > starts_at),
    location              text,
    agenda                jsonb NOT NULL DEFAULT '[]',  -- [{title_zh, title_en, note}] (surveys.meeting_schemas)
    status                text NOT NULL DEFAULT 'planned'
                          CHECK (status IN ('planned', 'noticed', 'held', 'cancelled')),
    noticed_at            timestamptz,
    -- staff-only drafts: never declared to sync, so no pull ever sends them
    minutes_draft_zh      text,
    minutes_draft_en      text,
    -- the published copy, NULL until published: what owners read
    minutes_zh            text,
    minutes_en            text,
    minutes_published_at  timestamptz,
    attachments           jsonb,  -- [{id, filename, content_type, size_bytes}] as published
    -- NULL until the notice is sent, then the property: owners see the meeting through sync from then on
    owner_property_id     text CHECK (owner_property_id IS NULL OR owner_property_id = property_id),
    -- the schedule occurrence that made it (schedule id and start), so a retried tick makes it once
    occurrence_key        text,
    created_by            text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, property_id, quarter),
    UNIQUE (org_id, occurrence_key),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id)
);
CREATE INDEX owner_meetings_property ON owner_meetings (org_id, property_id, starts_at DESC, id DESC);
SELECT sync_track('owner_meetings', ARRAY['owner_property_id', 'property_id']);

-- Who came, by household: present in person or through a proxy (委托代理人).
CREATE TABLE meeting_attendance (
    org_id       text NOT NULL,
    meeting_id   text NOT NULL,
    unit_id      text NOT NULL,
    present      boolean NOT NULL,
    proxy_name   text,
    recorded_by  text,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, meeting_id, unit_id),
    FOREIGN KEY (org_id, meeting_id) REFERENCES owner_meetings (org_id, id),
    FOREIGN KEY (org_id, unit_id) REFERENCES units (org_id, id)
);

-- Files of the minutes. Their bytes live in the blob store under store_key; owners may fetch one once it is in
-- the meeting's published `attachments`.
CREATE TABLE meeting_attachments (
    org_id        text NOT NULL,
    id            text NOT NULL,
    meeting_id    text NOT NULL,
    filename      text NOT NULL,
    content_type  text NOT NULL,
    size_bytes    bigint NOT NULL CHECK (size_bytes >= 0),
    sha256        text NOT NULL,
    store_key     text NOT NULL,
    uploaded_by   text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, meeting_id) REFERENCES owner_meetings (org_id, id)
);
CREATE INDEX meeting_attachments_meeting ON meeting_attachments (org_id, meeting_id, created_at);
