-- Figures that cannot flatter (issue 14, docs/inspections.md "KPIs", docs/surveys.md "The report").

-- An order's first deadline, kept when a supervisor sends the order back with a later one: lateness is judged
-- against it. Server-side only (not declared to sync): phones show the deadline in force, `due_at`.
ALTER TABLE rectification_orders ADD COLUMN original_due_at timestamptz;
-- Orders made before this column: only a send-back moves `due_at`, and every transition's audit entry keeps the
-- deadline it found (`before.due_at`), so the first transition's is the original; an order never moved on has it.
UPDATE rectification_orders o
   SET original_due_at = coalesce(
       (SELECT (a.before ->> 'due_at')::timestamptz
          FROM audit_log a
         WHERE a.org_id = o.org_id AND a.entity = 'rectification_order' AND a.entity_id = o.id
           AND a.action <> 'rectification_order.open' AND a.before ? 'due_at'
         ORDER BY a.id
         LIMIT 1),
       o.due_at);
CREATE INDEX rectification_orders_original_due ON rectification_orders (org_id, property_id, original_due_at);

-- Every supervisor's verdict on a submitted fix, one row each (an order's own row keeps only its latest
-- submission and verification): the review delay is reviewed_at - submitted_at of each verdict, send-backs too.
CREATE TABLE rectification_reviews (
    org_id        text NOT NULL,
    order_id      text NOT NULL,
    -- 1 for an order's first verdict, n + 1 after n send-backs
    review        integer NOT NULL CHECK (review >= 1),
    property_id   text NOT NULL,
    verdict       text NOT NULL CHECK (verdict IN ('verified', 'rejected')),
    submitted_at  timestamptz NOT NULL,
    reviewed_at   timestamptz NOT NULL,
    reviewed_by   text,
    PRIMARY KEY (org_id, order_id, review),
    FOREIGN KEY (org_id, order_id) REFERENCES rectification_orders (org_id, id) ON DELETE CASCADE
);
-- covering what the KPIs read, an index-only scan (the table is only ever appended to)
CREATE INDEX rectification_reviews_property ON rectification_reviews (org_id, property_id, reviewed_at)
    INCLUDE (submitted_at, verdict, reviewed_by);

-- Verdicts given before this table: verifications from the orders themselves; send-backs from the audit trail
-- (the submission a send-back answered is the order's latest submit entry before it).
INSERT INTO rectification_reviews (org_id, order_id, review, property_id, verdict, submitted_at, reviewed_at,
                                   reviewed_by)
SELECT org_id, id, rejections + 1, property_id, 'verified', submitted_at, verified_at, verified_by
  FROM rectification_orders
 WHERE status = 'verified' AND submitted_at IS NOT NULL AND verified_at IS NOT NULL;
INSERT INTO rectification_reviews (org_id, order_id, review, property_id, verdict, submitted_at, reviewed_at,
                                   reviewed_by)
SELECT r.org_id, r.entity_id, (r.after ->> 'rejections')::int, o.property_id, 'rejected', s.submitted_at, r.at,
       r.actor_id
  FROM audit_log r
  JOIN rectification_orders o ON o.org_id = r.org_id AND o.id = r.entity_id
 CROSS JOIN LATERAL (
     SELECT (a.after ->> 'submitted_at')::timestamptz AS submitted_at
       FROM audit_log a
      WHERE a.org_id = r.org_id AND a.entity = 'rectification_order' AND a.entity_id = r.entity_id
        AND a.action = 'rectification_order.submit' AND a.id < r.id
      ORDER BY a.id DESC
      LIMIT 1
 ) s
 WHERE r.entity = 'rectification_order' AND r.action = 'rectification_order.reject'
   AND r.after ? 'rejections' AND s.submitted_at IS NOT NULL
ON CONFLICT DO NOTHING;

-- Per-household survey figures: each response's Likert total and count per dimension and over all of them
-- (dimension NULL), written with its answers (surveys/repository/campaigns.py, replace_likert), so the report counts
-- households by (dimension, total, answers) in an index-only scan instead of grouping every answer by response.
CREATE TABLE survey_household_likert (
    org_id       text NOT NULL,
    campaign_id  text NOT NULL,
    response_id  text NOT NULL,
    dimension    text,  -- NULL: the response's Likert answers to every dimension
    total        integer NOT NULL,
    answers      integer NOT NULL CHECK (answers >= 1),
    FOREIGN KEY (org_id, response_id) REFERENCES survey_responses (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX survey_household_likert_response
    ON survey_household_likert (org_id, response_id, coalesce(dimension, ''));
CREATE INDEX survey_household_likert_counts
    ON survey_household_likert (org_id, campaign_id, dimension, total, answers);
INSERT INTO survey_household_likert (org_id, campaign_id, response_id, dimension, total, answers)
SELECT org_id, campaign_id, response_id, dimension, sum(value), count(*)
  FROM survey_likert
 GROUP BY org_id, campaign_id, response_id, ROLLUP (dimension);

-- A closed campaign's household counts, kept beside its answer counts; for those kept before, counted now.
ALTER TABLE survey_final_counts ADD COLUMN households jsonb;  -- [[dimension or null (overall), total, n, households]]
UPDATE survey_final_counts f
   SET households = (
       SELECT coalesce(jsonb_agg(jsonb_build_array(dimension, total, answers, households)), '[]')
         FROM (SELECT dimension, total, answers, count(*) AS households
                 FROM survey_household_likert
                WHERE org_id = f.org_id AND campaign_id = f.campaign_id
                GROUP BY dimension, total, answers) x);
