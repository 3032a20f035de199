-- Surveys in the owners' app (docs/surveys.md): templates, campaigns and invitations sync to owners' phones,
-- answers come back through push; improvement actions for low-scoring dimensions; published results.

SELECT sync_track('survey_template_versions', ARRAY[]::text[]);
SELECT sync_track('survey_campaigns', ARRAY['property_id']);

-- scores, changes and improvement actions as owners see them once published (surveys.schemas.Published)
ALTER TABLE survey_campaigns ADD COLUMN results jsonb;

-- an invitation is a synced record: it needs an id of its own
ALTER TABLE survey_invitations ADD COLUMN id text NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', '');
CREATE UNIQUE INDEX survey_invitations_id ON survey_invitations (org_id, id);
SELECT sync_track('survey_invitations', ARRAY['unit_id']);

-- Answers written on an owner's phone, as pushed. A push rule (surveys/push_rule.py) turns each into the
-- household's row in survey_responses and records here whether it was taken.
CREATE TABLE survey_submissions (
    org_id        text NOT NULL,
    id            text NOT NULL,
    campaign_id   text NOT NULL,
    unit_id       text NOT NULL,
    submitted_by  text NOT NULL,
    answers       jsonb,  -- cleared once taken, in an anonymous campaign
    answered_at   timestamptz,
    status        text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'accepted', 'refused')),
    refusal       text,
    refusal_en    text,
    refusal_zh    text,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);
SELECT sync_track('survey_submissions', ARRAY['submitted_by']);

-- What the company does about a dimension that scored under the campaign's threshold: a rectification order
-- (kind 'order', its state follows the order) or a plain action with a person and a deadline.
CREATE TABLE survey_actions (
    org_id                 text NOT NULL,
    id                     text NOT NULL,
    campaign_id            text NOT NULL,
    property_id            text NOT NULL,
    dimension              text NOT NULL,
    kind                   text NOT NULL CHECK (kind IN ('order', 'action')),
    title_zh               text NOT NULL,
    title_en               text NOT NULL,
    responsible_id         text,
    due_at                 timestamptz NOT NULL,
    order_id               text,
    status                 text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    done_at                timestamptz,
    done_note              text,
    -- NULL until the campaign's results are published; then the property: owners see the action from then on
    published_property_id  text,
    created_by             text,
    created_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, campaign_id) REFERENCES survey_campaigns (org_id, id)
);
CREATE INDEX survey_actions_campaign ON survey_actions (org_id, campaign_id, created_at);
CREATE UNIQUE INDEX survey_actions_order ON survey_actions (org_id, order_id) WHERE order_id IS NOT NULL;
SELECT sync_track('survey_actions', ARRAY['property_id', 'published_property_id']);

-- An action that is a rectification order is done when its order is verified.
CREATE FUNCTION survey_action_follows_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE survey_actions
       SET status = CASE WHEN NEW.status = 'verified' THEN 'done' ELSE 'open' END,
           done_at = CASE WHEN NEW.status = 'verified' THEN NEW.verified_at END
     WHERE org_id = NEW.org_id AND order_id = NEW.id
       AND status IS DISTINCT FROM CASE WHEN NEW.status = 'verified' THEN 'done' ELSE 'open' END;
    RETURN NULL;
END $$;
CREATE TRIGGER rectification_orders_survey_action AFTER UPDATE OF status ON rectification_orders
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION survey_action_follows_order();

-- A closed campaign's Likert and NPS counts, kept by the workers once no answer can arrive any more: the report
-- of the campaign after it reads its changes from here instead of counting the previous campaign again.
CREATE TABLE survey_final_counts (
    org_id       text NOT NULL,
    campaign_id  text NOT NULL,
    likert       jsonb NOT NULL,  -- [[question_key, dimension, value, count]]
    nps          jsonb NOT NULL,  -- [[value or null, count]]
    counted_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, campaign_id),
    FOREIGN KEY (org_id, campaign_id) REFERENCES survey_campaigns (org_id, id)
);
CREATE INDEX survey_campaigns_closing ON survey_campaigns (closes_at);
