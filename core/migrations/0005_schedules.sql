-- Schedules: a recurrence rule (RFC 5545 RRULE body) repeating in the local time of its property, from which
-- the worker materialises rounds, survey campaigns and owner meetings a horizon ahead (core/schedules/).

CREATE TABLE schedules (
    org_id              text NOT NULL,
    id                  text NOT NULL,
    property_id         text NOT NULL,
    kind                text NOT NULL
                        CHECK (kind IN ('inspection_round', 'survey_campaign', 'owner_meeting', 'custom')),
    name                text NOT NULL,
    rrule               text NOT NULL,
    -- the first occurrence as a wall time in the property's zone: the rule repeats in wall time across DST
    dtstart_local       timestamp without time zone NOT NULL,
    duration_minutes    integer NOT NULL CHECK (duration_minutes > 0),
    -- inspection_round: {"template_id", "route_id"?, "assignee_ids": [...]}; other kinds: {}
    payload             jsonb NOT NULL DEFAULT '{}',
    paused              boolean NOT NULL DEFAULT false,
    created_by          text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- occurrences starting before this are done (made, or recorded as missed); NULL: none yet
    materialised_until  timestamptz,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id)
);
CREATE INDEX schedules_property ON schedules (org_id, property_id, id);
-- the worker's scan across orgs: active schedules, the furthest behind first
CREATE INDEX schedules_due ON schedules (materialised_until NULLS FIRST) WHERE NOT paused;

-- One row per occurrence a worker has handled. Its key makes materialisation idempotent: the worker that
-- inserts the row makes the occurrence's round / campaign / meeting; a retry or a second worker finds it.
CREATE TABLE schedule_occurrences (
    org_id       text NOT NULL,
    schedule_id  text NOT NULL,
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL CHECK (ends_at > starts_at),
    status       text NOT NULL CHECK (status IN ('created', 'missed')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, schedule_id, starts_at),
    FOREIGN KEY (org_id, schedule_id) REFERENCES schedules (org_id, id)
);
