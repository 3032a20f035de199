-- Evidence flags (docs/evidence.md): what the checks of inspections/evidence/ found in a photo, a checkpoint
-- visit or a round. A flag informs a supervisor; it never refuses a push nor holds up a photo.

-- The likeness hash changed with this release (sync/photos/likeness.py: signs of projections of the 20 lowest
-- frequencies, not pHash; docs/evidence.md): hashes of the old kind are as far from new ones as unrelated photos,
-- so they are cleared, and the backfill (hash_photos) hashes those photos again from their display JPEGs.
DELETE FROM photo_likeness;
UPDATE photos SET likeness = NULL WHERE likeness IS NOT NULL;

-- The second stage of the duplicate check: the cut photo as a 64×64 grey thumbnail (sync/photos/likeness.py
-- `signature`, 4,096 bytes), kept with the hash per original; NULL for originals hashed before it was kept.
ALTER TABLE photo_likeness ADD COLUMN signature bytea;

CREATE TABLE evidence_flags (
    org_id          text NOT NULL,
    id              text NOT NULL,
    property_id     text NOT NULL,
    kind            text NOT NULL CHECK (kind IN (
                        'after_same_as_before', 'reused_photo', 'time_off', 'no_capture_time', 'outside_fence',
                        'too_fast', 'round_too_short', 'scan_out_of_order')),
    -- a flag counts in the KPIs and asks for a look; a note (a photo without EXIF time) is only shown
    level           text NOT NULL DEFAULT 'flag' CHECK (level IN ('flag', 'note')),
    -- what it concerns: a photo, a checkpoint visit or a round (subject_id), and the round and order it is shown with
    subject         text NOT NULL CHECK (subject IN ('photo', 'visit', 'round')),
    subject_id      text NOT NULL,
    round_id        text,
    order_id        text,
    staff_id        text,             -- whose evidence: the photo's uploader, the visit's scanner, the round's assignee
    score           double precision NOT NULL,  -- the kind's measure (docs/evidence.md): residual, minutes, metres, km/h, share
    evidence        jsonb NOT NULL,   -- the facts behind it, for the supervisor to judge
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dismissed')),
    dismissed_by    text,
    dismissed_at    timestamptz,
    dismiss_reason  text,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id),
    CHECK (status = 'open' OR (dismissed_by IS NOT NULL AND dismissed_at IS NOT NULL AND dismiss_reason IS NOT NULL))
);
-- each kind flags a thing once: a check run again (or by two workers) finds the flag already there
CREATE UNIQUE INDEX evidence_flags_once ON evidence_flags (org_id, kind, subject_id);
CREATE INDEX evidence_flags_property ON evidence_flags (org_id, property_id, created_at);
CREATE INDEX evidence_flags_round ON evidence_flags (org_id, round_id) WHERE round_id IS NOT NULL;
CREATE INDEX evidence_flags_order ON evidence_flags (org_id, order_id) WHERE order_id IS NOT NULL;
SELECT sync_track('evidence_flags', ARRAY['property_id']);

-- What the checks are still to look at: a photo once it is ready with its hash, a round once completed. Triggers
-- put them here as that happens (whichever code path makes it so: the derivative job, a row attached to bytes
-- hashed before, the backfill; a push completing a round); the job takes them in order and deletes each as it
-- checks it, so its look-up is this small table, never an anti-join over every photo of the window.
CREATE TABLE evidence_todo (
    org_id   text NOT NULL,
    subject  text NOT NULL CHECK (subject IN ('photo', 'round')),
    id       text NOT NULL,
    since       timestamptz NOT NULL DEFAULT now(),  -- the order they are taken in
    not_before  timestamptz,  -- deferred (an after-photo whose before-photo has no signature yet) until then
    PRIMARY KEY (org_id, subject, id)
);
CREATE INDEX evidence_todo_since ON evidence_todo (since);

CREATE FUNCTION evidence_todo_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO evidence_todo (org_id, subject, id) VALUES (NEW.org_id, TG_ARGV[0], NEW.id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
-- the photos of the inspections' work (a check, a visit, an order, a round) are checked; any photo of the
-- property may be the earlier photo one of them copies
CREATE TRIGGER photos_evidence_todo AFTER UPDATE OF status, likeness ON photos FOR EACH ROW
    WHEN (NEW.status = 'ready' AND NEW.likeness IS NOT NULL
          AND (OLD.status IS DISTINCT FROM 'ready' OR OLD.likeness IS NULL)
          AND NEW.record_table IN ('check_results', 'checkpoint_visits', 'rectification_orders', 'rounds'))
    EXECUTE FUNCTION evidence_todo_add('photo');
CREATE TRIGGER rounds_evidence_todo AFTER UPDATE OF status ON rounds FOR EACH ROW
    WHEN (NEW.status = 'completed' AND OLD.status IS DISTINCT FROM 'completed')
    EXECUTE FUNCTION evidence_todo_add('round');
CREATE TRIGGER rounds_evidence_todo_new AFTER INSERT ON rounds FOR EACH ROW
    WHEN (NEW.status = 'completed')
    EXECUTE FUNCTION evidence_todo_add('round');

-- what was there before the checks: the photos of the duplicate window (90 days by default) and the rounds of
-- the last week are checked once
INSERT INTO evidence_todo (org_id, subject, id, since)
SELECT org_id, 'photo', id, received_at FROM photos
WHERE status = 'ready' AND likeness IS NOT NULL AND received_at > now() - interval '90 days'
  AND record_table IN ('check_results', 'checkpoint_visits', 'rectification_orders', 'rounds');
INSERT INTO evidence_todo (org_id, subject, id, since)
SELECT org_id, 'round', id, completed_at FROM rounds
WHERE status = 'completed' AND completed_at > now() - interval '7 days';

-- the backfill's scan of originals hashed before signatures were kept
CREATE INDEX photo_likeness_unsigned ON photo_likeness (org_id, sha256) WHERE signature IS NULL;
