-- A household's survey link can be revoked and replaced (docs/surveys.md, "Revoking a link"). The link's token is
-- an HMAC of the campaign and unit, and of the generation when it is not 0 (surveys/campaigns.py link_token), so
-- every link made so far stays exactly as it was; a revocation moves the invitation to the next generation.
ALTER TABLE survey_invitations ADD COLUMN link_generation integer NOT NULL DEFAULT 0 CHECK (link_generation >= 0);

-- The sha256 of every token revoked, so that opening one says it was replaced (survey_link_revoked) instead of
-- that it is unknown. Looked up by the hash alone, across orgs, as the live tokens are.
CREATE TABLE survey_revoked_links (
    token_sha256  text PRIMARY KEY,
    org_id        text NOT NULL,
    campaign_id   text NOT NULL,
    unit_id       text NOT NULL,
    generation    integer NOT NULL,
    revoked_at    timestamptz NOT NULL,
    revoked_by    text,
    FOREIGN KEY (org_id, campaign_id, unit_id) REFERENCES survey_invitations (org_id, campaign_id, unit_id)
);
