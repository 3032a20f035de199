-- Photos' likeness (sync/photos/likeness.py): a 64-bit perceptual hash, and the index that finds a property's
-- photos within a few bits of a hash (sync/photos/similar.py; docs/photos.md, "Looking up near duplicates").
--
-- The hash is a fact of the bytes: computed once per original (org, sha256) by the make_derivatives job from the
-- upright display image, kept here. Every photo row of those bytes carries a copy in photos.likeness, so that
-- the look-up's index holds the property and the time beside it; a row that attaches bytes hashed before takes
-- its copy from here as it attaches (sync/photos/repository.py, _ATTACH).
CREATE TABLE photo_likeness (
    org_id       text NOT NULL,
    sha256       text NOT NULL,
    likeness     bigint NOT NULL,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, sha256)
);

ALTER TABLE photos ADD COLUMN likeness bigint;

-- Multi-index hashing: the 64 bits in four bands of 16 (band k = bits 16k..16k+15), one index per band. Two
-- hashes at most d bits apart agree to within r_k bits on some band k whenever Σ (r_k + 1) > d (pigeonhole), so
-- a look-up probes each band's values within r_k of the hash's and checks the exact distance on what it finds.
-- The hash and the id are in the index too: candidates are filtered by distance in an index-only scan, and
-- only the matches are read from the table. received_at (the row's arrival, set by the server) bounds the
-- window of days.
CREATE INDEX photos_likeness_0 ON photos (org_id, property_id, (likeness & 65535), received_at)
    INCLUDE (likeness, id) WHERE likeness IS NOT NULL;
CREATE INDEX photos_likeness_1 ON photos (org_id, property_id, ((likeness >> 16) & 65535), received_at)
    INCLUDE (likeness, id) WHERE likeness IS NOT NULL;
CREATE INDEX photos_likeness_2 ON photos (org_id, property_id, ((likeness >> 32) & 65535), received_at)
    INCLUDE (likeness, id) WHERE likeness IS NOT NULL;
CREATE INDEX photos_likeness_3 ON photos (org_id, property_id, ((likeness >> 48) & 65535), received_at)
    INCLUDE (likeness, id) WHERE likeness IS NOT NULL;

-- the backfill's scan: photos made ready before hashes were kept (or whose copy is still to take)
CREATE INDEX photos_unhashed ON photos (org_id, sha256) WHERE status = 'ready' AND likeness IS NULL;
