-- Answers taken by telephone or on a home visit and entered by a supervisor or admin (docs/surveys.md, "Answers
-- entered by staff"): a response's channel may be 'phone' or 'visit' besides the household's own 'link' and
-- 'app', and such a response names who entered it. A household's own answer names nobody here (an app answer's
-- owner is in submitted_by), so a staff channel and entered_by go together.
ALTER TABLE survey_responses DROP CONSTRAINT survey_responses_channel_check;
ALTER TABLE survey_responses ADD CONSTRAINT survey_responses_channel_check
    CHECK (channel IN ('app', 'link', 'phone', 'visit'));
ALTER TABLE survey_responses ADD COLUMN entered_by text;
ALTER TABLE survey_responses ADD CONSTRAINT survey_responses_entered_by_fkey
    FOREIGN KEY (org_id, entered_by) REFERENCES users (org_id, id);
ALTER TABLE survey_responses ADD CONSTRAINT survey_responses_entered_by_staff
    CHECK ((channel IN ('phone', 'visit')) = (entered_by IS NOT NULL));
