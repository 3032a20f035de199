-- Owner satisfaction surveys: templates with immutable versions, campaigns per property with an open/close
-- window, an invitation per unit (household), one response per unit per campaign (docs/surveys.md).

CREATE TABLE survey_templates (
    org_id           text NOT NULL REFERENCES orgs (org_id),
    id               text NOT NULL,
    current_version  integer NOT NULL DEFAULT 1,
    archived         boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);

-- An edit of a template makes a new version; a campaign keeps the version it started with.
CREATE TABLE survey_template_versions (
    org_id       text NOT NULL,
    id           text NOT NULL,
    template_id  text NOT NULL,
    version      integer NOT NULL CHECK (version >= 1),
    name_zh      text NOT NULL,
    name_en      text NOT NULL,
    dimensions   jsonb NOT NULL,  -- [{key, name_zh, name_en}] (surveys.models.Dimension)
    questions    jsonb NOT NULL,  -- [Question] (surveys.models, a tagged union on "type")
    allow_edit   boolean NOT NULL DEFAULT false,
    created_by   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, template_id, version),
    FOREIGN KEY (org_id, template_id) REFERENCES survey_templates (org_id, id)
);
CREATE TRIGGER survey_template_versions_immutable BEFORE UPDATE ON survey_template_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TABLE survey_campaigns (
    org_id               text NOT NULL,
    id                   text NOT NULL,
    property_id          text NOT NULL,
    template_version_id  text NOT NULL,
    name_zh              text NOT NULL,
    name_en              text NOT NULL,
    opens_at             timestamptz NOT NULL,
    closes_at            timestamptz NOT NULL CHECK (closes_at > opens_at),
    -- responses cannot be tied to a unit in reports or exports; one per unit still holds (invitations)
    anonymous            boolean NOT NULL DEFAULT false,
    -- a dimension scoring under this is flagged for improvement actions
    flag_below           numeric(3, 2) NOT NULL DEFAULT 4.00 CHECK (flag_below BETWEEN 1 AND 5),
    -- the schedule occurrence that made it (schedule id and start), so a retried tick makes it once
    occurrence_key       text,
    published_at         timestamptz,
    created_by           text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, occurrence_key),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id),
    FOREIGN KEY (org_id, template_version_id) REFERENCES survey_template_versions (org_id, id)
);
CREATE INDEX survey_campaigns_property ON survey_campaigns (org_id, property_id, opens_at DESC);

-- One per unit of the property when the campaign is made. The link's token is derived from the server's
-- secret (so it can be listed again) and found by its sha256 (so the table alone gives no link away).
CREATE TABLE survey_invitations (
    org_id        text NOT NULL,
    campaign_id   text NOT NULL,
    unit_id       text NOT NULL,
    building_id   text NOT NULL,
    token_sha256  text NOT NULL UNIQUE,
    responded_at  timestamptz,
    reminded_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, campaign_id, unit_id),
    FOREIGN KEY (org_id, campaign_id) REFERENCES survey_campaigns (org_id, id),
    FOREIGN KEY (org_id, unit_id) REFERENCES units (org_id, id)
);
CREATE INDEX survey_invitations_building ON survey_invitations (org_id, campaign_id, building_id);

-- A household's answers. unit_id is NULL in an anonymous campaign: its invitation's responded_at is what
-- keeps one response per unit there.
CREATE TABLE survey_responses (
    org_id        text NOT NULL,
    id            text NOT NULL,
    campaign_id   text NOT NULL,
    property_id   text NOT NULL,
    building_id   text NOT NULL,
    unit_id       text,
    answers       jsonb NOT NULL,
    nps           smallint CHECK (nps BETWEEN 0 AND 10),
    channel       text NOT NULL CHECK (channel IN ('app', 'link')),
    submitted_by  text,  -- the owner's user id through the app (NULL when anonymous or by link)
    submitted_at  timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, campaign_id, unit_id),
    FOREIGN KEY (org_id, campaign_id) REFERENCES survey_campaigns (org_id, id)
);
CREATE INDEX survey_responses_campaign ON survey_responses (org_id, campaign_id, building_id);

-- The Likert answers of each response, one row each, for the report's counts (an index-only GROUP BY).
CREATE TABLE survey_likert (
    org_id        text NOT NULL,
    campaign_id   text NOT NULL,
    response_id   text NOT NULL,
    question_key  text NOT NULL,
    dimension     text NOT NULL,
    value         smallint NOT NULL CHECK (value BETWEEN 1 AND 5),
    PRIMARY KEY (org_id, response_id, question_key),
    FOREIGN KEY (org_id, response_id) REFERENCES survey_responses (org_id, id) ON DELETE CASCADE
);
CREATE INDEX survey_likert_counts ON survey_likert (org_id, campaign_id, question_key, dimension, value);
