-- Photo bytes: tus uploads, and what the server found in them (docs/photos.md).
--
-- A photo row syncs like any record; its bytes come over tus (/uploads) whenever the phone has signal, before or
-- after the row. Whichever arrives second attaches the upload to the photo (sync/photos/).

-- pending: the row, no bytes yet; uploaded: bytes stored and checked, derivatives to make; ready: derivatives
-- made; rejected: the bytes were refused (rejection says why), and the phone may upload again.
ALTER TABLE photos
    ADD CONSTRAINT photos_status CHECK (status IN ('pending', 'uploaded', 'ready', 'rejected')),
    ADD COLUMN sha256        text,
    ADD COLUMN size_bytes    bigint,
    ADD COLUMN captured_at   timestamptz,       -- EXIF capture time (taken_at is what the phone said)
    ADD COLUMN gps_lat       double precision,  -- EXIF GPS
    ADD COLUMN gps_lon       double precision,
    ADD COLUMN device_model  text,              -- EXIF Make + Model
    ADD COLUMN rejection     text,              -- a code (docs/photos.md); the texts below are for people
    ADD COLUMN rejection_en  text,
    ADD COLUMN rejection_zh  text,
    ADD COLUMN uploaded_at   timestamptz;
-- the derivative worker marks every photo of the same bytes at once
CREATE INDEX photos_sha256 ON photos (org_id, sha256) WHERE sha256 IS NOT NULL;
-- the sweeper's scan for photos whose derivatives were never made (a lost job)
CREATE INDEX photos_uploaded ON photos (uploaded_at) WHERE status = 'uploaded';

-- A tus upload. Its bytes are staged in a file named by the id until complete, then stored by their sha256.
CREATE TABLE uploads (
    org_id        text NOT NULL,
    id            text NOT NULL,         -- unguessable: it is the upload's URL
    uploaded_by   text NOT NULL,
    photo_id      text NOT NULL,
    length        bigint NOT NULL CHECK (length >= 0),
    received      bigint NOT NULL DEFAULT 0 CHECK (received >= 0 AND received <= length),
    metadata      jsonb NOT NULL DEFAULT '{}',  -- Upload-Metadata as sent, echoed by HEAD
    state         text NOT NULL DEFAULT 'receiving' CHECK (state IN ('receiving', 'complete', 'rejected')),
    sha256        text,
    -- what inspecting the bytes found: content type, size, EXIF (sync.photos.images.ImageFacts)
    facts         jsonb,
    rejection     text,
    rejection_en  text,
    rejection_zh  text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- a receiving upload not touched until then is removed; a finished one is forgotten then (the photo keeps
    -- its bytes)
    expires_at    timestamptz NOT NULL,
    completed_at  timestamptz,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, uploaded_by) REFERENCES users (org_id, id)
);
CREATE INDEX uploads_photo ON uploads (org_id, photo_id, completed_at DESC) WHERE state <> 'receiving';
CREATE INDEX uploads_expiry ON uploads (expires_at);
